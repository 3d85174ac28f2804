"""The order status page, shared by the customer dashboard and the guest pages.

Cost model (the page must stay cheap under load, see bench/status_page.sh):

* Every request starts with ONE query, ``order_status_fingerprint``: the order's id, number,
  ``updated_at`` and its latest timeline event id. That query is also the access check
  (it filters by customer, or by number + email for guests).
* The in-place refresh (``?live=1``, polled by htmx) answers ``304 Not Modified`` straight from
  that fingerprint when the page's ETag still matches: no other query, no rendering.
* The heavy part of the page (progress, shipment and checkpoints, lines, timeline, notifications)
  is rendered once per fingerprint and cached (a per-process LRU in front of the shared cache);
  any change to the order makes a new fingerprint, so a cached render is never stale. The action
  forms (which carry the CSRF token) are rendered per request around it.
* The whole page is cached too, per visitor variant (a guest with no session, the usual visitor
  from an email link; or a customer, their cart and bell counts): a guest's page costs one query
  and a string replace (their own CSRF token goes in), a customer's adds the user query every
  logged-in page pays (the session comes from the cache; the bell's count is read in the
  fingerprint query).
"""
import hashlib
import json
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property

from django.conf import settings
from django.contrib import messages
from django.contrib.messages import get_messages
from django.core.cache import cache
from django.http import HttpResponse, HttpResponseNotModified
from django.middleware.csrf import get_token
from django.shortcuts import redirect
from django.template.loader import render_to_string
from django.utils import timezone, translation

from notifications.selectors import notifications_for_order
from orders.conversation import order_thread
from orders.models import Order
from orders.selectors import order_status_fingerprint, order_with_details

from .status import customer_actions, notification_rows, order_progress, timeline_entries

CACHE_VERSION = "v2"  # v2: the snapshot carries the order thread
CACHE_SECONDS = 600
POLL_ACTIVE = "5s"
POLL_FINAL = "30s"
FINAL_STATUSES = frozenset({"completed", "cancelled", "refunded"})


@dataclass
class StatusRef:
    """Who is looking at which order (from the fingerprint), and where the page's forms post."""

    viewer: str  # "customer" or "guest"
    fp: dict
    make_urls: Callable[[], dict]  # page, live, cancel, return, back (only built when a page is rendered)
    tz: str = field(default_factory=lambda: settings.TIME_ZONE)

    @cached_property
    def urls(self) -> dict:
        return self.make_urls()

    @property
    def stamp(self) -> str:
        # str(): the raw fingerprint gives datetimes on PostgreSQL and ISO strings on SQLite;
        # either way the same stored value gives the same stamp.
        fp = self.fp
        return f"{fp['id']}:{fp['updated_at']}:{fp['last_event_id']}:{fp['notified_at'] or 0}"

    @property
    def cache_key(self) -> str:
        raw = f"{self.stamp}:{self.tz}:{translation.get_language()}"
        return f"order-status:{CACHE_VERSION}:{self.fp['id']}:{hashlib.blake2s(raw.encode(), digest_size=16).hexdigest()}"

    @property
    def etag(self) -> str:
        raw = f"{CACHE_VERSION}:{self.viewer}:{self.stamp}:{self.tz}:{translation.get_language()}"
        return '"' + hashlib.blake2s(raw.encode(), digest_size=12).hexdigest() + '"'


def status_fingerprint(*, number: str, customer_id: int | None = None, email: str | None = None,
                       with_unread: bool = False) -> dict | None:
    """The one query every status-page request starts with (see the module docstring).

    ``with_unread``: also read the customer's unread inbox count (the header bell) in it."""
    return order_status_fingerprint(number=number, customer_id=customer_id, email=email, with_unread=with_unread)


def _bell_count(request, ref: StatusRef):
    """The viewer's unread count as the fingerprint read it, or None (then the context processor counts)."""
    if ref.viewer == "customer" and ref.fp.get("unread") is not None and request.user.is_authenticated:
        return ref.fp["unread"]
    return None


class _LocalCache:
    """A small per-process LRU in front of the shared cache.

    Safe because every key names immutable content (it is derived from the order's fingerprint);
    entries still expire after CACHE_SECONDS like the shared cache's, for what the fingerprint
    does not cover (a store renaming itself).
    """

    def __init__(self, size: int = 256):
        self.size, self.data, self.lock = size, OrderedDict(), threading.Lock()

    def get(self, key):
        with self.lock:
            hit = self.data.get(key)
            if hit is None:
                return None
            expires, value = hit
            if expires < time.monotonic():
                del self.data[key]
                return None
            self.data.move_to_end(key)
            return value

    def set(self, key, value):
        with self.lock:
            self.data[key] = (time.monotonic() + CACHE_SECONDS, value)
            self.data.move_to_end(key)
            while len(self.data) > self.size:
                self.data.popitem(last=False)

    def clear(self):
        with self.lock:
            self.data.clear()


local_cache = _LocalCache()


def _cached(key: str, build):
    value = local_cache.get(key)
    if value is None:
        value = cache.get(key)
        if value is None:
            value = build()
            cache.set(key, value, CACHE_SECONDS)
        local_cache.set(key, value)
    return value


def _snapshot(ref: StatusRef) -> dict:
    """The rendered heavy parts of the page and what the action forms need, cached per fingerprint."""
    return _cached(ref.cache_key, lambda: _build_snapshot(ref))


def _build_snapshot(ref: StatusRef) -> dict:
    order = order_with_details(Order(pk=ref.fp["id"]))
    with timezone.override(ref.tz):
        # The headline's dates are read in the viewer's zone, like the timeline's.
        context = {
            "order": order,
            "progress": order_progress(order),
            "timeline": timeline_entries(order, audience="customer"),
            "notifications": notification_rows(notifications_for_order(order, audience="customer"),
                                               audience="customer"),
        }
        top = render_to_string("accounts/_order_status_top.html", context)
        body = render_to_string("accounts/_order_status_body.html", context)
        thread_messages = order_thread(order)
        thread = render_to_string("partials/order_thread.html", {
            "thread": thread_messages, "viewer": "customer", "store_name": order.store.name})
    allowed = customer_actions(order)
    from orders.unpaid import payment_deadline
    from seller.services import amount_due
    snap = {
        "top": top,
        "body": body,
        "thread": thread,
        "meta": {
            "number": order.number,
            "status": order.status,
            "status_display": order.get_status_display(),
            "store_name": order.store.name,
            "placed_at": order.placed_at,
            "can_cancel": allowed["cancel"],
            "can_return": allowed["return"],
            "returnable": [(line.pk, f"{line.quantity} × {line.product_name}") for line in allowed["returnable_lines"]],
            "final": order.status in FINAL_STATUSES,
            "can_pay": allowed["pay"],
            "amount_due": amount_due(order, list(order.payments.all())),
            "currency": order.currency,
            "pay_by": payment_deadline(order) if allowed["pay"] else None,
            "can_review": allowed["review"],
            "feedback": allowed["feedback"],
            # The ask box is kept across refreshes (hx-preserve) until the customer's own count moves.
            "questions": sum(1 for m in thread_messages if m.author_kind == "customer"),
        },
    }
    return snap


def _not_modified(request, ref: StatusRef) -> bool:
    header = request.headers.get("If-None-Match", "")
    if not header:
        return False
    tags = {t.strip().removeprefix("W/") for t in header.split(",")}
    return ref.etag in tags or "*" in tags


def _live_context(request, ref: StatusRef, snap: dict, **extra) -> dict:
    from seller.forms import OrderMessageForm
    from storefront.forms import RetryPaymentForm

    from .forms import CANCEL_REASONS, CustomerCancelForm, FeedbackForm, ReturnForm

    meta = snap["meta"]
    return {
        "ref": ref,
        "urls": ref.urls,
        "snap": snap,
        "meta": meta,
        "guest": ref.viewer == "guest",
        "poll": POLL_FINAL if meta["final"] else POLL_ACTIVE,
        "hx_headers": json.dumps({"If-None-Match": ref.etag}),
        "cancel_form": extra.pop("cancel_form", None) or (CustomerCancelForm() if meta["can_cancel"] else None),
        "return_form": extra.pop("return_form", None) or (ReturnForm(returnable=meta["returnable"])
                                                          if meta["can_return"] else None),
        "cancel_reasons": CANCEL_REASONS,
        "feedback_form": extra.pop("feedback_form", None) or (
            FeedbackForm(initial=meta["feedback"] or {}) if meta.get("can_review") else None),
        "ask_form": extra.pop("ask_form", None) or OrderMessageForm(prefix="ask"),
        "pay_form": extra.pop("pay_form", None) or (RetryPaymentForm(auto_id="pay_%s") if meta.get("can_pay") else None),
        # Overrides the bell's lazy count (context processor) with the one the fingerprint read, so
        # a cached page shows exactly the count in its cache key, and no second query is made.
        **({"inbox_unread": unread} if (unread := _bell_count(request, ref)) is not None else {}),
        **extra,
    }


def _finish(response: HttpResponse, ref: StatusRef, *, etag: bool) -> HttpResponse:
    if etag:
        response["ETag"] = ref.etag
    response["Cache-Control"] = "private, no-cache"
    return response


def not_modified_response(request, ref: StatusRef) -> HttpResponse | None:
    """304 when the client's ETag still matches the order's fingerprint, else None."""
    if _not_modified(request, ref):
        return _finish(HttpResponseNotModified(), ref, etag=True)
    return None


def live_response(request, ref: StatusRef, *, status: int = 200, **extra) -> HttpResponse:
    """The in-place refresh: 304 when nothing changed, else the live fragment."""
    plain = not extra and status == 200  # a refresh (not the answer to an action)
    if plain and (response := not_modified_response(request, ref)) is not None:
        return response
    snap = _snapshot(ref)
    # Something changed: bring the header bell's unread count along (htmx out-of-band swap).
    extra.setdefault("oob_bell", request.user.is_authenticated)
    with timezone.override(ref.tz):
        html = render_to_string("accounts/_order_live.html", _live_context(request, ref, snap, **extra),
                                request=request)
    return _finish(HttpResponse(html, status=status), ref, etag=plain)


# Stands in for the CSRF token in a cached page; each response gets the visitor's own token.
CSRF_SLOT = "csrf-slot-5b0d1f7e0c9a4d2e"


def _anonymous_without_state(request) -> bool:
    """No session and no flash messages: the page is the same for every such visitor but the CSRF token."""
    cookies = request.COOKIES
    return settings.SESSION_COOKIE_NAME not in cookies and "messages" not in cookies


def _page_variant(request, ref: StatusRef) -> str | None:
    """What, besides the order and the CSRF token, the whole page depends on for this visitor;
    None when it can't be cached (flash messages waiting, an action's answer)."""
    if ref.viewer == "guest" and _anonymous_without_state(request):
        return "guest"
    if ref.viewer == "customer" and request.user.is_authenticated and not len(get_messages(request)):
        from notifications.selectors import unread_count
        from storefront.context_processors import cart

        user = request.user
        unread = _bell_count(request, ref)
        if unread is None:
            unread = unread_count(user)
        # The header shows the cart count (from the session, no query), the bell's unread count
        # (read with the fingerprint) and role links.
        return (f"user:{user.pk}:{int(user.is_seller)}{int(user.is_staff)}:"
                f"{cart(request)['cart_count']}:{unread}")
    return None


def page_response(request, ref: StatusRef, *, template: str, status: int = 200, **extra) -> HttpResponse:
    variant = _page_variant(request, ref) if status == 200 and not extra else None
    if variant is not None:
        # The whole page is cached per fingerprint, link and visitor variant; only the CSRF token
        # is per request.
        raw = f"{variant}:{request.path}"
        key = f"{ref.cache_key}:page:{hashlib.blake2s(raw.encode(), digest_size=12).hexdigest()}"
        html = _cached(key, lambda: _render_page(request, ref, template, csrf_token=CSRF_SLOT))
        return _finish(HttpResponse(html.replace(CSRF_SLOT, get_token(request))), ref, etag=False)
    return _finish(HttpResponse(_render_page(request, ref, template, **extra), status=status), ref, etag=False)


def _render_page(request, ref: StatusRef, template: str, **extra) -> str:
    snap = _snapshot(ref)
    with timezone.override(ref.tz):
        return render_to_string(template, _live_context(request, ref, snap, **extra), request=request)


def respond(request, ref: StatusRef, *, template: str, refetch, flash: str = "", error: str = "",
            open_form: str = "", status: int = 422, **forms) -> HttpResponse:
    """After an action: htmx gets the fresh live fragment; a plain POST is redirected (or re-rendered on error)."""
    is_htmx = bool(request.headers.get("HX-Request"))
    if error:
        if is_htmx:
            return live_response(request, ref, status=status, error=error, open_form=open_form, **forms)
        return page_response(request, ref, template=template, status=status, error=error, open_form=open_form,
                             **forms)
    if is_htmx:
        fresh = refetch()
        return live_response(request, fresh, flash=flash)
    messages.success(request, flash)
    return redirect(ref.urls["page"])
