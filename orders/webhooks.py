"""Inbound carrier webhooks: ``POST /webhooks/carriers/<carrier>/``.

The carrier's signature over the raw body replaces CSRF. A bad or missing signature is refused
(401) and a body we can't read gets a 400 with the reason, both before anything is written.
Anything signed and well-formed gets a 200, even for a tracking number we don't know (logged),
so the carrier doesn't retry it for days.
"""
import json
import logging

from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from .carriers import get_adapter
from .carriers.base import WebhookPayloadError
from .carriers.ingest import carrier_webhook_ingest

logger = logging.getLogger("orders.carriers")


@csrf_exempt
@require_POST
def carrier_webhook(request, carrier: str):
    adapter = get_adapter(carrier)
    if adapter is None or not adapter.receives_webhooks:
        return JsonResponse({"error": f"No webhooks for carrier “{carrier}”."}, status=404)
    raw_body = request.body
    if not adapter.is_configured():
        logger.error("%s webhook refused: its webhook secret is not configured", adapter.code)
        return JsonResponse({"error": f"{adapter.name} webhooks are not enabled here."}, status=403)
    if not adapter.verify(raw_body, request.headers):
        logger.warning("%s webhook refused: missing or invalid signature (from %s)", adapter.code,
                       request.META.get("REMOTE_ADDR"))
        return JsonResponse({"error": "Missing or invalid signature."}, status=401)
    try:
        parsed = adapter.parse_webhook(raw_body, request.headers)
    except WebhookPayloadError as exc:
        # Signed but unreadable: a 400 with the reason (a 500 would have the carrier retry it for days).
        logger.warning("%s webhook refused (400): %s", adapter.code, exc)
        return JsonResponse({"error": str(exc)}, status=400)
    payload = json.loads(raw_body)  # parse_webhook has checked it is a storable JSON object
    log = carrier_webhook_ingest(carrier=adapter.code, parsed=parsed, payload=payload,
                                 event_type=str(payload.get("description") or payload.get("event") or ""))
    return JsonResponse({"outcome": log.outcome, "checkpoints_stored": log.checkpoints_stored})
