"""Guests: find an order by number + email (rate limited), or open it through the signed link.

The signed link (orders.links) grants that one order only: the token carries the order number and
the email it was sent to, and both must match. A wrong number and a wrong email get the same answer.
"""
from django import forms
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods
from django_ratelimit.core import get_usage, is_ratelimited
from django.utils.translation import gettext_lazy as _

from accounts.dashboard import actions, pay_now
from accounts.dashboard.status_page import StatusRef, live_response, page_response, status_fingerprint
from notify_site.client_ip import client_ip
from orders.links import BadStatusLink, order_number_from_token, status_path
from orders.selectors import normalise_order_number
from seller.forms import PlainLabels

STATUS_TEMPLATE = "accounts/order_status.html"
GUEST_ACTOR = "Guest (customer)"
NOT_FOUND = _("We couldn't find an order with that number and email address. Check both against your "
              "order confirmation email and try again.")
# Per client address; and per order number, counting wrong answers only (so spreading guesses over
# addresses doesn't help). A number that has had too many wrong answers is not closed to its owner:
# it asks for the delivery postcode as well (which a guesser does not have), with few tries per address.
TRACK_RATE_PER_IP = "10/m"
TRACK_RATE_PER_NUMBER = "20/h"
TRACK_RATE_STEP_UP_PER_IP = "3/h"
STEP_UP = _("This order number has had too many wrong attempts. To see it, also enter the delivery postcode "
            "from your order confirmation email (or open the link in any email about the order).")


class TrackForm(PlainLabels, forms.Form):
    number = forms.CharField(label=_("Order number"), max_length=20,
                             widget=forms.TextInput(attrs={"placeholder": "NS-XXXX-XXXX", "autocomplete": "off",
                                                           "autocapitalize": "characters"}))
    email = forms.EmailField(label=_("Email used for the order"),
                             widget=forms.EmailInput(attrs={"placeholder": "you@example.com", "autocomplete": "email"}))
    postcode = forms.CharField(label=_("Delivery postcode"), max_length=20, required=False,
                               widget=forms.TextInput(attrs={"autocomplete": "postal-code"}))


def _track_number_key(group, request):
    return normalise_order_number(request.POST.get("number", ""))


def _number_ip_key(group, request):
    return f"{normalise_order_number(request.POST.get('number', ''))}|{client_ip(request)}"


def _postcode(value: str) -> str:
    return "".join(value.split()).upper()


def _number_locked(request, *, fail: bool) -> bool:
    """Whether this order number has had too many wrong answers (``fail``: count one more)."""
    usage = get_usage(request, group="track-number", key=_track_number_key, rate=TRACK_RATE_PER_NUMBER,
                      method="POST", increment=fail)
    return usage is not None and usage["count"] >= usage["limit"]


@require_http_methods(["GET", "POST"])
def track(request):
    if request.method == "GET":
        return render(request, "accounts/order_track.html", {"form": TrackForm()})
    limited = is_ratelimited(request, group="track-ip", key="ip", rate=TRACK_RATE_PER_IP, method="POST",
                             increment=True)
    form = TrackForm(request.POST)
    if limited:
        return render(request, "accounts/order_track.html", {
            "form": form, "error": _("Too many attempts. Please wait a few minutes and try again.")}, status=429)
    if not form.is_valid():
        return render(request, "accounts/order_track.html", {"form": form}, status=400)
    data = form.cleaned_data
    step_up = _number_locked(request, fail=False)
    if step_up:
        if not data["postcode"] or is_ratelimited(request, group="track-step-up", key=_number_ip_key,
                                                  rate=TRACK_RATE_STEP_UP_PER_IP, method="POST", increment=True):
            return render(request, "accounts/order_track.html",
                          {"form": form, "error": STEP_UP, "step_up": True}, status=429)
    fp = status_fingerprint(number=data["number"], email=data["email"])
    from orders.models import Order

    if fp is not None and step_up and _postcode(Order.objects.filter(number=fp["number"]).values_list(
            "shipping_postcode", flat=True).first() or "") != _postcode(data["postcode"]):
        fp = None
    if fp is None:
        _number_locked(request, fail=True)
        return render(request, "accounts/order_track.html",
                      {"form": form, "error": STEP_UP if step_up else NOT_FOUND, "step_up": step_up}, status=404)
    return redirect(status_path(Order(number=fp["number"], email=data["email"])))


def guest_urls(token: str) -> dict:
    page = reverse("storefront:order_status_token", args=[token])
    return {"page": page, "live": page + "?live=1", "cancel": page, "return": page, "pay": page, "feedback": page,
            "ask": page, "back": reverse("storefront:track")}


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
        if action == "ask":  # a guest: the question is signed by the link, no account
            return actions.ask(request, ref, user=None, template=STATUS_TEMPLATE, refetch=lambda: _guest_ref(token))
        handler = {"cancel": actions.cancel, "return": actions.request_return, "pay": actions.pay,
                   "feedback": actions.feedback}.get(action)
        if handler is None:
            raise Http404("Unknown action.")
        return handler(request, ref, actor=GUEST_ACTOR, template=STATUS_TEMPLATE, refetch=lambda: _guest_ref(token))
    if request.GET.get("live"):
        return live_response(request, ref)
    if request.GET.get("checkout"):  # back from Stripe Checkout: only its webhook says paid
        return page_response(request, ref, template=STATUS_TEMPLATE, checkout_return=True)
    return page_response(request, ref, template=STATUS_TEMPLATE)


@require_http_methods(["GET", "POST"])
def order_pay_token(request, token):
    """The "pay for this order" page of the signed link (Stripe Checkout's cancel URL, the messages' pay link)."""
    try:
        ref = _guest_ref(token)
    except LinkRefused as refused:
        return render(request, "accounts/order_link_invalid.html",
                      {"reason": refused.reason, "form": TrackForm()}, status=refused.status)
    page = reverse("storefront:order_status_token", args=[token])
    return pay_now.pay_now(request, pay_now.load_order(ref.fp["id"]), status_url=page,
                           pay_url=reverse("storefront:order_pay_token", args=[token]))
