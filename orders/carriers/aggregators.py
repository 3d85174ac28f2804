"""Tracking aggregators for the carriers we have no adapter for: EasyPost (the ``easypost`` library)
and AfterShip (its REST API).

When a shipment is created with Royal Mail, DPD, UPS, FedEx, USPS or DHL and EASYPOST_API_KEY or
AFTERSHIP_API_KEY is set, a tracker is registered with that aggregator (a task, after commit, never
inside the transaction) so its ``tracker.updated`` / ``tracking_update`` webhooks arrive at
/webhooks/carriers/easypost/ or /aftership/. A tracker whose webhooks have gone quiet for
AGGREGATOR_QUIET_HOURS is fetched from the aggregator (beat) and its checkpoints recorded through the
same out-of-order-safe service as the webhooks.
"""
import json
import logging
from datetime import timedelta

import easypost
import requests
from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.dispatch import receiver
from django.utils import timezone

from orders import signals
from orders.models import TRACKING_FINAL, AggregatorTracker, Shipment

from .base import CarrierUnavailable
from .ingest import tracking_record_batch

logger = logging.getLogger("orders.carriers")

# Our carrier codes -> EasyPost carrier names and AfterShip courier slugs.
EASYPOST_CARRIERS = {"royalmail": "RoyalMail", "dpd": "DPDUK", "ups": "UPS", "fedex": "FedEx", "usps": "USPS",
                     "dhl": "DHLExpress"}
AFTERSHIP_SLUGS = {"royalmail": "royal-mail", "dpd": "dpd-uk", "ups": "ups", "fedex": "fedex", "usps": "usps",
                   "dhl": "dhl"}
AFTERSHIP_API = "https://api.aftership.com/tracking/2024-10"
TIMEOUT = 15


def configured_aggregator() -> str:
    if settings.EASYPOST_API_KEY:
        return "easypost"
    if settings.AFTERSHIP_API_KEY:
        return "aftership"
    return ""


class AggregatorRefused(Exception):
    """The aggregator said no for good (unknown carrier, bad tracking number, bad key)."""


# --- the two providers ---------------------------------------------------------------------------

def _easypost():
    return easypost.EasyPostClient(settings.EASYPOST_API_KEY, timeout=TIMEOUT)


def easypost_register(shipment: Shipment) -> str:
    try:
        tracker = _easypost().tracker.create(tracking_code=shipment.tracking_number,
                                             carrier=EASYPOST_CARRIERS[shipment.carrier])
    except (easypost.errors.HttpError, easypost.errors.TimeoutError, easypost.errors.RateLimitError,
            easypost.errors.InternalServerError, easypost.errors.ServiceUnavailableError,
            easypost.errors.GatewayTimeoutError) as exc:
        raise CarrierUnavailable(str(exc)) from exc
    except easypost.errors.EasyPostError as exc:
        if getattr(exc, "http_status", None) and (exc.http_status >= 500 or exc.http_status == 429):
            raise CarrierUnavailable(str(exc)) from exc
        raise AggregatorRefused(str(exc)) from exc
    return tracker.id


def easypost_fetch(tracker_id: str) -> dict:
    try:
        return _easypost().tracker.retrieve(tracker_id).to_dict()
    except easypost.errors.EasyPostError as exc:
        raise CarrierUnavailable(str(exc)) from exc


def _aftership(method: str, path: str, **kwargs) -> dict:
    headers = {"as-api-key": settings.AFTERSHIP_API_KEY, "Content-Type": "application/json"}
    try:
        response = requests.request(method, f"{AFTERSHIP_API}{path}", headers=headers, timeout=TIMEOUT, **kwargs)
    except requests.RequestException as exc:
        raise CarrierUnavailable(str(exc)) from exc
    try:
        body = response.json()
    except ValueError:
        body = {}
    if response.status_code >= 500 or response.status_code == 429:
        raise CarrierUnavailable(f"AfterShip HTTP {response.status_code}")
    meta = body.get("meta") or {}
    if response.status_code >= 400:
        # 4003: already tracked (registered earlier, e.g. by the seller's own AfterShip account).
        if meta.get("code") == 4003:
            return (body.get("data") or {}) | {"_already": True}
        raise AggregatorRefused(f"AfterShip {meta.get('code', response.status_code)}: {meta.get('message', '')}")
    return body.get("data") or {}


def aftership_register(shipment: Shipment) -> str:
    data = _aftership("POST", "/trackings", data=json.dumps({
        "tracking_number": shipment.tracking_number, "slug": AFTERSHIP_SLUGS[shipment.carrier],
        "order_number": shipment.order.number, "title": f"Order {shipment.order.number}"}))
    tracking = data.get("tracking") if isinstance(data.get("tracking"), dict) else data
    return str(tracking.get("id") or "")


def aftership_fetch(tracker_id: str) -> dict:
    data = _aftership("GET", f"/trackings/{tracker_id}")
    return data.get("tracking") if isinstance(data.get("tracking"), dict) else data


REGISTER = {"easypost": easypost_register, "aftership": aftership_register}


# --- registering ---------------------------------------------------------------------------------

@receiver(signals.shipment_created, dispatch_uid="orders.aggregator_register")
def on_shipment_created(sender, shipment, order, **kwargs):
    provider = configured_aggregator()
    if not provider or shipment.carrier not in EASYPOST_CARRIERS:
        return
    tracker = AggregatorTracker.objects.create(shipment=shipment, provider=provider)

    def queue():
        from orders.tasks import register_tracker

        try:
            register_tracker.delay(tracker.pk)
        except Exception:  # broker down: the quiet-tracker beat registers it later
            logger.exception("Could not queue tracker registration %s", tracker.pk)

    transaction.on_commit(queue)


def aggregator_tracker_register(*, tracker_id: int) -> str:
    """Register one pending tracker (network call outside any transaction). Returns its status.

    Raises CarrierUnavailable for a passing failure (the task retries)."""
    tracker = AggregatorTracker.objects.select_related("shipment__order").filter(pk=tracker_id).first()
    if tracker is None or tracker.status != AggregatorTracker.Status.PENDING:
        return tracker.status if tracker else "missing"
    try:
        remote_id = REGISTER[tracker.provider](tracker.shipment)
    except AggregatorRefused as exc:
        AggregatorTracker.objects.filter(pk=tracker.pk).update(status=AggregatorTracker.Status.FAILED,
                                                               error=str(exc)[:300])
        logger.warning("%s refused tracker for %s: %s", tracker.provider, tracker.shipment, exc)
        return AggregatorTracker.Status.FAILED
    AggregatorTracker.objects.filter(pk=tracker.pk).update(status=AggregatorTracker.Status.REGISTERED,
                                                           tracker_id=remote_id[:64], error="",
                                                           registered_at=timezone.now())
    return AggregatorTracker.Status.REGISTERED


# --- quiet trackers ------------------------------------------------------------------------------

def _parsed(provider: str, remote: dict):
    from . import get_adapter

    now = timezone.now().isoformat()
    if provider == "easypost":
        body = {"object": "Event", "id": f"poll_{remote.get('id', '')}", "description": "tracker.updated",
                "created_at": now, "result": remote}
    else:
        body = {"event": "tracking_update", "event_id": "", "ts": int(timezone.now().timestamp()), "msg": remote}
    return get_adapter(provider).parse_webhook(json.dumps(body, default=str).encode(), {})


def quiet_trackers(*, now=None, limit: int = 100):
    now = now or timezone.now()
    quiet = now - timedelta(hours=settings.AGGREGATOR_QUIET_HOURS)
    return (AggregatorTracker.objects.select_related("shipment")
            .filter(status=AggregatorTracker.Status.REGISTERED).exclude(tracker_id="")
            .exclude(shipment__status__in=TRACKING_FINAL)
            .filter(Q(shipment__last_event_at__isnull=True) | Q(shipment__last_event_at__lt=quiet))
            .filter(Q(last_polled_at__isnull=True) | Q(last_polled_at__lt=quiet))
            .order_by("last_polled_at", "id")[:limit])


def aggregator_poll_quiet(*, now=None) -> dict:
    """Beat: fetch trackers whose webhooks have gone quiet and record what the aggregator knows;
    also retry registrations left pending (broker was down)."""
    from orders.tasks import register_tracker

    now = now or timezone.now()
    stale_pending = AggregatorTracker.objects.filter(status=AggregatorTracker.Status.PENDING,
                                                     created_at__lt=now - timedelta(minutes=10))
    for pk in stale_pending.values_list("pk", flat=True)[:100]:
        register_tracker.delay(pk)
    polled = stored = 0
    for tracker in list(quiet_trackers(now=now)):
        AggregatorTracker.objects.filter(pk=tracker.pk).update(last_polled_at=now)
        try:
            remote = easypost_fetch(tracker.tracker_id) if tracker.provider == "easypost" else \
                aftership_fetch(tracker.tracker_id)
            parsed = _parsed(tracker.provider, remote)
        except Exception as exc:  # one bad tracker must not stop the others
            logger.warning("Could not fetch %s tracker %s: %s", tracker.provider, tracker.tracker_id, exc)
            continue
        polled += 1
        with transaction.atomic():
            for item in parsed:
                stored += tracking_record_batch(shipment=tracker.shipment, updates=item.updates, source="poll",
                                                eta=item.eta, eta_as_of=item.eta_as_of)
    return {"polled": polled, "stored": stored}
