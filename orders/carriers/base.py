"""The one carrier adapter interface, the values it returns and helpers shared by adapters.

An adapter turns a carrier's own formats into ``orders.services.TrackingUpdate`` values:
``verify`` checks an inbound webhook's signature over the raw body, ``parse_webhook`` reads it,
``poll`` asks the carrier about one tracking number. Adapters do no database writes; the
webhook view and the polling task hand their results to ``orders.carriers.ingest``.
"""
import hashlib
import hmac
import json
import math
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from datetime import timezone as dt_timezone

from django.utils.dateparse import parse_date, parse_datetime

from notify_site.text import first_unstorable, loads_json
from orders.services import TrackingUpdate


class WebhookPayloadError(ValueError):
    """The body is not a webhook this carrier sends; the message is the 400 reason."""


class PollingNotSupported(NotImplementedError):
    """This carrier pushes webhooks and is not polled."""


class CarrierUnavailable(Exception):
    """A poll failed for a passing reason (network, carrier 5xx, carrier rate limit): try later."""


@dataclass
class ParsedTracking:
    """What one webhook says about one tracking number."""

    tracking_number: str
    # Our Shipment.carrier codes this tracking number may be stored under, most specific first
    # (e.g. a USPS parcel tracked through EasyPost: ("usps", "easypost")).
    carrier_codes: tuple[str, ...]
    updates: list[TrackingUpdate] = field(default_factory=list)
    eta: date | None = None
    eta_as_of: datetime | None = None
    event_id: str = ""
    event_type: str = ""
    carrier_name: str = ""


class CarrierAdapter:
    code: str = ""
    name: str = ""
    receives_webhooks: bool = False
    pollable: bool = False
    # How long after a poll the same shipment is polled again.
    poll_interval: timedelta = timedelta(minutes=30)

    def is_configured(self) -> bool:
        """Whether webhooks can be verified (a secret is set)."""
        return True

    def verify(self, raw_body: bytes, headers) -> bool:
        return False

    def parse_webhook(self, raw_body: bytes, headers) -> list[ParsedTracking]:
        raise WebhookPayloadError(f"{self.name} does not send webhooks.")

    def poll(self, tracking_number: str, *, shipment=None) -> list[TrackingUpdate]:
        """Every checkpoint the carrier knows for this tracking number (replays are harmless)."""
        raise PollingNotSupported(f"{self.name} is not polled.")

    def __repr__(self):
        return f"<{type(self).__name__} {self.code}>"


class SignedWebhookAdapter(CarrierAdapter):
    """A carrier that signs its webhooks with an HMAC of the raw body under a shared secret.

    Subclasses name the setting holding the secret, the header carrying the signature and how
    the signature is computed (``sign``); the comparison is constant-time.
    """

    receives_webhooks = True
    secret_setting: str = ""
    signature_header: str = ""

    @property
    def secret(self) -> str:
        from django.conf import settings

        return getattr(settings, self.secret_setting, "")

    def is_configured(self) -> bool:
        return bool(self.secret)

    def sign(self, raw_body: bytes) -> str:
        raise NotImplementedError

    def verify(self, raw_body: bytes, headers) -> bool:
        given = headers.get(self.signature_header) or ""
        if not self.secret or not given:
            return False
        return hmac.compare_digest(self.sign(raw_body).encode(), given.strip().encode("utf-8", "replace"))


# --- helpers shared by adapters ------------------------------------------------------------

def load_json_object(raw_body: bytes) -> dict:
    """The body as a JSON object, or WebhookPayloadError saying why not: not UTF-8, not JSON, NaN or
    Infinity, nested deeper than we read, or holding text the database cannot store (NUL, a lone
    surrogate)."""
    try:
        data = loads_json(raw_body.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise WebhookPayloadError("Body is not UTF-8.") from exc
    except json.JSONDecodeError as exc:
        raise WebhookPayloadError(f"Body is not valid JSON: {exc.msg} at position {exc.pos}.") from exc
    except (ValueError, RecursionError) as exc:
        raise WebhookPayloadError(f"Body is not acceptable JSON: {exc}.") from exc
    if not isinstance(data, dict):
        raise WebhookPayloadError("Body must be a JSON object.")
    problem = first_unstorable(data)
    if problem:
        raise WebhookPayloadError(f"Body is not acceptable: {problem}.")
    return data


def require(mapping: dict, key: str, kind, where: str):
    value = mapping.get(key)
    if not isinstance(value, kind) or (isinstance(value, str) and not value.strip()):
        expected = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
        raise WebhookPayloadError(f"{where}.{key} is missing or not a {expected}.")
    return value


def optional_str(mapping: dict, key: str) -> str:
    value = mapping.get(key)
    return value.strip() if isinstance(value, str) else ""


# Times outside this range are not real scans (a timestamp of 1e20, year 9999, before unix time).
EARLIEST = datetime(1970, 1, 1, tzinfo=dt_timezone.utc)
LATEST = datetime(2100, 1, 1, tzinfo=dt_timezone.utc)


def to_utc(value, where: str) -> datetime:
    """An ISO 8601 string (or unix seconds) as an aware UTC datetime; naive times are taken as UTC.
    Anything else, or a time outside 1970–2100, is a WebhookPayloadError naming the field."""
    if isinstance(value, bool):
        value = None
    parsed = None
    try:
        if isinstance(value, (int, float)):
            parsed = datetime.fromtimestamp(value, tz=dt_timezone.utc) if math.isfinite(value) else None
        elif isinstance(value, str) and value.strip():
            parsed = parse_datetime(value.strip())
            if parsed is not None:
                if parsed.tzinfo is None:
                    parsed = parsed.replace(tzinfo=dt_timezone.utc)
                parsed = parsed.astimezone(dt_timezone.utc)
    except (ValueError, OverflowError, OSError):
        parsed = None
    if parsed is None:
        raise WebhookPayloadError(f"{where} is not a date-time: {_shown(value)}.")
    if not EARLIEST <= parsed < LATEST:
        raise WebhookPayloadError(f"{where} is out of range: {_shown(value)}.")
    return parsed


def _shown(value) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "…"


def to_date(value, where: str) -> date | None:
    """A delivery estimate as a date: accepts "2024-05-02", a full date-time, or null."""
    if value in (None, ""):
        return None
    if isinstance(value, str):
        text = value.strip()
        try:
            as_date = parse_date(text[:10])
        except ValueError:
            as_date = None
        if as_date is not None:
            if not EARLIEST.date() <= as_date < LATEST.date():
                raise WebhookPayloadError(f"{where} is out of range: {_shown(value)}.")
            # A date-time estimate carries its own offset; the calendar day it names is what we show.
            return as_date
    raise WebhookPayloadError(f"{where} is not a date: {_shown(value)}.")


def checkpoint_key(carrier: str, occurred_at: datetime, carrier_status: str, message: str, location: str) -> str:
    """A checkpoint's identity when the carrier gives it no id: the same scan always hashes the same."""
    identity = "|".join([occurred_at.astimezone(dt_timezone.utc).isoformat(), carrier_status.strip().lower(),
                         " ".join(message.split()).lower(), " ".join(location.split()).lower()])
    return f"{carrier}:{hashlib.sha256(identity.encode('utf-8')).hexdigest()[:40]}"


def join_location(*parts) -> str:
    seen, out = set(), []
    for part in parts:
        text = part.strip() if isinstance(part, str) else ""
        if text and text.lower() not in seen:
            seen.add(text.lower())
            out.append(text)
    return ", ".join(out)


def carrier_code(name: str) -> str:
    """A carrier's display name or slug as our carrier code ("Royal Mail" / "royal-mail" → "royalmail")."""
    code = "".join(ch for ch in name.lower() if ch.isalnum())
    return CARRIER_ALIASES.get(code, code)


CARRIER_ALIASES = {
    "dhlexpress": "dhl", "dhlparceluk": "dhl", "dhlecommerce": "dhl",
    "dpduk": "dpd", "dpdlocal": "dpd",
    "fedexuk": "fedex",
    "parcelforce": "royalmail", "parcelforceworldwide": "royalmail",
}
