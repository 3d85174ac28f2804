"""Retention (SPEC section 8): message bodies, contexts and provider payloads are redacted after
PRIVACY_RETENTION_DAYS (default 90), carrier webhook payloads after CARRIER_WEBHOOK_RETENTION_DAYS.

The row stays, with its event, channel, status, timestamps and legal basis, so the delivery log
still answers "what did we send, when, on what basis"; what it said is gone. Rows still queued
or being sent are never touched. Redacted rows carry ``{"redacted": "<date>"}`` as their context
or payload, which is also what makes the run idempotent. Runs hourly from beat, in batches.
"""
import datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone

BATCH = 1000
# Per kind and run: a first run over years of history stops well inside the task time limit,
# each batch committed on its own, and the next hourly run carries on where it stopped.
MAX_BATCHES = 50
ACTIVE = ("queued", "sending")


def _batches(queryset):
    for _ in range(MAX_BATCHES):
        ids = list(queryset.order_by("pk").values_list("pk", flat=True)[:BATCH])
        if not ids:
            return
        yield ids


def retention_redact(*, now=None) -> dict[str, int]:
    """Redact everything older than its retention period. Returns rows redacted per kind."""
    from notifications.models import DeliveryAttempt, Notification
    from orders.models import CarrierWebhookLog, TrackingEvent

    from .privacy import data_export_expire

    now = now or timezone.now()
    cutoff = now - datetime.timedelta(days=settings.PRIVACY_RETENTION_DAYS)
    carrier_cutoff = now - datetime.timedelta(days=settings.CARRIER_WEBHOOK_RETENTION_DAYS)
    marker = {"redacted": now.date().isoformat()}
    done = {"notifications": 0, "attempts": 0, "carrier_webhooks": 0, "tracking_events": 0, "exports": 0}

    due = (Notification.objects.filter(created_at__lt=cutoff).exclude(status__in=ACTIVE)
           .exclude(context__has_key="redacted"))
    for ids in _batches(due):
        with transaction.atomic():
            done["notifications"] += Notification.objects.filter(pk__in=ids).update(
                context=marker, subject="", body_text="", body_html="", last_error="", updated_at=now)
            done["attempts"] += DeliveryAttempt.objects.filter(notification_id__in=ids).exclude(error="").update(
                error="")
    for ids in _batches(CarrierWebhookLog.objects.filter(received_at__lt=carrier_cutoff)
                        .exclude(payload__has_key="redacted")):
        done["carrier_webhooks"] += CarrierWebhookLog.objects.filter(pk__in=ids).update(payload=marker)
    for ids in _batches(TrackingEvent.objects.filter(occurred_at__lt=carrier_cutoff)
                        .exclude(raw__has_key="redacted").exclude(raw={})):
        done["tracking_events"] += TrackingEvent.objects.filter(pk__in=ids).update(raw=marker)
    done["exports"] = data_export_expire(now=now)
    return done
