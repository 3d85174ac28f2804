"""Provider callbacks: Twilio delivery status (SMS and WhatsApp) and inbound STOP/START (both) (signature-verified with
twilio's RequestValidator) and anymail's normalised email tracking events (anymail verifies its
own webhook with the basic-auth ANYMAIL["WEBHOOK_SECRET"] before sending the signal)."""
import logging
import re

from django.conf import settings
from django.http import HttpResponse, HttpResponseBadRequest, HttpResponseForbidden
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from notify_site.text import storable

from .events import Channel
from .models import DeliveryAttempt, Suppression
from .services import attempt_record_provider_status, sms_inbound_keyword, whatsapp_inbound_seen

log = logging.getLogger(__name__)

TWILIO_STATUS = {
    "accepted": DeliveryAttempt.Status.SENT, "scheduled": DeliveryAttempt.Status.SENT,
    "queued": DeliveryAttempt.Status.SENT, "sending": DeliveryAttempt.Status.SENT,
    "sent": DeliveryAttempt.Status.SENT,
    "delivered": DeliveryAttempt.Status.DELIVERED, "read": DeliveryAttempt.Status.DELIVERED,
    # Some segments of a long message reached the handset: the customer has (most of) it.
    "partially_delivered": DeliveryAttempt.Status.DELIVERED,
    "undelivered": DeliveryAttempt.Status.BOUNCED, "failed": DeliveryAttempt.Status.FAILED,
    # A scheduled message cancelled before it went out: it never reached the customer.
    "canceled": DeliveryAttempt.Status.FAILED,
}
# How far along each Twilio status is; callbacks arrive out of order and a late one never moves
# the attempt's provider_status back (a "sent" after "delivered" is dropped).
TWILIO_PROGRESS = {
    "accepted": 0, "scheduled": 0, "queued": 1, "sending": 2, "sent": 3,
    "partially_delivered": 4, "delivered": 4, "undelivered": 4, "failed": 4, "canceled": 4, "read": 5,
}
SID_RE = re.compile(r"^[A-Za-z]{2}[A-Za-z0-9]{1,62}$")
ERROR_CODE_RE = re.compile(r"^\d{1,10}$")
# E.164 (at most 15 digits), optionally as a WhatsApp address.
FROM_RE = re.compile(r"^(whatsapp:)?\+?\d{3,15}$")
# Twilio Advanced Opt-Out tells us which kind of keyword the message was, in any language.
OPT_OUT_TYPES = {"STOP": "stop", "START": "start", "HELP": "help"}
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
    sid, status = request.POST.get("MessageSid", "").strip(), request.POST.get("MessageStatus", "").lower()
    code = request.POST.get("ErrorCode", "").strip()
    problem = ("MessageSid is missing or malformed." if not SID_RE.match(sid)
               else f"Unknown MessageStatus {status[:40]!r}." if status not in TWILIO_STATUS
               else "ErrorCode must be a number." if code and not ERROR_CODE_RE.match(code) else "")
    if problem:
        log.warning("Twilio status callback refused (400): %s", problem)
        return HttpResponseBadRequest(f"Bad Twilio status callback: {problem}")
    error = f"Twilio error {code}: {storable(request.POST.get('ErrorMessage', ''))}".strip(": ") if code else ""
    attempt = attempt_record_provider_status(provider_message_id=sid, status=TWILIO_STATUS[status],
                                             provider_status=status, error=error,
                                             suppress=TWILIO_SUPPRESS.get(code, ""), progress=TWILIO_PROGRESS)
    if attempt is None:
        log.info("Twilio status %s for unknown message %s", status, sid)
    return HttpResponse("ok")


@csrf_exempt
@require_POST
def twilio_inbound(request):
    if not twilio_signature_ok(request):
        return HttpResponseForbidden("Invalid Twilio signature.")
    from_number = request.POST.get("From", "").strip()
    if not FROM_RE.match(from_number):
        log.warning("Twilio inbound message refused (400): From %r is not a phone number", from_number[:40])
        return HttpResponseBadRequest("Bad Twilio inbound message: From is not a phone number.")
    opt_out = OPT_OUT_TYPES.get(request.POST.get("OptOutType", "").strip().upper(), "")
    # The same inbound URL serves the SMS number and the WhatsApp sender: "whatsapp:+44…" is a
    # WhatsApp message, which also opens the 24-hour session window for free-form replies.
    whatsapp = from_number.startswith("whatsapp:")
    number = from_number.removeprefix("whatsapp:")
    if whatsapp:
        whatsapp_inbound_seen(from_number=number)
    sms_inbound_keyword(from_number=number, body=request.POST.get("Body", ""), opt_out_type=opt_out,
                        channel=Channel.WHATSAPP if whatsapp else Channel.SMS)
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
    from .email_webhooks import event_seen_before, forget_event

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
    try:
        attempt_record_provider_status(provider_message_id=storable(event.message_id or ""), status=status,
                                       provider_status=f"{esp_name}:{event.event_type}", error=error,
                                       suppress=suppress)
    except Exception:
        forget_event(esp_name=esp_name, event_id=event.event_id)  # the provider's retry must be handled
        raise
