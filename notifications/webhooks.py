"""Provider callbacks: Twilio delivery status and inbound STOP/START (signature-verified with
twilio's RequestValidator) and anymail's normalised email tracking events (anymail verifies its
own webhook with the basic-auth ANYMAIL["WEBHOOK_SECRET"] before sending the signal)."""
import logging

from django.conf import settings
from django.http import HttpResponse, HttpResponseBadRequest, HttpResponseForbidden
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from notify_site.text import storable

from .models import DeliveryAttempt, Suppression
from .services import attempt_record_provider_status, sms_inbound_keyword

log = logging.getLogger(__name__)

TWILIO_STATUS = {
    "accepted": DeliveryAttempt.Status.SENT, "queued": DeliveryAttempt.Status.SENT,
    "sending": DeliveryAttempt.Status.SENT, "sent": DeliveryAttempt.Status.SENT,
    "delivered": DeliveryAttempt.Status.DELIVERED, "read": DeliveryAttempt.Status.DELIVERED,
    "undelivered": DeliveryAttempt.Status.BOUNCED, "failed": DeliveryAttempt.Status.FAILED,
}
# Twilio error codes that mean "never text this number again" (opted out / unknown / landline).
TWILIO_SUPPRESS = {"21610": Suppression.Reason.STOP, "30004": Suppression.Reason.STOP,
                   "30005": Suppression.Reason.BOUNCE, "30006": Suppression.Reason.BOUNCE}


def twilio_signature_ok(request) -> bool:
    from twilio.request_validator import RequestValidator

    token = settings.TWILIO_AUTH_TOKEN
    signature = request.headers.get("X-Twilio-Signature", "")
    if not token or not signature:
        return False
    # Twilio signs the exact URL it called: ours as configured (SITE_URL), not what a proxy shows.
    url = settings.SITE_URL + request.get_full_path()
    return RequestValidator(token).validate(url, request.POST.dict(), signature)


@csrf_exempt
@require_POST
def twilio_status(request):
    if not twilio_signature_ok(request):
        return HttpResponseForbidden("Invalid Twilio signature.")
    sid, status = request.POST.get("MessageSid", ""), request.POST.get("MessageStatus", "").lower()
    if not sid or status not in TWILIO_STATUS:
        return HttpResponseBadRequest("MessageSid and a known MessageStatus are required.")
    code = request.POST.get("ErrorCode", "")
    error = f"Twilio error {code}: {request.POST.get('ErrorMessage', '')}".strip(": ") if code else ""
    attempt = attempt_record_provider_status(provider_message_id=sid, status=TWILIO_STATUS[status],
                                             provider_status=status, error=error,
                                             suppress=TWILIO_SUPPRESS.get(code, ""))
    if attempt is None:
        log.info("Twilio status %s for unknown message %s", status, sid)
    return HttpResponse("ok")


@csrf_exempt
@require_POST
def twilio_inbound(request):
    if not twilio_signature_ok(request):
        return HttpResponseForbidden("Invalid Twilio signature.")
    sms_inbound_keyword(from_number=request.POST.get("From", ""), body=request.POST.get("Body", ""))
    # Empty TwiML: Twilio's own opt-out handling sends the carrier-required confirmation.
    return HttpResponse('<?xml version="1.0" encoding="UTF-8"?><Response/>', content_type="text/xml")


ANYMAIL_STATUS = {
    "queued": (DeliveryAttempt.Status.SENT, ""),
    "sent": (DeliveryAttempt.Status.SENT, ""),
    "deferred": (DeliveryAttempt.Status.SENT, ""),
    "delivered": (DeliveryAttempt.Status.DELIVERED, ""),
    "opened": (DeliveryAttempt.Status.DELIVERED, ""),
    "clicked": (DeliveryAttempt.Status.DELIVERED, ""),
    "bounced": (DeliveryAttempt.Status.BOUNCED, Suppression.Reason.BOUNCE),
    "rejected": (DeliveryAttempt.Status.BOUNCED, Suppression.Reason.BOUNCE),
    "failed": (DeliveryAttempt.Status.FAILED, ""),
    "complained": (DeliveryAttempt.Status.DELIVERED, Suppression.Reason.COMPLAINT),
}


def on_anymail_tracking(sender, event, esp_name, **kwargs):
    """anymail.signals.tracking receiver: move the attempt for event.message_id on."""
    from .email_webhooks import event_seen_before

    status, suppress = ANYMAIL_STATUS.get(event.event_type, (None, ""))
    if status is None:
        return
    if event_seen_before(esp_name=esp_name, event_id=event.event_id):
        log.info("%s tracking event %s already handled: replay ignored", esp_name, event.event_id)
        return
    # A soft bounce (mailbox full, greylisted…) is not a reason to stop mailing the address.
    if suppress == Suppression.Reason.BOUNCE and event.reject_reason not in ("bounced", "invalid", None):
        suppress = ""
    error = storable(" · ".join(str(x) for x in (event.reject_reason, event.description, event.mta_response) if x))
    attempt_record_provider_status(provider_message_id=storable(event.message_id or ""), status=status,
                                   provider_status=f"{esp_name}:{event.event_type}", error=error, suppress=suppress)
