"""Request context for logs and webhook intake counts for /metrics."""
import re
import uuid

from . import logs
from .counters import count

REQUEST_ID_HEADER = "HTTP_X_REQUEST_ID"
VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{8,128}$")
# Webhook endpoints (url name -> source label) whose intake /metrics reports.
WEBHOOK_SOURCES = {
    "carrier_webhook": None,  # the carrier slug from the URL
    "twilio_status": "twilio_status",
    "twilio_inbound": "twilio_inbound",
}


class RequestContextMiddleware:
    """Binds a request id (the proxy's X-Request-ID when it sends a sane one, else a new one) for
    every log line of the request, echoes it in the response, adds the order number of
    /orders/<number>/ pages, and counts webhook requests by source and outcome."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.META.get(REQUEST_ID_HEADER, "")
        request_id = incoming if VALID_REQUEST_ID.match(incoming) else uuid.uuid4().hex
        request.request_id = request_id
        # A fresh context per request, deliberately not reset on the way out: Django logs 4xx
        # responses ("Not Found: …") after the middleware chain returns, and they should carry the
        # id too. The next request on this thread starts from scratch again.
        logs.start(request_id=request_id)
        response = self.get_response(request)
        response["X-Request-ID"] = request_id
        self._count_webhook(request, response)
        return response

    def process_view(self, request, view_func, view_args, view_kwargs):
        number = view_kwargs.get("number")
        if number:
            logs.bind_values(order_number=str(number)[:32])
        return None

    @staticmethod
    def _count_webhook(request, response):
        match = getattr(request, "resolver_match", None)
        name = getattr(match, "url_name", None)
        if name in WEBHOOK_SOURCES:
            source = WEBHOOK_SOURCES[name] or f"carrier_{match.kwargs.get('carrier', 'unknown')}"
        elif request.path.startswith("/anymail/"):
            source = "anymail_" + (request.path.split("/")[2] or "unknown")
        else:
            return
        outcome = "accepted" if response.status_code < 400 else f"rejected_{response.status_code}"
        count("webhook_requests", source=source[:40], outcome=outcome)
