"""The customer dashboard: orders, the order status page and its actions."""
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from orders.selectors import customer_orders, normalise_order_number

from . import actions
from .status_page import StatusRef, live_response, page_response, status_fingerprint

STATUS_TEMPLATE = "accounts/order_status.html"


@require_GET
@login_required
def dashboard(request):
    paginator = Paginator(customer_orders(user=request.user), 20)
    page = paginator.get_page(request.GET.get("page"))
    return render(request, "accounts/dashboard.html", {"page": page, "orders": page.object_list,
                                                       "section": "orders"})


def customer_urls(number: str) -> dict:
    page = reverse("accounts:order_detail", args=[number])
    return {
        "page": page,
        "live": page + "?live=1",
        "cancel": reverse("accounts:order_cancel", args=[number]),
        "return": reverse("accounts:order_return", args=[number]),
        "back": reverse("accounts:dashboard"),
    }


def _customer_ref(request, number: str) -> StatusRef:
    fp = status_fingerprint(customer=request.user, number=normalise_order_number(number))
    if fp is None:
        raise Http404("No such order in your account.")
    return StatusRef(viewer="customer", fp=fp, urls=customer_urls(fp["number"]), tz=request.user.time_zone)


@require_GET
@login_required
def order_status(request, number):
    ref = _customer_ref(request, number)
    if request.GET.get("live"):
        return live_response(request, ref)
    return page_response(request, ref, template=STATUS_TEMPLATE)


@require_POST
@login_required
def order_cancel(request, number):
    ref = _customer_ref(request, number)
    return actions.cancel(request, ref, actor=request.user, template=STATUS_TEMPLATE,
                          refetch=lambda: _customer_ref(request, number))


@require_POST
@login_required
def order_return(request, number):
    ref = _customer_ref(request, number)
    return actions.request_return(request, ref, actor=request.user, template=STATUS_TEMPLATE,
                                  refetch=lambda: _customer_ref(request, number))
