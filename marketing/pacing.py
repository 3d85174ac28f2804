"""Delivery at a per-channel rate: the pump releases a promotion's parked rows to the workers.

Fan-out writes promotion rows *parked* (``send_after`` = the promotion's end), so neither the
workers nor the outbox sweeper touch them. Once a second, the promotion's pump takes tokens for
each channel from a fixed-window counter in the shared cache (Redis in production: one budget per
channel across every worker and every running promotion, ``NOTIFY_MARKETING_RATE``), releases that
many rows in id order (``send_after`` = now) and hands them to the delivery tasks. A row released
but not handed over (broker down) is due, so the sweeper hands it over. A pause stops the pump; a
row already released meets the pause at claim time and waits (marketing/delivery.py).
"""
import time

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

DEFAULT_RATE = {"email": 50, "sms": 5}  # per second
TICK_SECONDS = 1.0


def rate(channel: str) -> int:
    rates = dict(DEFAULT_RATE, **(getattr(settings, "NOTIFY_MARKETING_RATE", None) or {}))
    return max(0, int(rates.get(channel, 0)))


def take_tokens(channel: str, want: int, *, now: float | None = None) -> int:
    """Up to ``want`` sends on ``channel`` in the current one-second window, shared by everyone."""
    limit = rate(channel)
    if want <= 0 or limit <= 0:
        return 0
    window = int(now if now is not None else time.time())
    key = f"marketing:rate:{channel}:{window}"
    cache.add(key, 0, timeout=10)
    try:
        used = cache.incr(key, want)
    except ValueError:  # expired between add and incr
        cache.add(key, want, timeout=10)
        used = want
    granted = max(0, min(want, limit - (used - want)))
    if granted < want:
        cache.decr(key, want - granted)  # give back what was not granted
    return granted


def pump_once(promotion, *, now=None, clock: float | None = None) -> dict:
    """Release one tick's worth of rows per channel. Returns {channel: released}."""
    from notifications.models import Notification
    from notifications.outbox import dispatch_quietly

    from .audience import withdrawn
    from .models import FanOut, Promotion

    now = now or timezone.now()
    if Promotion.objects.filter(pk=promotion.pk).values_list("status", flat=True).first() != Promotion.Status.SENDING:
        return {}
    fanout = FanOut.objects.filter(source=FanOut.Source.PROMOTION, source_id=promotion.pk).first()
    if fanout is None:
        return {}
    pumped = dict(fanout.pumped or {})
    released = {}
    for channel in promotion.channels:
        budget = take_tokens(channel, int(rate(channel) * TICK_SECONDS), now=clock)
        if not budget:
            released[channel] = 0
            continue
        ids = list(Notification.objects.filter(
            subject_type="promotion", subject_id=promotion.pk, channel=channel, status=Notification.Status.QUEUED,
            id__gt=pumped.get(channel, 0)).order_by("id").values_list("id", flat=True)[:budget])
        if not ids:
            released[channel] = 0
            continue
        pumped[channel] = ids[-1]
        # Consent is checked again for the whole tick at once: an unsubscribe since the row was
        # written wins (delivery checks it once more for a row held back by a pause or quiet hours).
        gone = set(withdrawn(ids))
        if gone:
            Notification.objects.filter(pk__in=gone, status=Notification.Status.QUEUED).update(
                status=Notification.Status.SKIPPED, updated_at=now,
                status_reason="Not sent: the customer withdrew marketing consent.")
            ids = [pk for pk in ids if pk not in gone]
        Notification.objects.filter(pk__in=ids, status=Notification.Status.QUEUED).update(send_after=now)
        dispatch_quietly(ids)
        released[channel] = len(ids)
    FanOut.objects.filter(pk=fanout.pk).update(pumped=pumped)
    return released

