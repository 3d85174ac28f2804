"""The email provider's delivery-tracking webhook: ``POST /anymail/<esp>/tracking/``.

Only the configured provider's URL answers (``EMAIL_WEBHOOK_ESP``, else the ESP of
``EMAIL_BACKEND``); every other provider's is a 404. The request must carry the basic-auth
``ANYMAIL_WEBHOOK_SECRET`` (required in production by a deploy system check, see
notifications.checks) on top of whatever signature the provider adds. A malformed body is a 400
with the reason, never a 500. Replays are ignored: an event id seen before is dropped (in
``on_anymail_tracking``), and a provider that signs only a timestamp and token (Mailgun) is refused
once the timestamp is older than ``EMAIL_WEBHOOK_MAX_AGE_SECONDS``.
"""
import hashlib
import json
import logging
import math
import time

from django.conf import settings
from django.core.cache import cache
from django.http import Http404, JsonResponse
from django.views.decorators.csrf import csrf_exempt

log = logging.getLogger(__name__)

# anymail's own URL names, per provider (Mandrill has one combined endpoint).
TRACKING_URL_NAMES = {"mandrill": "mandrill_webhook"}
# Providers whose signature covers only a timestamp and a token, not the event.
TIMESTAMP_SIGNED = {"mailgun"}
REPLAY_TTL_SECONDS = 7 * 24 * 3600


def configured_esp() -> str:
    """The ESP whose tracking webhook is mounted ('' when email does not go through anymail)."""
    explicit = getattr(settings, "EMAIL_WEBHOOK_ESP", "")
    if explicit:
        return explicit.strip().lower()
    parts = settings.EMAIL_BACKEND.split(".")
    if len(parts) > 2 and parts[0] == "anymail" and parts[1] == "backends":
        return parts[2].lower()
    return ""


def webhook_secret_configured() -> bool:
    return bool((getattr(settings, "ANYMAIL", None) or {}).get("WEBHOOK_SECRET"))


def _anymail_view_class(esp: str):
    from anymail import urls as anymail_urls

    name = TRACKING_URL_NAMES.get(esp, f"{esp}_tracking_webhook")
    for pattern in anymail_urls.urlpatterns:
        if pattern.name == name:
            return pattern.callback.view_class
    return None


def _guarded(view_class, esp: str):
    """anymail's view for ``esp`` with a malformed body refused as a 400 and stale Mailgun
    signatures refused (both raise AnymailWebhookValidationFailure, a 400)."""
    from anymail.exceptions import AnymailWebhookValidationFailure

    class Guarded(view_class):
        def validate_request(self, request):
            if esp in TIMESTAMP_SIGNED:
                _refuse_stale_mailgun(request, AnymailWebhookValidationFailure)

        def parse_events(self, request):
            try:
                return super().parse_events(request)
            except (KeyError, ValueError, TypeError, AttributeError, IndexError, OverflowError, RecursionError) as exc:
                raise AnymailWebhookValidationFailure(
                    f"Malformed {self.esp_name} webhook: {type(exc).__name__}: {exc}"[:300]) from exc

    Guarded.__name__ = f"Guarded{view_class.__name__}"
    return Guarded


def _refuse_stale_mailgun(request, failure):
    timestamp = None
    if request.content_type == "application/json":
        try:
            timestamp = json.loads(request.body.decode("utf-8"))["signature"]["timestamp"]
        except (KeyError, TypeError, ValueError, UnicodeDecodeError):
            timestamp = None
    else:
        timestamp = request.POST.get("timestamp")
    try:
        signed_at = float(timestamp)
    except (TypeError, ValueError):
        raise failure("Mailgun webhook without a usable signature timestamp") from None
    max_age = settings.EMAIL_WEBHOOK_MAX_AGE_SECONDS
    if not math.isfinite(signed_at) or abs(time.time() - signed_at) > max_age:
        raise failure(f"Mailgun webhook signature timestamp is more than {max_age} s old: refused as a replay")


@csrf_exempt
def tracking_webhook(request, esp: str):
    esp = esp.lower()
    if esp != configured_esp():
        raise Http404("No email tracking webhook here.")
    if not webhook_secret_configured() and not settings.DEBUG:
        log.error("%s tracking webhook refused: ANYMAIL_WEBHOOK_SECRET is not set", esp)
        return JsonResponse({"error": "Email tracking webhooks are not enabled here."}, status=403)
    view_class = _anymail_view_class(esp)
    if view_class is None:
        raise Http404("No email tracking webhook here.")
    from anymail.exceptions import AnymailConfigurationError

    try:
        view = _guarded(view_class, esp).as_view()
        return view(request)
    except AnymailConfigurationError as exc:  # e.g. Mailgun's signing key missing
        log.error("%s tracking webhook refused: %s", esp, exc)
        return JsonResponse({"error": "Email tracking webhooks are not configured here."}, status=503)


def _event_key(esp_name: str, event_id: str) -> str:
    digest = hashlib.sha256(f"{esp_name.lower()}:{event_id}".encode("utf-8", "replace")).hexdigest()
    return f"anymail:event:{digest}"


def event_seen_before(*, esp_name: str, event_id: str | None) -> bool:
    """True when this provider event id was already handled (a replay); remembers it otherwise."""
    if not event_id:
        return False
    return not cache.add(_event_key(esp_name, str(event_id)), 1, REPLAY_TTL_SECONDS)


def forget_event(*, esp_name: str, event_id: str | None) -> None:
    if event_id:
        cache.delete(_event_key(esp_name, str(event_id)))
