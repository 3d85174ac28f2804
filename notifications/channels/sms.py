"""SMS through the real twilio client (production) or a console / locmem / file backend.

Pick one with NOTIFY_SMS_BACKEND. Every backend counts segments the way carriers do (GSM-7 or
UCS-2) after replacing typographic characters that would force UCS-2 (like Twilio's smart encoding).
"""
import itertools
import json
import math
import sys
import threading
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from . import ChannelError, OutgoingMessage, SendResult

GSM7_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿"
    "abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENDED = set("^{}\\[~]|€\f")
SMART = str.maketrans({"–": "-", "—": "-", "‘": "'", "’": "'", "“": '"', "”": '"', "…": "...", "×": "x",
                       "\u00a0": " ", "•": "-"})


def sms_normalise(text: str) -> str:
    return text.translate(SMART).strip()


def sms_segments(text: str) -> tuple[str, int]:
    """("GSM-7" | "UCS-2", number of segments) for a message body."""
    if all(ch in GSM7_BASIC or ch in GSM7_EXTENDED for ch in text):
        units = len(text) + sum(1 for ch in text if ch in GSM7_EXTENDED)
        return "GSM-7", 1 if units <= 160 else math.ceil(units / 153)
    units = len(text.encode("utf-16-le")) // 2
    return "UCS-2", 1 if units <= 70 else math.ceil(units / 67)


def status_callback_url() -> str:
    return settings.SITE_URL + reverse("notifications:twilio_status")


class BaseSmsBackend:
    provider = "sms"

    def send(self, message: OutgoingMessage) -> SendResult:
        body = sms_normalise(message.text)
        encoding, segments = sms_segments(body)
        message_id = self.deliver(to=message.to, body=body, message=message)
        return SendResult(provider=self.provider, message_id=message_id, sms_segments=segments,
                          sms_encoding=encoding)

    def deliver(self, *, to: str, body: str, message: OutgoingMessage) -> str:
        raise NotImplementedError

    # A backend that can tell whether it sent a message (after a worker died mid-send, or the answer
    # was lost) implements this: the provider's message id if it has one for this notification,
    # None if it has none. Backends without a record (console) don't, and the message is resent.
    find_sent = None


_counter = itertools.count(1)


class ConsoleBackend(BaseSmsBackend):
    """Development: print the SMS to the worker's stdout."""

    provider = "console"

    def deliver(self, *, to, body, message):
        sys.stdout.write(f"--- SMS to {to} ---\n{body}\n---\n")
        sys.stdout.flush()
        return f"console-{next(_counter)}"


# Tests read what was "sent" here, like django.core.mail.outbox.
outbox: list[dict] = []
_outbox_lock = threading.Lock()


class LocmemBackend(BaseSmsBackend):
    """Tests and benchmarks: keep messages in ``notifications.channels.sms.outbox``."""

    provider = "locmem"

    def deliver(self, *, to, body, message):
        message_id = f"SMlocmem{next(_counter):08d}"
        with _outbox_lock:
            outbox.append({"to": to, "body": body, "sid": message_id, "notification_id": message.notification_id,
                           "status_callback": status_callback_url()})
        return message_id

    def find_sent(self, *, notification_id, to, body, since):
        with _outbox_lock:
            return next((m["sid"] for m in outbox if m["notification_id"] == notification_id), None)


class FileBackend(BaseSmsBackend):
    """Development: append each SMS as a JSON line to NOTIFY_SMS_FILE_PATH (default var/sms.log)."""

    provider = "file"

    def deliver(self, *, to, body, message):
        path = Path(getattr(settings, "NOTIFY_SMS_FILE_PATH", settings.VAR_DIR / "sms.log"))
        path.parent.mkdir(parents=True, exist_ok=True)
        message_id = f"file-{timezone.now():%Y%m%d%H%M%S}-{next(_counter)}"
        with path.open("a") as fh:
            fh.write(json.dumps({"sid": message_id, "to": to, "body": body, "at": timezone.now().isoformat(),
                                 "notification_id": message.notification_id}) + "\n")
            fh.flush()
        return message_id

    def find_sent(self, *, notification_id, to, body, since):
        path = Path(getattr(settings, "NOTIFY_SMS_FILE_PATH", settings.VAR_DIR / "sms.log"))
        if not path.exists():
            return None
        with path.open() as fh:
            for line in fh:
                try:
                    row = json.loads(line)
                except ValueError:
                    continue
                if row.get("notification_id") == notification_id:
                    return row["sid"]
        return None


class TwilioBackend(BaseSmsBackend):
    """Production: Twilio Programmable Messaging through the official client.

    Needs TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and TWILIO_MESSAGING_SERVICE_SID or TWILIO_FROM_NUMBER.
    Delivery reports come back to the status-callback URL (notifications:twilio_status).
    """

    provider = "twilio"
    # Twilio error codes that retrying cannot fix (bad / unreachable / opted-out number, bad sender…).
    PERMANENT_CODES = {21211, 21408, 21610, 21612, 21614, 21606, 21659, 30003, 30004, 30005, 30006, 30007}

    def __init__(self):
        self._clients: dict = {}

    def client(self):
        from twilio.http.http_client import TwilioHttpClient
        from twilio.rest import Client

        key = (settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN)
        if not all(key):
            raise ChannelError("Twilio is not configured (TWILIO_ACCOUNT_SID / TWILIO_AUTH_TOKEN).", transient=False,
                               provider=self.provider)
        client = self._clients.get(key)
        if client is None:
            client = self._clients[key] = Client(*key, http_client=TwilioHttpClient(timeout=10))
        return client

    def deliver(self, *, to, body, message):
        kwargs = {"to": to, "body": body, "status_callback": status_callback_url()}
        if settings.TWILIO_MESSAGING_SERVICE_SID:
            kwargs["messaging_service_sid"] = settings.TWILIO_MESSAGING_SERVICE_SID
        elif settings.TWILIO_FROM_NUMBER:
            kwargs["from_"] = settings.TWILIO_FROM_NUMBER
        else:
            raise ChannelError("Twilio has no sender: set TWILIO_MESSAGING_SERVICE_SID or TWILIO_FROM_NUMBER.",
                               transient=False, provider=self.provider)
        return twilio_message_create(self.client(), kwargs, provider=self.provider,
                                     permanent_codes=self.PERMANENT_CODES)

    def find_sent(self, *, notification_id, to, body, since):
        """Twilio's Messages API, filtered by recipient, matched on the body and the time the send
        began (Twilio keeps no id of ours on a message). Raises ChannelError if Twilio can't be asked."""
        from requests import RequestException
        from twilio.base.exceptions import TwilioException

        try:
            recent = self.client().messages.list(to=to, limit=50)  # newest first; queued ones have no DateSent
        except (TwilioException, RequestException) as exc:
            raise ChannelError(f"Twilio could not be asked: {exc}", transient=True, provider=self.provider) from exc
        floor = since - timedelta(minutes=1)
        for sent in recent:
            created = getattr(sent, "date_created", None)
            if sms_normalise(sent.body or "") == body and (created is None or created >= floor):
                return sent.sid
        return None


def twilio_message_create(client, kwargs: dict, *, provider: str, permanent_codes, label: str = "Twilio") -> str:
    """Create one Twilio message (SMS or WhatsApp) and answer its SID, or raise ChannelError:
    permanent for a refusal in ``permanent_codes`` or another 4xx, transient for 429/5xx and a
    network failure, ambiguous (in doubt: it may have gone) when the answer was lost."""
    from requests import RequestException
    from requests.exceptions import ChunkedEncodingError, ReadTimeout
    from twilio.base.exceptions import TwilioException, TwilioRestException

    try:
        created = client.messages.create(**kwargs)
    except TwilioRestException as exc:
        transient = exc.status in (429,) or exc.status >= 500
        if exc.code in permanent_codes:
            transient = False
        raise ChannelError(f"{label} {exc.status} (code {exc.code}): {exc.msg}", transient=transient,
                           provider=provider) from exc
    except (ReadTimeout, ChunkedEncodingError) as exc:
        raise ChannelError(f"Twilio did not answer in time: {type(exc).__name__}: {exc}", transient=True,
                           provider=provider, ambiguous=True) from exc
    except RequestException as exc:
        raise ChannelError(f"Twilio unreachable: {type(exc).__name__}: {exc}", transient=True,
                           provider=provider) from exc
    except TwilioException as exc:
        raise ChannelError(f"Twilio: {exc}", transient=True, provider=provider) from exc
    if getattr(created, "error_code", None):
        raise ChannelError(f"Twilio error {created.error_code}: {created.error_message}", transient=False,
                           provider=provider)
    return created.sid
