"""Writes for sellers' webhooks: endpoints, the outbox rows of their messages, ping, resend,
secret rotation, and what a delivery result does to its endpoint (auto-disable + seller alert)."""
import json
import uuid
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from notifications.events import Audience, Category, Channel
from notifications.models import Notification
from notifications.outbox import queue_on_commit

from .events import PING, WEBHOOK_EVENTS, envelope
from .models import WebhookEndpoint, new_secret
from .targets import TargetRefused, check_target

S = Notification.Status


class WebhookError(ValueError):
    """Bad input for an endpoint, or an action that can't happen now. Nothing was saved."""


def _clean(url: str, events) -> tuple[str, list[str]]:
    url = (url or "").strip()
    try:
        check_target(url)
    except TargetRefused as exc:
        raise WebhookError(str(exc)) from None
    events = sorted(set(events or []))
    unknown = [e for e in events if e not in WEBHOOK_EVENTS]
    if unknown:
        raise WebhookError(f"Unknown event type: {', '.join(unknown)}.")
    return url, events


def endpoint_create(*, store, url: str, events=(), description: str = "") -> WebhookEndpoint:
    url, events = _clean(url, events)
    return WebhookEndpoint.objects.create(store=store, url=url, events=events, description=description[:120])


def endpoint_update(*, endpoint: WebhookEndpoint, url: str, events=(), description: str = "",
                    enabled: bool = True) -> WebhookEndpoint:
    url, events = _clean(url, events)
    endpoint.url, endpoint.events, endpoint.description = url, events, description[:120]
    if enabled and not endpoint.enabled:  # switched back on by the seller: a fresh start
        endpoint.failing_since, endpoint.disabled_reason, endpoint.disabled_at = None, "", None
    endpoint.enabled = enabled
    endpoint.save()
    return endpoint


def endpoint_rotate_secret(*, endpoint: WebhookEndpoint, now=None) -> WebhookEndpoint:
    """New secret; the old one keeps signing too for WEBHOOKS_SECRET_GRACE_HOURS."""
    now = now or timezone.now()
    endpoint.previous_secret = endpoint.secret
    endpoint.previous_secret_expires_at = now + timedelta(hours=settings.WEBHOOKS_SECRET_GRACE_HOURS)
    endpoint.secret = new_secret()
    endpoint.save(update_fields=["previous_secret", "previous_secret_expires_at", "secret", "updated_at"])
    return endpoint


def signing_secrets(endpoint: WebhookEndpoint, now=None) -> list[str]:
    now = now or timezone.now()
    out = [endpoint.secret]
    if endpoint.previous_secret and endpoint.previous_secret_expires_at and endpoint.previous_secret_expires_at > now:
        out.append(endpoint.previous_secret)
    return out


def _row(endpoint, *, event_type, event_key, body, order=None) -> Notification:
    row, _ = Notification.objects.get_or_create(
        event_key=event_key[:200], recipient_address=endpoint.address, channel=Channel.WEBHOOK,
        defaults={"event": event_type, "audience": Audience.SELLER, "category": Category.SELLER_ALERT,
                  "order": order, "store_id": endpoint.store_id, "subject": event_type, "body_text": body,
                  "template_source": "webhook payload", "legal_basis": "contract: seller webhook endpoint",
                  "context": {"endpoint_id": endpoint.pk}})
    return row


ALL_EVENTS = "*"


def store_webhook_events_refresh(store_id) -> list[str]:
    """Write ``Store.webhook_events`` from the store's enabled endpoints (in the caller's
    transaction: an endpoint change and the store's list commit together)."""
    from catalog.models import Store

    wanted: set[str] = set()
    for events in WebhookEndpoint.objects.filter(store_id=store_id, enabled=True).values_list("events", flat=True):
        wanted |= set(events) if events else {ALL_EVENTS}
    value = [ALL_EVENTS] if ALL_EVENTS in wanted else sorted(wanted)
    Store.objects.filter(pk=store_id).update(webhook_events=value)
    return value


def _store_may_want(order, event_type: str) -> bool:
    """False when the order's store, as read in this transaction, has no enabled endpoint for
    ``event_type``. Only trusted for an order locked by the change itself (orders.services
    ``_lock_for_notifying`` loads the store with it); otherwise the endpoints are read."""
    if order is None or not getattr(order, "_locked_for_notifying", False):
        return True
    store = order._state.fields_cache.get("store")
    if store is None:
        return True
    events = store.webhook_events or []
    return ALL_EVENTS in events or event_type in events


def webhook_enqueue(*, store_id, event_type: str, event_key: str, data, order=None) -> list[int]:
    """One outbox row per enabled endpoint of the store that wants ``event_type``; delivered after
    commit. ``data``: the payload's data, or a callable that builds it (only called if some
    endpoint wants the event)."""
    if not _store_may_want(order, event_type):
        return []
    endpoints = [e for e in WebhookEndpoint.objects.filter(store_id=store_id, enabled=True) if e.wants(event_type)]
    if not endpoints:
        return []
    if callable(data):
        data = data()
    body = json.dumps(envelope(event_type, data), separators=(",", ":"), sort_keys=True)
    ids = [_row(e, event_type=event_type, event_key=event_key, body=body, order=order).pk for e in endpoints]
    queue_on_commit(ids)
    return ids


@transaction.atomic
def webhook_ping(*, endpoint: WebhookEndpoint) -> Notification:
    body = json.dumps(envelope(PING, {"endpoint": endpoint.url, "message": f"Test ping from {settings.SHOP_NAME}"}),
                      separators=(",", ":"), sort_keys=True)
    row = _row(endpoint, event_type=PING, event_key=f"{PING}:{uuid.uuid4().hex}", body=body)
    queue_on_commit([row.pk])
    return row


@transaction.atomic
def webhook_resend(*, notification: Notification, actor=None) -> Notification:
    """Send a webhook message again, same id and body (receivers dedupe on webhook-id), schedule restarted."""
    locked = Notification.objects.select_for_update().get(pk=notification.pk, channel=Channel.WEBHOOK)
    if locked.status in (S.QUEUED, S.SENDING):
        raise WebhookError("This message is already waiting to be sent.")
    who = getattr(actor, "get_username", lambda: "seller")()
    Notification.objects.filter(pk=locked.pk).update(
        status=S.QUEUED, status_reason=f"Resend requested by {who}."[:300], send_after=None, retry_at=None,
        claimed_at=None, attempts=0, updated_at=timezone.now())
    queue_on_commit([locked.pk])
    notification.refresh_from_db()
    return notification


def endpoint_record_result(*, endpoint_id: int, ok: bool, now=None) -> bool:
    """After each attempt: a success clears the failure streak; failing for WEBHOOKS_DISABLE_AFTER_HOURS
    disables the endpoint and alerts the store's sellers. Returns True when it was disabled now."""
    now = now or timezone.now()
    qs = WebhookEndpoint.objects.filter(pk=endpoint_id)
    if ok:
        qs.update(failing_since=None, last_success_at=now)
        return False
    qs.filter(failing_since__isnull=True).update(failing_since=now)
    cutoff = now - timedelta(hours=settings.WEBHOOKS_DISABLE_AFTER_HOURS)
    reason = f"Disabled automatically: every delivery failed for {settings.WEBHOOKS_DISABLE_AFTER_HOURS} hours."
    with transaction.atomic():
        disabled = qs.filter(enabled=True, failing_since__lte=cutoff).update(
            enabled=False, disabled_reason=reason, disabled_at=now, updated_at=now)
        if disabled:
            endpoint = WebhookEndpoint.objects.get(pk=endpoint_id)
            store_webhook_events_refresh(endpoint.store_id)
            _alert_sellers(endpoint, now)
    return bool(disabled)


def _alert_sellers(endpoint: WebhookEndpoint, now) -> None:
    """Email + in-app alert to the store's sellers, through the outbox like every message."""
    from django.contrib.auth import get_user_model
    from django.urls import reverse

    link = settings.SITE_URL + reverse("seller:webhooks")
    subject = f"Webhook endpoint disabled: {endpoint.url}"[:300]
    text = (f"Deliveries to your webhook endpoint {endpoint.url} have failed for "
            f"{settings.WEBHOOKS_DISABLE_AFTER_HOURS} hours, so we have stopped sending to it.\n\n"
            f"Check the delivery log, fix the endpoint, then switch it back on and resend what it missed:\n{link}\n")
    key = f"webhook.disabled:{endpoint.pk}:{int(now.timestamp())}"
    ids = []
    for user in get_user_model().objects.filter(store_id=endpoint.store_id, is_active=True):
        for channel, address in ((Channel.EMAIL, user.email.lower()), (Channel.INAPP, f"user:{user.pk}")):
            if not address:
                continue
            row, _ = Notification.objects.get_or_create(
                event_key=key, recipient_address=address, channel=channel,
                defaults={"event": "webhook.disabled", "audience": Audience.SELLER, "recipient": user,
                          "category": Category.SELLER_ALERT, "store_id": endpoint.store_id, "subject": subject,
                          "body_text": text, "template_source": "webhooks.services", "context": {"links": {"inbox": link}},
                          "legal_basis": "contract: seller terms (store alerts)"})
            ids.append(row.pk)
    queue_on_commit(ids)
