"""``POST /webhooks/stripe/``: Stripe's signed payment events.

Verified with the ``stripe`` library's own check (``Stripe-Signature``, the whole ``whsec_…``
secret, 300 s tolerance, any of several ``v1`` signatures), which replaces CSRF. A bad or stale
signature and a body that is not a Stripe event get a 400 before anything is written; a signed
event for an intent we don't know gets a 200 (logged) so Stripe does not retry it for days.
"""
import json
import logging

import stripe
from django.conf import settings
from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from .payments.stripe_events import StripeEventMalformed, stripe_event_ingest

logger = logging.getLogger("orders.payments")
TOLERANCE_SECONDS = 300


@csrf_exempt
@require_POST
def stripe_webhook(request):
    secret = settings.STRIPE_WEBHOOK_SECRET
    if not secret:
        logger.error("Stripe webhook refused: STRIPE_WEBHOOK_SECRET is not configured")
        return JsonResponse({"error": "Stripe webhooks are not enabled here."}, status=403)
    try:
        stripe.Webhook.construct_event(request.body, request.headers.get("Stripe-Signature", ""), secret,
                                       tolerance=TOLERANCE_SECONDS)
    except stripe.SignatureVerificationError as exc:
        logger.warning("Stripe webhook refused: %s (from %s)", exc, request.META.get("REMOTE_ADDR"))
        return JsonResponse({"error": f"Invalid signature: {exc.user_message or exc}"}, status=400)
    except ValueError:  # not UTF-8 or not JSON (checked after the signature)
        return JsonResponse({"error": "The body is not a JSON Stripe event."}, status=400)
    try:
        log, repeat = stripe_event_ingest(event=json.loads(request.body))
    except StripeEventMalformed as exc:
        return JsonResponse({"error": str(exc)}, status=400)
    return JsonResponse({"outcome": log.outcome, "repeat": repeat, "detail": log.detail})
