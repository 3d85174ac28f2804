"""Delivery channels behind one interface.

A channel takes an ``OutgoingMessage`` and returns a ``SendResult`` or raises ``ChannelError``
(``transient=True`` when a retry may succeed). Only this package imports anymail or twilio, and
only ``notifications.delivery.notification_deliver`` calls a channel.

Which backend runs is a setting, like EMAIL_BACKEND:
  email  Django's EMAIL_BACKEND (anymail ESP in production; console / file / locmem elsewhere)
  sms    NOTIFY_SMS_BACKEND: notifications.channels.sms.TwilioBackend | ConsoleBackend | LocmemBackend | FileBackend
  whatsapp  NOTIFY_WHATSAPP_BACKEND: notifications.channels.whatsapp.TwilioWhatsAppBackend | Console… | Locmem…
  push   web push (VAPID) to every browser the user subscribed (notifications.channels.push)
  inapp  the InboxMessage table (no provider; written with the attempt log in one transaction)
  webhook  signed POSTs to sellers' endpoints (Standard Webhooks; its own retry_schedule)
"""
from dataclasses import dataclass, field

from django.conf import settings
from django.utils.module_loading import import_string


@dataclass
class OutgoingMessage:
    notification_id: int | None
    channel: str
    to: str
    subject: str = ""
    text: str = ""
    html: str = ""
    category: str = ""
    event: str = ""
    from_name: str = ""
    reply_to: str = ""
    user_id: int | None = None
    url: str = ""
    unsubscribe_url: str = ""
    # Stable per notification and resend: the email Message-ID, so a message resent because its
    # first hand-over is in doubt carries the same id and mail clients show one copy.
    message_ref: str = ""
    metadata: dict = field(default_factory=dict)


@dataclass
class SendResult:
    provider: str
    message_id: str = ""
    sms_segments: int | None = None
    sms_encoding: str = ""
    provider_status: str = ""
    # Rows the delivery service writes in the same transaction as the attempt log (in-app:
    # the inbox row itself, so an in-app message and its record commit together or not at all).
    deferred_rows: list = field(default_factory=list)


class ChannelError(Exception):
    """``transient``: a retry may succeed. ``ambiguous``: the request reached the provider but its
    answer was lost (a read timeout), so the message may have gone: never retried blindly."""

    def __init__(self, message: str, *, transient: bool, provider: str = "", ambiguous: bool = False):
        super().__init__(message)
        self.transient = transient
        self.provider = provider
        self.ambiguous = ambiguous


_instances: dict = {}


def get_channel(name: str):
    """The configured backend for a channel (one instance per process and setting)."""
    if name == "email":
        path = "notifications.channels.email.EmailChannel"
    elif name == "sms":
        path = getattr(settings, "NOTIFY_SMS_BACKEND", "notifications.channels.sms.ConsoleBackend")
    elif name == "whatsapp":
        path = getattr(settings, "NOTIFY_WHATSAPP_BACKEND", "notifications.channels.whatsapp.ConsoleWhatsAppBackend")
    elif name == "push":
        path = "notifications.channels.push.WebPushChannel"
    elif name == "inapp":
        path = "notifications.channels.inapp.InboxChannel"
    elif name == "webhook":
        path = "notifications.channels.webhook.WebhookChannel"
    else:
        raise ValueError(f"Unknown channel {name!r}")
    key = (name, path, getattr(settings, "EMAIL_BACKEND", ""))
    backend = _instances.get(key)
    if backend is None:
        backend = _instances[key] = import_string(path)()
    return backend
