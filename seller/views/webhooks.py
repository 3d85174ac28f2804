"""The store's webhook endpoints: add, edit, switch off, rotate the secret, test ping, delivery log, resend."""
from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from notifications.models import Notification
from webhooks.events import EVENT_CHOICES
from webhooks.models import WebhookEndpoint
from webhooks.selectors import endpoint_message, endpoint_messages, store_endpoint, store_endpoints
from webhooks.services import (
    WebhookError,
    endpoint_create,
    endpoint_rotate_secret,
    endpoint_update,
    webhook_ping,
    webhook_resend,
)

from ..access import seller_required


def _endpoint(request, endpoint_id) -> WebhookEndpoint:
    try:
        return store_endpoint(request.store, endpoint_id)
    except WebhookEndpoint.DoesNotExist:
        raise Http404 from None


@require_http_methods(["GET", "HEAD", "POST"])
@seller_required
def webhook_list(request):
    error, status = "", 200
    if request.method == "POST":
        try:
            endpoint = endpoint_create(store=request.store, url=request.POST.get("url", ""),
                                       events=request.POST.getlist("events"),
                                       description=request.POST.get("description", ""))
        except WebhookError as exc:
            error, status = str(exc), 422
        else:
            messages.success(request, "Endpoint added. Copy its signing secret below, then send a test ping.")
            return redirect("seller:webhook_detail", endpoint.pk)
    return render(request, "seller/webhooks.html", {
        "section": "webhooks", "endpoints": store_endpoints(request.store), "event_choices": EVENT_CHOICES,
        "error": error, "posted": request.POST if error else {},
        "posted_events": request.POST.getlist("events") if error else [],
    }, status=status)


@require_http_methods(["GET", "HEAD", "POST"])
@seller_required
def webhook_detail(request, endpoint_id: int):
    endpoint = _endpoint(request, endpoint_id)
    error, status = "", 200
    if request.method == "POST":
        try:
            endpoint_update(endpoint=endpoint, url=request.POST.get("url", ""), events=request.POST.getlist("events"),
                            description=request.POST.get("description", ""), enabled=bool(request.POST.get("enabled")))
        except WebhookError as exc:
            error, status = str(exc), 422
            endpoint.refresh_from_db()
        else:
            messages.success(request, "Endpoint saved.")
            return redirect("seller:webhook_detail", endpoint.pk)
    return render(request, "seller/webhook_detail.html", {
        "section": "webhooks", "endpoint": endpoint, "event_choices": EVENT_CHOICES, "error": error,
        "deliveries": endpoint_messages(endpoint),
    }, status=status)


@require_POST
@seller_required
def webhook_ping_view(request, endpoint_id: int):
    endpoint = _endpoint(request, endpoint_id)
    webhook_ping(endpoint=endpoint)
    messages.success(request, "Test ping sent: its result is at the top of the log.")
    return redirect("seller:webhook_detail", endpoint.pk)


@require_POST
@seller_required
def webhook_rotate(request, endpoint_id: int):
    endpoint = endpoint_rotate_secret(endpoint=_endpoint(request, endpoint_id))
    messages.success(request, "New secret created. Messages are signed with both secrets until "
                              f"{endpoint.previous_secret_expires_at:%d %b %Y %H:%M} UTC: update your receiver by then.")
    return redirect("seller:webhook_detail", endpoint.pk)


@require_POST
@seller_required
def webhook_resend_view(request, endpoint_id: int, notification_id: int):
    endpoint = _endpoint(request, endpoint_id)
    try:
        webhook_resend(notification=endpoint_message(endpoint, notification_id), actor=request.user)
    except Notification.DoesNotExist:
        raise Http404 from None
    except WebhookError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, "Message queued again (same webhook-id, so your receiver can dedupe it).")
    return redirect("seller:webhook_detail", endpoint.pk)


@require_POST
@seller_required
def webhook_delete(request, endpoint_id: int):
    endpoint = _endpoint(request, endpoint_id)
    endpoint.delete()
    messages.success(request, f"Endpoint {endpoint.url} deleted.")
    return redirect("seller:webhooks")
