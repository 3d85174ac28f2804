"""AfterShip Tracking webhooks (``tracking_update`` and ``edd_revise`` events).

AfterShip signs the raw body: header ``aftership-hmac-sha256`` is the base64 HMAC-SHA256 of
the body with the account's webhook secret. ``msg`` is the whole Tracking, every checkpoint
included; checkpoints carry a ``hash`` in newer API versions, otherwise their identity is
hashed from time, tag, message and location.
"""
import base64
import hashlib
import hmac

from orders.models import TrackingStatus as T
from orders.services import TrackingUpdate

from .base import (
    ParsedTracking,
    SignedWebhookAdapter,
    WebhookPayloadError,
    carrier_code,
    checkpoint_key,
    join_location,
    load_json_object,
    optional_str,
    require,
    to_date,
    to_utc,
)

SIGNATURE_HEADER = "aftership-hmac-sha256"
TRACKING_EVENTS = frozenset({"tracking_update", "edd_revise"})

TAG_MAP = {
    "Pending": T.LABEL_CREATED,
    "InfoReceived": T.LABEL_CREATED,
    "InTransit": T.IN_TRANSIT,
    "OutForDelivery": T.OUT_FOR_DELIVERY,
    "AvailableForPickup": T.OUT_FOR_DELIVERY,
    "AttemptFail": T.EXCEPTION,
    "Delivered": T.DELIVERED,
    "Exception": T.EXCEPTION,
    # No update from the carrier for weeks: worth telling the customer, like an exception.
    "Expired": T.EXCEPTION,
}
# Sub-statuses that are a different status of ours.
SUBTAG_MAP = {"Exception_011": T.RETURNED}
DEFAULT_MESSAGES = {
    "Pending": "Awaiting the carrier's first scan",
    "InfoReceived": "The carrier has received the shipment details",
    "Expired": "No further updates from the carrier",
}


def sign(raw_body: bytes, secret: str) -> str:
    return base64.b64encode(hmac.new(secret.encode("utf-8"), raw_body, hashlib.sha256).digest()).decode("ascii")


def map_tag(tag: str, subtag: str = "") -> str:
    return SUBTAG_MAP.get(subtag) or TAG_MAP.get(tag, T.LABEL_CREATED)


def _estimate(msg: dict):
    """The freshest delivery estimate AfterShip gives, across its API versions."""
    if msg.get("expected_delivery"):
        return to_date(msg["expected_delivery"], "msg.expected_delivery")
    for key in ("courier_estimated_delivery_date", "aftership_estimated_delivery_date",
                "custom_estimated_delivery_date"):
        block = msg.get(key)
        if isinstance(block, dict):
            value = block.get("estimated_delivery_date") or block.get("estimated_delivery_date_max")
            if value:
                return to_date(value, f"msg.{key}.estimated_delivery_date")
    return None


class AfterShipAdapter(SignedWebhookAdapter):
    code = "aftership"
    name = "AfterShip"
    secret_setting = "AFTERSHIP_WEBHOOK_SECRET"
    signature_header = SIGNATURE_HEADER

    def sign(self, raw_body: bytes) -> str:
        return sign(raw_body, self.secret)

    def parse_webhook(self, raw_body: bytes, headers) -> list[ParsedTracking]:
        body = load_json_object(raw_body)
        event_type = require(body, "event", str, "body")
        if event_type not in TRACKING_EVENTS:
            return []  # e.g. tracking_pending_time: acknowledged, nothing to store
        msg = body.get("msg")
        if not isinstance(msg, dict):
            raise WebhookPayloadError("body.msg must be a tracking object.")
        tracking_number = require(msg, "tracking_number", str, "msg").strip()
        tag = optional_str(msg, "tag")
        checkpoints = msg.get("checkpoints") or []
        if not isinstance(checkpoints, list):
            raise WebhookPayloadError("msg.checkpoints must be a list.")
        if "ts" in body:
            stated_at = to_utc(body["ts"], "body.ts")
        else:
            stated_at = to_utc(msg.get("updated_at"), "msg.updated_at")

        updates = [self._checkpoint(cp, f"msg.checkpoints[{i}]") for i, cp in enumerate(checkpoints)]
        if not updates:
            if tag not in TAG_MAP:
                raise WebhookPayloadError("msg.tag is missing or unknown and there are no checkpoints.")
            updates.append(TrackingUpdate(
                dedupe_key=f"aftership:{optional_str(msg, 'id') or tracking_number}:{tag}",
                status=map_tag(tag, optional_str(msg, "subtag")), occurred_at=stated_at,
                message=optional_str(msg, "subtag_message") or DEFAULT_MESSAGES.get(tag, tag),
                raw={"tag": tag, "subtag": msg.get("subtag")},
            ))
        slug = optional_str(msg, "slug")
        codes = tuple(dict.fromkeys(c for c in (carrier_code(slug), self.code) if c))
        event_id = optional_str(body, "event_id") or optional_str(body, "id")
        return [ParsedTracking(
            tracking_number=tracking_number, carrier_codes=codes, updates=updates,
            eta=_estimate(msg), eta_as_of=stated_at, event_id=event_id, event_type=event_type,
            carrier_name=slug,
        )]

    def _checkpoint(self, cp, where: str) -> TrackingUpdate:
        if not isinstance(cp, dict):
            raise WebhookPayloadError(f"{where} must be an object.")
        occurred_at = to_utc(cp.get("checkpoint_time"), f"{where}.checkpoint_time")
        tag = optional_str(cp, "tag")
        subtag = optional_str(cp, "subtag")
        location = optional_str(cp, "location") or join_location(
            cp.get("city"), cp.get("state"), cp.get("country_name") or cp.get("country_iso3"))
        message = (optional_str(cp, "message") or optional_str(cp, "subtag_message")
                   or DEFAULT_MESSAGES.get(tag, tag or "Tracking update"))
        dedupe_key = (f"aftership:{cp['hash']}" if optional_str(cp, "hash")
                      else checkpoint_key(self.code, occurred_at, subtag or tag, message, location))
        return TrackingUpdate(
            dedupe_key=dedupe_key, status=map_tag(tag, subtag), occurred_at=occurred_at, message=message,
            location=location, raw=cp,
        )
