"""WhatsApp through the real twilio client (production) or a console / locmem backend.

Pick one with NOTIFY_WHATSAPP_BACKEND. The recipient address is the E.164 number (the
``whatsapp:`` prefix is added here). WhatsApp allows two kinds of message:

- inside the 24-hour window after the customer last wrote to us (``WhatsAppSession``), a free-form
  session message: the rendered whatsapp_body.txt;
- outside it, only a business-initiated message from an approved content template: the event's
  content SID (PlatformEventSetting.whatsapp_content_sid, else NOTIFY_WHATSAPP_CONTENT_SIDS) with
  content variables taken from the message context.

Status callbacks come back to the same signed Twilio status view as SMS, and STOP on WhatsApp
suppresses the number for WhatsApp (notifications.webhooks.twilio_inbound).
"""
import itertools
import json
import sys
import threading
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from . import ChannelError, OutgoingMessage, SendResult
from .sms import TwilioBackend, status_callback_url, twilio_message_create

SESSION_WINDOW = timedelta(hours=24)
# Content variables when a mapping gives only a SID: {{1}} first name, {{2}} reference, {{3}} link.
DEFAULT_VARIABLES = {"1": "recipient.first_name", "2": "reference", "3": "url"}


def whatsapp_address(number: str) -> str:
    number = (number or "").strip()
    return number if number.startswith("whatsapp:") else f"whatsapp:{number}"


def in_session(number: str, now=None) -> bool:
    """Did this number write to us on WhatsApp in the last 24 hours?"""
    from ..models import WhatsAppSession

    now = now or timezone.now()
    last = WhatsAppSession.objects.filter(address=number).values_list("last_inbound_at", flat=True).first()
    return last is not None and now - last < SESSION_WINDOW


def content_template(event: str) -> tuple[str, dict]:
    """(content SID, {variable: dotted context path}) for an event, or ("", {})."""
    from ..models import PlatformEventSetting

    sid = PlatformEventSetting.objects.filter(event=event).values_list("whatsapp_content_sid", flat=True).first()
    mapping = (getattr(settings, "NOTIFY_WHATSAPP_CONTENT_SIDS", None) or {}).get(event)
    variables = DEFAULT_VARIABLES
    if isinstance(mapping, dict):
        variables = mapping.get("variables") or DEFAULT_VARIABLES
        mapping = mapping.get("sid", "")
    return (sid or mapping or ""), dict(variables)


def _lookup(context: dict, path: str):
    value = context
    for part in path.split("."):
        if not isinstance(value, dict):
            return ""
        value = value.get(part, "")
    return value


def content_variables(context: dict, variables: dict, message: OutgoingMessage) -> dict[str, str]:
    """The template's variables filled from the context (never empty: WhatsApp refuses blanks)."""
    order = context.get("order") or {}
    product = context.get("product") or {}
    links = context.get("links") or {}
    url = links.get("status") or links.get("dashboard") or (settings.SITE_URL + message.url if message.url else "")
    extra = {"reference": order.get("number") or product.get("name") or "", "url": url}
    out = {}
    for key, path in variables.items():
        value = extra[path] if path in extra else _lookup(context, path)
        out[str(key)] = str(value if value not in (None, "") else "-")[:1024]
    return out


class BaseWhatsAppBackend:
    provider = "whatsapp"
    find_sent = None

    def send(self, message: OutgoingMessage) -> SendResult:
        number = message.to.removeprefix("whatsapp:")
        if in_session(number):
            message_id = self.deliver(to=whatsapp_address(number), body=message.text.strip(), message=message)
            return SendResult(provider=self.provider, message_id=message_id, provider_status="session")
        sid, variables = content_template(message.event)
        if not sid:
            raise ChannelError(f"No approved WhatsApp template for {message.event} and the customer has not written "
                               "in the last 24 hours: a business-initiated WhatsApp message needs one.",
                               transient=False, provider=self.provider)
        context = message.metadata.get("context") or {}
        values = content_variables(context, variables, message)
        message_id = self.deliver(to=whatsapp_address(number), body="", message=message, content_sid=sid,
                                  content_variables=values)
        return SendResult(provider=self.provider, message_id=message_id, provider_status="template")

    def deliver(self, *, to: str, body: str, message: OutgoingMessage, content_sid: str = "",
                content_variables: dict | None = None) -> str:
        raise NotImplementedError


_counter = itertools.count(1)
# Tests read what was "sent" here, like notifications.channels.sms.outbox.
outbox: list[dict] = []
_outbox_lock = threading.Lock()


class ConsoleWhatsAppBackend(BaseWhatsAppBackend):
    provider = "console"

    def deliver(self, *, to, body, message, content_sid="", content_variables=None):
        shown = body or f"[template {content_sid} {json.dumps(content_variables or {})}]"
        sys.stdout.write(f"--- WhatsApp to {to} ---\n{shown}\n---\n")
        sys.stdout.flush()
        return f"console-wa-{next(_counter)}"


class LocmemWhatsAppBackend(BaseWhatsAppBackend):
    provider = "locmem"

    def deliver(self, *, to, body, message, content_sid="", content_variables=None):
        message_id = f"SMwalocmem{next(_counter):08d}"
        with _outbox_lock:
            outbox.append({"to": to, "body": body, "content_sid": content_sid,
                           "content_variables": content_variables or {}, "sid": message_id,
                           "notification_id": message.notification_id})
        return message_id


class TwilioWhatsAppBackend(BaseWhatsAppBackend):
    """Production: Twilio's Messages API with a ``whatsapp:`` sender (TWILIO_WHATSAPP_FROM).
    Errors are classified like SMS (TwilioBackend): 429/5xx transient, known bad numbers permanent,
    a lost answer ambiguous (never retried blindly)."""

    provider = "twilio"
    # 63016: outside the 24-hour window without a template; 63003/63024: not a WhatsApp number.
    PERMANENT_CODES = TwilioBackend.PERMANENT_CODES | {63003, 63016, 63024, 63032}

    def __init__(self):
        self._sms = TwilioBackend()

    def deliver(self, *, to, body, message, content_sid="", content_variables=None):
        sender = settings.TWILIO_WHATSAPP_FROM
        if not sender:
            raise ChannelError("WhatsApp has no sender: set TWILIO_WHATSAPP_FROM.", transient=False,
                               provider=self.provider)
        kwargs = {"to": to, "from_": whatsapp_address(sender), "status_callback": status_callback_url()}
        if content_sid:
            kwargs["content_sid"] = content_sid
            kwargs["content_variables"] = json.dumps(content_variables or {})
        else:
            kwargs["body"] = body
        return twilio_message_create(self._sms.client(), kwargs, provider=self.provider,
                                     permanent_codes=self.PERMANENT_CODES, label="Twilio WhatsApp")
