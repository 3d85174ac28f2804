"""/healthz (the process answers), /readyz (it can do its job), /metrics (Prometheus, token)."""
import hmac

from django.conf import settings
from django.http import Http404, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from .metrics import render_metrics
from .services import readiness


@never_cache
@require_GET
def healthz(request):
    """Liveness: the web process is up and answering. Touches nothing else, so a database or
    broker outage never makes an orchestrator restart healthy web processes."""
    return JsonResponse({"status": "ok"})


@never_cache
@require_GET
def readyz(request):
    """Readiness: database, broker, a worker and beat seen recently. 503 names what failed."""
    ok, checks = readiness()
    failed = [name for name, result in checks.items() if not result["ok"]]
    return JsonResponse({"status": "ok" if ok else "fail", "failed": failed, "checks": checks},
                        status=200 if ok else 503)


@never_cache
@require_GET
def metrics(request):
    token = settings.METRICS_TOKEN
    if not token:
        raise Http404("Metrics are off (set METRICS_TOKEN).")
    given = request.META.get("HTTP_AUTHORIZATION", "")
    scheme, _, value = given.partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(value.strip().encode(), token.encode()):
        response = HttpResponse("A valid bearer token is required.\n", status=401, content_type="text/plain")
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    return HttpResponse(render_metrics(), content_type="text/plain; version=0.0.4; charset=utf-8")
