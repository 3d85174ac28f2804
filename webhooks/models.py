"""Sellers' webhook endpoints and the log of every delivery attempt to them.

The messages themselves are Notification rows (channel "webhook", one per endpoint and event):
the same outbox, worker, claim, retries and resend as every other channel.
"""
import base64
import secrets

from django.db import models

SECRET_PREFIX = "whsec_"


def new_secret() -> str:
    """A Standard Webhooks secret: ``whsec_`` + base64 of 32 random bytes."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


class WebhookEndpoint(models.Model):
    store = models.ForeignKey("catalog.Store", on_delete=models.CASCADE, related_name="webhook_endpoints")
    url = models.URLField(max_length=500)
    description = models.CharField(max_length=120, blank=True)
    events = models.JSONField(default=list, help_text="Event types it receives; empty = all")
    secret = models.CharField(max_length=80, default=new_secret)
    # Rotation: the previous secret keeps signing too until this time (receivers switch over meanwhile).
    previous_secret = models.CharField(max_length=80, blank=True)
    previous_secret_expires_at = models.DateTimeField(null=True, blank=True)
    enabled = models.BooleanField(default=True)
    disabled_reason = models.CharField(max_length=300, blank=True)
    disabled_at = models.DateTimeField(null=True, blank=True)
    failing_since = models.DateTimeField(null=True, blank=True, help_text="First failure since the last success")
    last_success_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self):
        return self.url

    @property
    def address(self) -> str:
        """The Notification.recipient_address of its messages."""
        return f"webhook:{self.pk}"

    def wants(self, event_type: str) -> bool:
        return not self.events or event_type in self.events


class WebhookAttempt(models.Model):
    """One HTTP POST of a webhook message: what came back and how long it took."""

    notification = models.ForeignKey("notifications.Notification", on_delete=models.CASCADE,
                                     related_name="webhook_attempts")
    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="attempts")
    attempt = models.PositiveIntegerField(default=1)
    url = models.URLField(max_length=500)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    latency_ms = models.PositiveIntegerField(default=0)
    response_excerpt = models.TextField(blank=True, help_text="The first bytes of the response body")
    error = models.CharField(max_length=500, blank=True)
    succeeded = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
