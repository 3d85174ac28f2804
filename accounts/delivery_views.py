"""The order status page's "messages that did not arrive" part (fix-and-resend, SPEC section 8).

Loaded into the status page by htmx (templates/accounts/_order_delivery_problems_slot.html) from
``<status page URL>delivery/``, for the signed-in customer (their own orders only) and for a guest
holding the signed status link (that order only). Without JavaScript the same URL is a page.
"""
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from accounts.dashboard.status import mask_address
from notifications.corrections import correction_confirm, correction_from_token, correction_request, delivery_problems
from notify_site.client_ip import client_ip_or_none
from orders.links import BadStatusLink, order_number_from_token, status_path
from orders.models import Order
from orders.selectors import normalise_order_number

FRAGMENT = "accounts/_order_delivery_problems.html"
PAGE = "accounts/order_delivery_problems.html"


def _respond(request, order, *, action_url: str, back_url: str, errors=None, values=None, flash="", status=200):
    context = {"order": order, "problems": delivery_problems(order, mask=mask_address), "action_url": action_url,
               "back_url": back_url, "errors": errors or {}, "values": values or {}, "flash": flash}
    template = FRAGMENT if request.headers.get("HX-Request") else PAGE
    return render(request, template, context, status=status)


def _handle(request, order, *, action_url: str, back_url: str):
    if request.method != "POST":
        return _respond(request, order, action_url=action_url, back_url=back_url)
    try:
        notification_id = int(request.POST.get("notification", ""))
    except ValueError:
        return _respond(request, order, action_url=action_url, back_url=back_url, status=400,
                        errors={"form": _("Choose the message to resend.")})
    address = request.POST.get("address", "")
    try:
        correction = correction_request(order=order, notification_id=notification_id, address=address,
                                        ip=client_ip_or_none(request))
    except ValidationError as exc:
        errors = exc.message_dict if hasattr(exc, "error_dict") else {"address": exc.messages}
        return _respond(request, order, action_url=action_url, back_url=back_url, status=422,
                        errors={notification_id: " ".join(errors.get("address", []) or sum(errors.values(), []))},
                        values={notification_id: address})
    if correction.resent_id:
        flash = _("Sent again to %(address)s.") % {"address": correction.new_address}
    else:
        flash = _("We sent a confirmation link to %(address)s. Follow it and we will resend the message.") % {
            "address": correction.new_address}
    order.refresh_from_db()
    if request.headers.get("HX-Request"):
        return _respond(request, order, action_url=action_url, back_url=back_url, flash=flash)
    messages.success(request, flash)
    return redirect(back_url)


@require_http_methods(["GET", "POST"])
@login_required
def customer_delivery_problems(request, number):
    order = Order.objects.filter(number=normalise_order_number(number), customer=request.user).first()
    if order is None:
        raise Http404("No such order in your account.")
    return _handle(request, order, action_url=reverse("accounts:delivery_problems", args=[order.number]),
                   back_url=reverse("accounts:order_detail", args=[order.number]))


@require_http_methods(["GET", "POST"])
def guest_delivery_problems(request, token):
    try:
        number, email = order_number_from_token(token)
    except BadStatusLink as exc:
        return render(request, "accounts/order_link_invalid.html", {"reason": str(exc)},
                      status=410 if "expired" in str(exc) else 403)
    order = Order.objects.filter(number=number, email__iexact=email).first()
    if order is None:
        return render(request, "accounts/order_link_invalid.html",
                      {"reason": _("This link no longer matches an order.")}, status=404)
    return _handle(request, order, action_url=reverse("storefront:delivery_problems", args=[token]),
                   back_url=reverse("storefront:order_status_token", args=[token]))


@require_http_methods(["GET", "POST"])
def delivery_confirm(request, token):
    """The link in the confirmation email: a page with one button (a link preview or scanner that
    opens the URL does not confirm anything); the POST changes the order's email and resends."""
    try:
        correction = correction_from_token(token)
    except ValidationError as exc:
        return render(request, "accounts/delivery_confirm.html", {"error": " ".join(exc.messages)}, status=410)
    order = correction.notification.order
    if request.method == "POST":
        correction = correction_confirm(token=token)
        order.refresh_from_db()
        messages.success(request, _("Confirmed. We sent the message again to %(address)s.") % {
            "address": correction.new_address})
        if request.user.is_authenticated and order.customer_id == request.user.pk:
            return redirect("accounts:order_detail", order.number)
        return redirect(status_path(order))
    return render(request, "accounts/delivery_confirm.html", {"correction": correction, "order": order})
