"""A built-in carrier for the demo and development: polled like a real one, moves in minutes.

Each parcel's journey is fixed by its tracking number (a seeded RNG): origin depot, sorting hub,
the destination's delivery office, whether it hits an exception (weather, a breakdown, a missed
trunk connection) and whether its ETA slips. How far along it is depends only on the time since
it shipped, scaled so the whole journey takes ``CARRIER_SIMULATED_JOURNEY_MINUTES``. Every poll
returns all checkpoints reached so far; stored ones are replays and change nothing.
"""
import hashlib
import random
import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.conf import settings
from django.utils import timezone

from orders.models import TrackingStatus as T
from orders.services import TrackingUpdate

from .base import CarrierAdapter

DEPOTS = ["Bristol", "Leeds", "Nottingham", "Cardiff", "Southampton", "Norwich", "Sheffield", "Newcastle upon Tyne",
          "Edinburgh", "Exeter", "Milton Keynes", "Reading"]
HUBS = ["Birmingham", "Warrington", "Daventry", "Coventry", "Manchester", "Doncaster", "Glasgow", "Northampton"]
EXCEPTIONS = [
    "Delayed by severe weather at the {hub} hub",
    "Delayed: the delivery vehicle broke down near {hub}",
    "Missed its trunk connection at the {hub} hub",
    "Held at the {hub} hub: label could not be scanned, relabelled",
]
RETURNED = ["Returned to sender: the address could not be found",
            "Returned to sender: nobody was in after three attempts and the parcel was not collected"]
# Of the parcels that hit an exception, the share that ends up back at the shop.
RETURN_SHARE = 0.3
DELIVERED = ["Delivered and signed for by the resident", "Delivered to your safe place (front porch)",
             "Delivered to your neighbour", "Delivered through the letterbox"]


@dataclass(frozen=True)
class Step:
    key: str
    at: float  # fraction of the journey time after shipping
    status: str
    message: str
    location: str
    eta_slip_days: int = 0  # >0: the ETA moves this many days later from here on


def journey(tracking_number: str, destination: str = "") -> list[Step]:
    """The whole route of one parcel, the same every time for the same tracking number."""
    rng = random.Random(hashlib.sha256(tracking_number.encode()).hexdigest())
    depot = rng.choice(DEPOTS)
    hub = rng.choice(HUBS)
    # Always drawn, so the rest of the journey depends on the tracking number alone.
    fallback_destination = rng.choice([c for c in DEPOTS if c != depot])
    destination = destination or fallback_destination
    has_exception = rng.random() < 0.25
    slips = has_exception or rng.random() < 0.2
    delay = 0.15 if has_exception else 0.0

    def jitter(base: float) -> float:
        return base + rng.uniform(0, 0.05)

    steps = [
        Step("label", 0.0, T.LABEL_CREATED, "Label created, awaiting collection", depot),
        Step("collected", jitter(0.10), T.IN_TRANSIT, "Collected by the courier", depot),
        Step("hub-in", jitter(0.25), T.IN_TRANSIT, "Arrived at the sorting hub", f"{hub} hub"),
    ]
    if has_exception:
        steps.append(Step("exception", jitter(0.38), T.EXCEPTION, rng.choice(EXCEPTIONS).format(hub=hub),
                          f"{hub} hub", eta_slip_days=rng.choice([1, 1, 2])))
    elif slips:
        steps.append(Step("late", jitter(0.38), T.IN_TRANSIT, "Running late: sorting at the hub took longer "
                          "than planned", f"{hub} hub", eta_slip_days=1))
    steps += [
        Step("hub-out", jitter(0.45) + delay, T.IN_TRANSIT, "Departed the sorting hub", f"{hub} hub"),
        Step("office", jitter(0.62) + delay, T.IN_TRANSIT, "Arrived at the local delivery office",
             f"{destination} delivery office"),
        Step("out", jitter(0.80) + delay, T.OUT_FOR_DELIVERY, "Out for delivery: expected today", destination),
        Step("delivered", 1.0 + delay, T.DELIVERED, rng.choice(DELIVERED), destination),
    ]
    # Drawn last, so every other parcel's journey is the same as before: now and then a delivery
    # attempt fails for good and the parcel goes back to the shop (returned to sender).
    if has_exception and rng.random() < RETURN_SHARE:
        steps[-1] = Step("returned", 1.0 + delay, T.RETURNED, rng.choice(RETURNED), destination)
    return steps


def journey_duration() -> timedelta:
    return timedelta(minutes=float(settings.CARRIER_SIMULATED_JOURNEY_MINUTES))


def new_tracking_number() -> str:
    """A fresh simulated tracking number in the Royal Mail shape (two letters, nine digits, GB)."""
    return f"SM{secrets.randbelow(10**9):09d}GB"


def checkpoints_due(tracking_number: str, *, shipped_at: datetime, now: datetime, base_eta: date,
                    destination: str = "") -> list[TrackingUpdate]:
    """The checkpoints reached by ``now``; ``base_eta`` is the estimate the journey started from."""
    duration = journey_duration()
    slip = 0
    updates = []
    for step in journey(tracking_number, destination):
        occurred_at = shipped_at + duration * step.at
        if occurred_at > now:
            break
        eta, raw = None, {"step": step.key}
        if step.key == "label":
            eta = base_eta
            raw["base_eta"] = base_eta.isoformat()
        if step.eta_slip_days:
            slip += step.eta_slip_days
            eta = base_eta + timedelta(days=slip)
        updates.append(TrackingUpdate(
            dedupe_key=label_key(tracking_number, step.key), status=step.status, occurred_at=occurred_at,
            message=step.message, location=step.location, eta=eta, raw=raw,
        ))
    return updates


def label_key(tracking_number: str, step_key: str = "label") -> str:
    return f"simulated:{tracking_number}:{step_key}"


class SimulatedCarrier(CarrierAdapter):
    code = "simulated"
    name = "Simulated carrier"
    pollable = True

    @property
    def poll_interval(self) -> timedelta:
        return timedelta(seconds=settings.CARRIER_SIMULATED_POLL_SECONDS)

    def poll(self, tracking_number: str, *, shipment=None) -> list[TrackingUpdate]:
        from orders.models import Shipment, TrackingEvent

        if shipment is None:
            shipment = (Shipment.objects.select_related("order")
                        .filter(carrier=self.code, tracking_number=tracking_number).first())
            if shipment is None:
                return []  # not a parcel we ever shipped
        # The first estimate is kept on the label checkpoint, so later slips count from it, not from each other.
        label = TrackingEvent.objects.filter(shipment=shipment, dedupe_key=label_key(tracking_number)).first()
        if label and label.raw.get("base_eta"):
            base_eta = date.fromisoformat(label.raw["base_eta"])
        else:
            base_eta = (shipment.eta or shipment.order.estimated_delivery
                        or (shipment.shipped_at + timedelta(days=2)).date())
        return checkpoints_due(tracking_number, shipped_at=shipment.shipped_at, now=timezone.now(),
                               base_eta=base_eta, destination=shipment.order.shipping_city)
