"""Polling carriers that don't push webhooks (and the simulated carrier).

Every minute beat runs ``carrier_poll_dispatch``: for each pollable carrier it claims the shipments
that are due (not delivered or returned, ``next_poll_at`` passed or never set), at most the
carrier's rate per run, pushes their ``next_poll_at`` one poll interval on, and queues one
``orders.poll_shipment`` task each, spread over the minute with a countdown. Each task asks the
carrier outside any transaction, then records what it said. A per-carrier counter in the cache
caps look-ups per clock minute even when queued tasks bunch up (a slow worker, a restart).
"""
import logging
import math
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from orders.models import TRACKING_FINAL, Shipment

from . import get_adapter, pollable_adapters
from .base import CarrierUnavailable, PollingNotSupported
from .ingest import tracking_record_batch

logger = logging.getLogger("orders.carriers")


def poll_rate_per_minute(carrier: str) -> int:
    return int(settings.CARRIER_POLL_RATES.get(carrier, settings.CARRIER_POLL_RATE_PER_MINUTE))


def _due(now):
    return Q(next_poll_at__isnull=True) | Q(next_poll_at__lte=now)


def _window(now) -> int:
    return int(now.timestamp() // 60)


def poll_slot_take(carrier: str, *, now=None) -> bool:
    """Take one of this minute's look-ups for ``carrier``; False when the minute's quota is spent."""
    now = now or timezone.now()
    key = f"carrier-poll:{carrier}:{_window(now)}"
    cache.add(key, 0, timeout=120)
    try:
        used = cache.incr(key)
    except ValueError:  # the key expired between add and incr
        cache.add(key, 1, timeout=120)
        used = 1
    return used <= poll_rate_per_minute(carrier)


def carrier_poll_dispatch(*, now=None) -> dict[str, int]:
    """Claim due shipments of every pollable carrier and queue their polls. Returns {carrier: queued}."""
    from orders.tasks import poll_shipment

    now = now or timezone.now()
    period = settings.CARRIER_POLL_EVERY_SECONDS
    queued = {}
    for adapter in pollable_adapters():
        limit = math.ceil(poll_rate_per_minute(adapter.code) * period / 60)
        if limit <= 0:
            continue
        with transaction.atomic():
            due = (Shipment.objects.select_for_update(skip_locked=True)
                   .filter(carrier=adapter.code).exclude(status__in=TRACKING_FINAL).filter(_due(now))
                   .order_by(F("next_poll_at").asc(nulls_first=True), "id"))
            ids = list(due.values_list("id", flat=True)[:limit])
            Shipment.objects.filter(pk__in=ids).update(next_poll_at=now + adapter.poll_interval)
        spacing = period / len(ids) if ids else 0
        for i, shipment_id in enumerate(ids):
            transaction.on_commit(
                lambda sid=shipment_id, delay=round(i * spacing, 2): poll_shipment.apply_async(args=[sid],
                                                                                               countdown=delay))
        queued[adapter.code] = len(ids)
        if ids:
            logger.info("Queued %d %s tracking polls over %ss", len(ids), adapter.code, period)
    return queued


def shipment_poll(*, shipment_id: int, now=None) -> str:
    """Ask the carrier about one shipment and record the answer. Returns what happened."""
    shipment = Shipment.objects.select_related("order").filter(pk=shipment_id).first()
    if shipment is None or shipment.status in TRACKING_FINAL:
        return "skipped"
    adapter = get_adapter(shipment.carrier)
    if adapter is None or not adapter.pollable:
        return "skipped"
    if not poll_slot_take(adapter.code, now=now):
        # Over this minute's quota: back in the queue for the next dispatch.
        next_minute = (now or timezone.now()).replace(second=0, microsecond=0) + timedelta(minutes=1)
        Shipment.objects.filter(pk=shipment.pk).update(next_poll_at=next_minute)
        return "deferred"
    try:
        updates = adapter.poll(shipment.tracking_number, shipment=shipment)  # network I/O: no transaction open
    except (CarrierUnavailable, PollingNotSupported) as exc:
        logger.warning("Polling %s %s failed: %s (next try at the next interval)", adapter.code,
                       shipment.tracking_number, exc)
        return "failed"
    stored = tracking_record_batch(shipment=shipment, updates=updates,
                                   source="simulated" if adapter.code == "simulated" else "poll")
    shipment.refresh_from_db(fields=["status"])
    # next_poll_at was set when the dispatch claimed it, so the cadence doesn't drift with the
    # countdown spread; a finished parcel drops out of polling for good.
    changes = {"last_polled_at": now or timezone.now()}
    if shipment.status in TRACKING_FINAL:
        changes["next_poll_at"] = None
    Shipment.objects.filter(pk=shipment.pk).update(**changes)
    return f"stored {stored}"
