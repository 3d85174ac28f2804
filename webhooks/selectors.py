from django.db.models import Prefetch

from notifications.events import Channel
from notifications.models import Notification

from .models import WebhookAttempt, WebhookEndpoint


def store_endpoints(store):
    return WebhookEndpoint.objects.filter(store=store)


def store_endpoint(store, endpoint_id) -> WebhookEndpoint:
    return WebhookEndpoint.objects.get(store=store, pk=endpoint_id)


def endpoint_messages(endpoint: WebhookEndpoint, limit: int = 50):
    """The endpoint's latest messages, each with its attempts (newest first)."""
    return (Notification.objects.filter(channel=Channel.WEBHOOK, recipient_address=endpoint.address)
            .select_related("order")
            .prefetch_related(Prefetch("webhook_attempts", queryset=WebhookAttempt.objects.order_by("-id")))
            .order_by("-created_at", "-id")[:limit])


def endpoint_message(endpoint: WebhookEndpoint, notification_id) -> Notification:
    return Notification.objects.get(pk=notification_id, channel=Channel.WEBHOOK, recipient_address=endpoint.address)
