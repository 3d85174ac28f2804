"""Shared by the carrier and tracking tests: a shipped order, a signal recorder, real-shaped payloads.

The payloads follow the carriers' public documentation: EasyPost's Event object wrapping a
Tracker (``tracking_details`` with ``tracking_location``), AfterShip's tracking webhook
(``event``, ``event_id``, ``msg`` with ``checkpoints``, ``ts``).
"""
import json
import uuid
from datetime import date, datetime, timedelta
from datetime import timezone as dt_timezone

import pytest

from orders import signals
from orders.models import OrderStatus
from orders.services import order_transition, shipment_create

EASYPOST_SECRET = "whsec_test_ëasypost"  # non-ASCII on purpose: EasyPost NFKD-normalises the secret
AFTERSHIP_SECRET = "aftership-test-secret"


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=dt_timezone.utc)


def iso(dt: datetime) -> str:
    return dt.astimezone(dt_timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def ship(order, *, carrier="easypost", tracking_number="EZ1000000001", eta: date | None = None, carrier_name=""):
    if order.status == OrderStatus.PENDING:
        order_transition(order=order, to=OrderStatus.PROCESSING, actor="system")
    return shipment_create(order=order, carrier=carrier, tracking_number=tracking_number, eta=eta,
                           carrier_name=carrier_name)


class SignalLog:
    def __init__(self):
        self.status: list[dict] = []
        self.eta: list[dict] = []

    def _status(self, sender, **kwargs):
        self.status.append(kwargs)

    def _eta(self, sender, **kwargs):
        self.eta.append(kwargs)

    @property
    def transitions(self) -> list[tuple[str, str]]:
        return [(c["from_status"], c["to_status"]) for c in self.status]


@pytest.fixture
def signal_log():
    log = SignalLog()
    signals.shipment_status_changed.connect(log._status, weak=False)
    signals.shipment_eta_changed.connect(log._eta, weak=False)
    yield log
    signals.shipment_status_changed.disconnect(log._status)
    signals.shipment_eta_changed.disconnect(log._eta)


@pytest.fixture
def carrier_secrets(settings):
    settings.EASYPOST_WEBHOOK_SECRET = EASYPOST_SECRET
    settings.AFTERSHIP_WEBHOOK_SECRET = AFTERSHIP_SECRET
    return settings


# --- EasyPost -------------------------------------------------------------------------------

def easypost_detail(status: str, when: datetime, message: str, city="", state="", country="US", zip_code=""):
    return {
        "object": "TrackingDetail",
        "message": message,
        "description": "",
        "status": status,
        "status_detail": "status_update",
        "datetime": iso(when),
        "source": "USPS",
        "carrier_code": "",
        "tracking_location": {"object": "TrackingLocation", "city": city or None, "state": state or None,
                              "country": country or None, "zip": zip_code or None},
    }


def easypost_event(tracking_code: str, details: list[dict], *, status: str, est_delivery: datetime | None = None,
                   event_id: str | None = None, description="tracker.updated", carrier="USPS",
                   updated_at: datetime | None = None) -> dict:
    updated_at = updated_at or (utc(2030, 1, 1) if not details else
                                max(datetime.fromisoformat(d["datetime"].replace("Z", "+00:00")) for d in details))
    return {
        "object": "Event",
        "id": event_id or f"evt_{uuid.uuid4().hex}",
        "mode": "test",
        "description": description,
        "previous_attributes": {"status": "pre_transit"},
        "pending_urls": ["https://example.com/easypost-webhook"],
        "completed_urls": [],
        "user_id": "user_060ab38db3c04ffaa60f262e5781a9be",
        "status": "pending",
        "created_at": iso(updated_at),
        "updated_at": iso(updated_at),
        "result": {
            "id": f"trk_{tracking_code.lower()}",
            "object": "Tracker",
            "mode": "test",
            "tracking_code": tracking_code,
            "status": status,
            "status_detail": "arrived_at_facility",
            "created_at": iso(updated_at - timedelta(days=1)),
            "updated_at": iso(updated_at),
            "signed_by": None,
            "weight": None,
            "est_delivery_date": iso(est_delivery) if est_delivery else None,
            "shipment_id": None,
            "carrier": carrier,
            "tracking_details": details,
            "carrier_detail": {"object": "CarrierDetail", "service": "First-Class Package Service",
                               "container_type": None, "est_delivery_date_local": None,
                               "est_delivery_time_local": None},
            "finalized": status in ("delivered", "return_to_sender"),
            "is_return": False,
            "public_url": f"https://track.easypost.com/djE6dHJrXzEyMzQ{tracking_code}",
            "fees": [],
        },
    }


def post_easypost(client, event: dict | bytes, *, secret: str | None = EASYPOST_SECRET, signature: str | None = None):
    from orders.carriers.easypost import sign

    body = event if isinstance(event, bytes) else json.dumps(event).encode()
    headers = {}
    if signature is not None:
        headers["HTTP_X_HMAC_SIGNATURE"] = signature
    elif secret is not None:
        headers["HTTP_X_HMAC_SIGNATURE"] = sign(body, secret)
    return client.post("/webhooks/carriers/easypost/", data=body, content_type="application/json", **headers)


# --- AfterShip ------------------------------------------------------------------------------

def aftership_checkpoint(tag: str, when: datetime, message: str, city="", subtag="", location=None,
                         country="United Kingdom") -> dict:
    return {
        "slug": "royal-mail",
        "city": city or None,
        "created_at": iso(when + timedelta(minutes=3)),
        "location": location if location is not None else (f"{city}, {country}" if city else None),
        "country_name": country,
        "message": message,
        "country_iso3": "GBR",
        "tag": tag,
        "subtag": subtag or f"{tag}_001",
        "subtag_message": tag,
        "checkpoint_time": when.astimezone(dt_timezone(timedelta(hours=1))).isoformat(),
        "coordinates": [],
        "state": None,
        "zip": None,
        "raw_tag": "",
    }


def aftership_webhook(tracking_number: str, checkpoints: list[dict], *, tag: str, expected_delivery: str | None = None,
                      event="tracking_update", event_id: str | None = None, ts: datetime | None = None,
                      slug="royal-mail") -> dict:
    ts = ts or (max(datetime.fromisoformat(c["checkpoint_time"]) for c in checkpoints) + timedelta(minutes=5)
                if checkpoints else utc(2030, 1, 1))
    return {
        "event": event,
        "event_id": event_id or str(uuid.uuid4()),
        "is_tracking_first_tag": False,
        "msg": {
            "id": f"5b7658cec7c33c0e007de3c{len(tracking_number)}",
            "tracking_number": tracking_number,
            "title": tracking_number,
            "note": None,
            "origin_country_iso3": "GBR",
            "destination_country_iso3": "GBR",
            "courier_destination_country_iso3": "GBR",
            "shipment_package_count": 1,
            "active": tag not in ("Delivered", "Expired"),
            "order_id": None,
            "order_id_path": None,
            "customer_name": None,
            "source": "api",
            "emails": [],
            "smses": [],
            "subscribed_smses": [],
            "subscribed_emails": [],
            "android": [],
            "ios": [],
            "return_to_sender": False,
            "custom_fields": {},
            "tag": tag,
            "subtag": f"{tag}_001",
            "subtag_message": tag,
            "tracked_count": len(checkpoints),
            "last_mile_tracking_supported": None,
            "language": None,
            "unique_token": "deprecated",
            "checkpoints": checkpoints,
            "slug": slug,
            "tracking_account_number": None,
            "tracking_origin_country": None,
            "tracking_destination_country": None,
            "tracking_key": None,
            "tracking_postal_code": None,
            "tracking_ship_date": None,
            "tracking_state": None,
            "expected_delivery": expected_delivery,
            "shipment_pickup_date": None,
            "shipment_delivery_date": None,
            "shipment_type": "Tracked 48",
            "shipment_weight": None,
            "shipment_weight_unit": None,
            "signed_by": None,
            "created_at": "2030-01-01T00:00:00+00:00",
            "updated_at": ts.isoformat(),
        },
        "ts": int(ts.timestamp()),
    }


def post_aftership(client, payload: dict | bytes, *, secret: str | None = AFTERSHIP_SECRET,
                   signature: str | None = None):
    from orders.carriers.aftership import sign

    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    headers = {}
    if signature is not None:
        headers["HTTP_AFTERSHIP_HMAC_SHA256"] = signature
    elif secret is not None:
        headers["HTTP_AFTERSHIP_HMAC_SHA256"] = sign(body, secret)
    return client.post("/webhooks/carriers/aftership/", data=body, content_type="application/json", **headers)
