"""Browser notifications: the service worker at the site root and the subscribe / unsubscribe
endpoints the "turn on notifications in this browser" button calls (static/js/push.js)."""
import json
from pathlib import Path

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpResponse, JsonResponse
from django.views.decorators.http import require_GET, require_POST

from .services import push_subscription_remove, push_subscription_save

SERVICE_WORKER = Path(settings.BASE_DIR) / "static" / "js" / "sw.js"


@require_GET
def service_worker(request):
    """/sw.js: served from the root so its scope is the whole site."""
    response = HttpResponse(SERVICE_WORKER.read_bytes(), content_type="application/javascript; charset=utf-8")
    response["Service-Worker-Allowed"] = "/"
    response["Cache-Control"] = "no-cache"
    return response


def _payload(request) -> dict:
    try:
        data = json.loads(request.body.decode("utf-8") or "{}")
    except (UnicodeDecodeError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


@require_POST
@login_required
def push_subscribe(request):
    data = _payload(request)
    keys = data.get("keys") if isinstance(data.get("keys"), dict) else {}
    try:
        sub = push_subscription_save(user=request.user, endpoint=str(data.get("endpoint", "")),
                                     p256dh=str(keys.get("p256dh", "")), auth=str(keys.get("auth", "")),
                                     user_agent=request.headers.get("User-Agent", ""))
    except ValidationError as exc:
        return JsonResponse({"error": " ".join(exc.messages)}, status=400)
    return JsonResponse({"ok": True, "id": sub.pk,
                         "devices": request.user.push_subscriptions.count()}, status=201)


@require_POST
@login_required
def push_unsubscribe(request):
    endpoint = str(_payload(request).get("endpoint", ""))
    if not endpoint:
        return JsonResponse({"error": "endpoint is required."}, status=400)
    removed = push_subscription_remove(user=request.user, endpoint=endpoint)
    return JsonResponse({"ok": True, "removed": removed})
