"""Hand what a carrier told us (webhook or poll) to ``orders.services``, each checkpoint once.

No network I/O happens here: adapters have already fetched or parsed everything.
"""
import logging
from dataclasses import replace

from django.db import transaction

from orders.models import CarrierWebhookLog, Shipment, TrackingEvent
from orders.services import TrackingUpdate, shipment_record_tracking

from .base import ParsedTracking

logger = logging.getLogger("orders.carriers")


def shipment_for_tracking(*, tracking_number: str, carrier_codes) -> Shipment | None:
    """The shipment a carrier means by this tracking number, or None if it is not ours.

    Tracking numbers are unique per carrier only, so the carrier codes decide; among several
    matches the most specific code wins, then the most recent shipment.
    """
    codes = list(carrier_codes)
    numbers = {tracking_number.strip(), tracking_number.strip().upper()}
    matches = list(Shipment.objects.filter(tracking_number__in=numbers, carrier__in=codes)
                   .select_related("order").order_by("-shipped_at", "-id"))
    if not matches:
        return None
    return min(matches, key=lambda s: codes.index(s.carrier))


def tracking_record_batch(*, shipment: Shipment, updates: list[TrackingUpdate], source: str,
                          eta=None, eta_as_of=None, delay_reason: str = "") -> int:
    """Record one shipment's checkpoints from one webhook or poll. Returns how many were new.

    Checkpoints go in in time order so the timeline reads naturally, but only the newest new one
    may move the shipment: a backlog (a first webhook with the whole history, a poll after an
    outage) raises one notification for where the parcel is now. The tracker-level ETA goes on
    the newest checkpoint, which is recorded even when already known, so an ETA revision without
    a new scan still counts.
    """
    if not updates:
        return 0
    updates = sorted(updates, key=lambda u: u.occurred_at)
    if eta is not None:
        updates[-1] = replace(updates[-1], eta=eta, eta_as_of=eta_as_of or updates[-1].eta_as_of)
    keys = [u.dedupe_key[:128] for u in updates]
    known = set(TrackingEvent.objects.filter(shipment=shipment, dedupe_key__in=keys)
                .values_list("dedupe_key", flat=True))
    fresh = [u for u in updates if u.dedupe_key[:128] not in known]
    newest_fresh = fresh[-1] if fresh else None
    stored = 0
    for update in updates:
        if update.dedupe_key[:128] in known and update is not updates[-1] and update.eta is None:
            continue  # a replay with nothing to revise
        event = shipment_record_tracking(shipment=shipment, update=update, source=source,
                                         delay_reason=delay_reason, advance=update is newest_fresh)
        stored += event is not None
    return stored


def carrier_webhook_ingest(*, carrier: str, parsed: list[ParsedTracking], payload: dict,
                           event_type: str = "") -> CarrierWebhookLog:
    """Apply one verified, well-formed webhook (all or nothing) and log what became of it."""
    event_id = next((p.event_id for p in parsed if p.event_id), "")
    event_type = next((p.event_type for p in parsed if p.event_type), event_type)
    numbers = ", ".join(p.tracking_number for p in parsed)[:300]
    log = CarrierWebhookLog(carrier=carrier, event_id=event_id[:128], event_type=event_type[:64],
                            tracking_numbers=numbers, payload=payload)
    if not parsed:
        log.outcome, log.detail = CarrierWebhookLog.Outcome.IGNORED, "Not a tracking event"
        log.save()
        return log
    if event_id and CarrierWebhookLog.objects.filter(carrier=carrier, event_id=event_id,
                                                     outcome=CarrierWebhookLog.Outcome.PROCESSED).exists():
        log.outcome, log.detail = CarrierWebhookLog.Outcome.DUPLICATE, "Event already processed"
        log.payload = {}
        log.save()
        return log

    unknown, stored = [], 0
    with transaction.atomic():
        for item in parsed:
            shipment = shipment_for_tracking(tracking_number=item.tracking_number, carrier_codes=item.carrier_codes)
            if shipment is None:
                unknown.append(item.tracking_number)
                continue
            stored += tracking_record_batch(shipment=shipment, updates=item.updates, source="webhook",
                                            eta=item.eta, eta_as_of=item.eta_as_of)
        if len(unknown) == len(parsed):
            log.outcome = CarrierWebhookLog.Outcome.UNKNOWN_TRACKING
            log.detail = f"No shipment with tracking number {', '.join(unknown)}"[:300]
        else:
            log.outcome = CarrierWebhookLog.Outcome.PROCESSED
            log.detail = (f"Unknown: {', '.join(unknown)}" if unknown else "")[:300]
        log.checkpoints_stored = stored
        log.save()
    if unknown:
        logger.warning("%s webhook %s for unknown tracking number(s) %s: acknowledged, nothing stored",
                       carrier, event_id or "(no id)", ", ".join(unknown))
    return log
