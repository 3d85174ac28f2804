"""Pay now for an unpaid order with a hosted gateway (Stripe Checkout).

The pay page (GET) says what is due and until when; its button (POST) opens a fresh Checkout
Session (orders.payments.hosted) and sends the customer to Stripe. Callers have scoped the order
already (the customer's own order, or the signed link's); this module adds the rate limit (per
order and per client address) and the answers. Without a hosted gateway the card is typed on the
status page, so the pay page sends the customer there.
"""
from django.conf import settings
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django_ratelimit.core import is_ratelimited

from orders.models import Order
from orders.payments.hosted import PayNowRefused, can_pay_now, card_is_hosted, hosted_payment_start
from orders.unpaid import payment_deadline

PAY_TEMPLATE = "accounts/order_pay.html"


def load_order(order_id: int) -> Order:
    return Order.objects.select_related("store").prefetch_related("payments", "lines").get(pk=order_id)


def _limited(request, number: str) -> bool:
    by_order = is_ratelimited(request, group="pay-now-order", key=lambda group, request: number,
                              rate=settings.PAY_NOW_RATE_PER_ORDER, method="POST", increment=True)
    by_ip = is_ratelimited(request, group="pay-now-ip", key="ip", rate=settings.PAY_NOW_RATE_PER_IP,
                           method="POST", increment=True)
    return by_order or by_ip


def go_to_payment_page(request, url: str) -> HttpResponse:
    if request.headers.get("HX-Request"):  # htmx follows HX-Redirect with a full page load
        response = HttpResponse(status=204)
        response["HX-Redirect"] = url
        return response
    return redirect(url)


def start(request, order: Order) -> tuple[HttpResponse | None, str, int]:
    """Open the payment page: (redirect, "", 302) or (None, error, status)."""
    if not can_pay_now(order, list(order.payments.all())):
        return None, _("This order has nothing left to pay."), 409
    if _limited(request, order.number):
        return None, _("Too many payment attempts. Please wait a few minutes and try again."), 429
    try:
        url = hosted_payment_start(order=order)
    except PayNowRefused as exc:
        return None, str(exc), 409
    return go_to_payment_page(request, url), "", 302


def pay_now(request, order: Order, *, status_url: str, pay_url: str) -> HttpResponse:
    if not card_is_hosted():
        return redirect(status_url + "#pay")
    error, status = "", 200
    if request.method == "POST":
        response, error, status = start(request, order)
        if response is not None:
            return response
    payable = can_pay_now(order, list(order.payments.all()))
    return render(request, PAY_TEMPLATE, {
        "order": order, "payable": payable, "error": error, "status_url": status_url, "pay_url": pay_url,
        "pay_by": payment_deadline(order) if payable else None,
        "lines": list(order.lines.all()),
    }, status=status)
