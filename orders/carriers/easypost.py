"""EasyPost: ``tracker.created`` / ``tracker.updated`` Event webhooks.

EasyPost signs the raw body with the webhook secret: header ``X-Hmac-Signature:
hmac-sha256-hex=<hex HMAC-SHA256>``, the secret NFKD-normalised and UTF-8 encoded (as its
official client libraries check it). The Event's ``result`` is the whole Tracker, every
``tracking_details`` entry included, so each delivery repeats earlier checkpoints: those are
stored once by their identity.
"""
import hashlib
import hmac
import unicodedata

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

SIGNATURE_HEADER = "X-Hmac-Signature"
SIGNATURE_PREFIX = "hmac-sha256-hex="
TRACKER_EVENTS = frozenset({"tracker.created", "tracker.updated"})

STATUS_MAP = {
    "unknown": T.LABEL_CREATED,
    "pre_transit": T.LABEL_CREATED,
    "in_transit": T.IN_TRANSIT,
    "out_for_delivery": T.OUT_FOR_DELIVERY,
    # Waiting at a pickup point: the last step before the customer has it, like a van round.
    "available_for_pickup": T.OUT_FOR_DELIVERY,
    "delivered": T.DELIVERED,
    "return_to_sender": T.RETURNED,
    "failure": T.EXCEPTION,
    "error": T.EXCEPTION,
    "cancelled": T.EXCEPTION,
}
DEFAULT_MESSAGES = {
    "unknown": "Awaiting the carrier's first scan",
    "pre_transit": "Label created, awaiting collection",
    "cancelled": "The carrier cancelled this shipment",
    "failure": "The carrier reported a delivery failure",
    "error": "The carrier reported an error with this shipment",
}


def sign(raw_body: bytes, secret: str) -> str:
    key = unicodedata.normalize("NFKD", secret).encode("utf-8")
    return SIGNATURE_PREFIX + hmac.new(key, raw_body, hashlib.sha256).hexdigest()


def map_status(raw_status: str) -> str:
    # A status EasyPost adds later is stored as a checkpoint but moves nothing.
    return STATUS_MAP.get(raw_status, T.LABEL_CREATED)


class EasyPostAdapter(SignedWebhookAdapter):
    code = "easypost"
    name = "EasyPost"
    secret_setting = "EASYPOST_WEBHOOK_SECRET"
    signature_header = SIGNATURE_HEADER

    def sign(self, raw_body: bytes) -> str:
        return sign(raw_body, self.secret)

    def parse_webhook(self, raw_body: bytes, headers) -> list[ParsedTracking]:
        event = load_json_object(raw_body)
        if event.get("object") != "Event":
            raise WebhookPayloadError('Expected an EasyPost Event object ("object": "Event").')
        event_id = require(event, "id", str, "event")
        description = require(event, "description", str, "event")
        if description not in TRACKER_EVENTS:
            return []  # another EasyPost event (batch, refund…): acknowledged, nothing to track
        tracker = event.get("result")
        if not isinstance(tracker, dict) or tracker.get("object") != "Tracker":
            raise WebhookPayloadError('event.result must be a Tracker object ("object": "Tracker").')
        tracking_number = require(tracker, "tracking_code", str, "result").strip()
        tracker_status = require(tracker, "status", str, "result")
        details = tracker.get("tracking_details") or []
        if not isinstance(details, list):
            raise WebhookPayloadError("result.tracking_details must be a list.")

        updates = [self._checkpoint(detail, f"result.tracking_details[{i}]") for i, detail in enumerate(details)]
        stated_at = to_utc(tracker.get("updated_at") or event.get("updated_at") or event.get("created_at"),
                           "result.updated_at")
        if not updates:
            # tracker.created before the first scan: the tracker's own status is the only checkpoint.
            updates.append(TrackingUpdate(
                dedupe_key=f"easypost:{optional_str(tracker, 'id') or tracking_number}:{tracker_status}",
                status=map_status(tracker_status), occurred_at=stated_at,
                message=(optional_str(tracker, "status_detail").replace("_", " ").capitalize()
                         or DEFAULT_MESSAGES.get(tracker_status, tracker_status.replace("_", " ").capitalize())),
                raw={"status": tracker_status, "status_detail": tracker.get("status_detail")},
            ))
        carrier_name = optional_str(tracker, "carrier")
        codes = tuple(dict.fromkeys(c for c in (carrier_code(carrier_name), self.code) if c))
        return [ParsedTracking(
            tracking_number=tracking_number, carrier_codes=codes, updates=updates,
            eta=to_date(tracker.get("est_delivery_date"), "result.est_delivery_date"), eta_as_of=stated_at,
            event_id=event_id, event_type=description, carrier_name=carrier_name,
        )]

    def _checkpoint(self, detail, where: str) -> TrackingUpdate:
        if not isinstance(detail, dict):
            raise WebhookPayloadError(f"{where} must be an object.")
        raw_status = require(detail, "status", str, where)
        occurred_at = to_utc(detail.get("datetime"), f"{where}.datetime")
        place = detail.get("tracking_location") if isinstance(detail.get("tracking_location"), dict) else {}
        location = join_location(place.get("city"), place.get("state"), place.get("country"))
        message = (optional_str(detail, "message") or optional_str(detail, "description")
                   or DEFAULT_MESSAGES.get(raw_status, raw_status.replace("_", " ").capitalize()))
        return TrackingUpdate(
            dedupe_key=checkpoint_key(self.code, occurred_at, raw_status, message, location),
            status=map_status(raw_status), occurred_at=occurred_at, message=message, location=location,
            raw=detail,
        )
