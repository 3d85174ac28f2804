"""Guests: find an order by number + email (rate limited), or open it through the signed link.

The signed link (orders.links) grants that one order only: the token carries the order number and
the email it was sent to, and both must match. A wrong number and a wrong email get the same answer.
"""
from django import forms
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods
from django_ratelimit.core import is_ratelimited

from accounts.dashboard import actions
from accounts.dashboard.status_page import StatusRef, live_response, page_response, status_fingerprint
from orders.links import BadStatusLink, order_number_from_token, status_path
from orders.selectors import normalise_order_number
from seller.forms import PlainLabels

STATUS_TEMPLATE = "accounts/order_status.html"
GUEST_ACTOR = "Guest (customer)"
NOT_FOUND = ("We couldn't find an order with that number and email address. Check both against your "
             "order confirmation email and try again.")
# Per client address, and per order number (so spreading guesses over addresses doesn't help).
TRACK_RATE_PER_IP = "10/m"
TRACK_RATE_PER_NUMBER = "20/h"


class TrackForm(PlainLabels, forms.Form):
    number = forms.CharField(label="Order number", max_length=20,
                             widget=forms.TextInput(attrs={"placeholder": "NS-XXXX-XXXX", "autocomplete": "off",
                                                           "autocapitalize": "characters"}))
    email = forms.EmailField(label="Email used for the order",
                             widget=forms.EmailInput(attrs={"placeholder": "you@example.com", "autocomplete": "email"}))


def _track_number_key(group, request):
    return normalise_order_number(request.POST.get("number", ""))


@require_http_methods(["GET", "POST"])
def track(request):
    if request.method == "GET":
        return render(request, "accounts/order_track.html", {"form": TrackForm()})
    limited = (
        is_ratelimited(request, group="track-ip", key="ip", rate=TRACK_RATE_PER_IP, method="POST", increment=True)
        | is_ratelimited(request, group="track-number", key=_track_number_key, rate=TRACK_RATE_PER_NUMBER,
                         method="POST", increment=True)
    )
    form = TrackForm(request.POST)
    if limited:
        return render(request, "accounts/order_track.html", {
            "form": form, "error": "Too many attempts. Please wait a few minutes and try again."}, status=429)
    if not form.is_valid():
        return render(request, "accounts/order_track.html", {"form": form}, status=400)
    fp = status_fingerprint(number=form.cleaned_data["number"], email=form.cleaned_data["email"])
    if fp is None:
        return render(request, "accounts/order_track.html", {"form": form, "error": NOT_FOUND}, status=404)
    from orders.models import Order

    return redirect(status_path(Order(number=fp["number"], email=form.cleaned_data["email"])))


def guest_urls(token: str) -> dict:
    page = reverse("storefront:order_status_token", args=[token])
    return {"page": page, "live": page + "?live=1", "cancel": page, "return": page, "pay": page, "feedback": page,
            "back": reverse("storefront:track")}


class LinkRefused(Exception):
    def __init__(self, reason: str, status: int):
        self.reason, self.status = reason, status


def _guest_ref(token: str) -> StatusRef:
    try:
        number, email = order_number_from_token(token)
    except BadStatusLink as exc:
        expired = "expired" in str(exc)
        raise LinkRefused(str(exc), 410 if expired else 403) from None
    fp = status_fingerprint(number=number, email=email)
    if fp is None:  # the order's email changed, or the order is gone
        raise LinkRefused("This link no longer matches an order.", 404)
    return StatusRef(viewer="guest", fp=fp, make_urls=lambda: guest_urls(token),
                     tz=fp.get("customer_tz") or "Europe/London")


@require_http_methods(["GET", "POST"])
def order_status_token(request, token):
    try:
        ref = _guest_ref(token)
    except LinkRefused as refused:
        return render(request, "accounts/order_link_invalid.html",
                      {"reason": refused.reason, "form": TrackForm()}, status=refused.status)
    if request.method == "POST":
        action = request.POST.get("action")
        handler = {"cancel": actions.cancel, "return": actions.request_return, "pay": actions.pay,
                   "feedback": actions.feedback}.get(action)
        if handler is None:
            raise Http404("Unknown action.")
        return handler(request, ref, actor=GUEST_ACTOR, template=STATUS_TEMPLATE, refetch=lambda: _guest_ref(token))
    if request.GET.get("live"):
        return live_response(request, ref)
    return page_response(request, ref, template=STATUS_TEMPLATE)
