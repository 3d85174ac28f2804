"""The order status page, shared by the customer dashboard and the guest pages.

Cost model (the page must stay cheap under load, see bench/status_page.sh):

* Every request starts with ONE query, ``order_fingerprint``: the order's id, number,
  ``updated_at`` and its latest timeline event id. That query is also the access check
  (it filters by customer, or by number + email for guests).
* The in-place refresh (``?live=1``, polled by htmx) answers ``304 Not Modified`` straight from
  that fingerprint when the page's ETag still matches: no other query, no rendering.
* The heavy part of the page (progress, shipment and checkpoints, lines, timeline, notifications)
  is rendered once per fingerprint and cached; any change to the order makes a new fingerprint,
  so a cached render is never stale. The action forms (which carry the CSRF token) are rendered
  per request around it.
"""
import hashlib
import json
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib import messages
from django.core.cache import cache
from django.db.models import F, Max, OuterRef, Subquery
from django.http import HttpResponse, HttpResponseNotModified
from django.shortcuts import redirect
from django.template.loader import render_to_string
from django.utils import timezone, translation

from notifications.models import Notification
from notifications.selectors import notifications_for_order
from orders.models import Order
from orders.selectors import order_fingerprint, order_with_details

from .status import customer_actions, notification_rows, order_progress, timeline_entries

CACHE_VERSION = "v1"
CACHE_SECONDS = 600
POLL_ACTIVE = "5s"
POLL_FINAL = "30s"
FINAL_STATUSES = frozenset({"completed", "cancelled", "refunded"})


@dataclass
class StatusRef:
    """Who is looking at which order (from the fingerprint), and where the page's forms post."""

    viewer: str  # "customer" or "guest"
    fp: dict
    urls: dict
    tz: str = field(default_factory=lambda: settings.TIME_ZONE)

    @property
    def stamp(self) -> str:
        notified = self.fp.get("notified_at")
        return (f"{self.fp['id']}:{self.fp['updated_at'].timestamp():.6f}:{self.fp['last_event_id']}:"
                f"{notified.timestamp() if notified else 0:.6f}")

    @property
    def cache_key(self) -> str:
        return f"order-status:{CACHE_VERSION}:{self.stamp}:{self.tz}:{translation.get_language()}"

    @property
    def etag(self) -> str:
        raw = f"{CACHE_VERSION}:{self.viewer}:{self.stamp}:{self.tz}:{translation.get_language()}"
        return '"' + hashlib.blake2s(raw.encode(), digest_size=12).hexdigest() + '"'


def status_fingerprint(**filters) -> dict | None:
    """The one query every status-page request starts with (see the module docstring).

    Besides the order's own markers it carries the latest update of the customer's notifications
    for the order, so a message moving to delivered or bounced refreshes the page too.
    """
    notified_at = (Notification.objects.filter(order=OuterRef("pk"), audience="customer").order_by()
                   .values("order").annotate(m=Max("updated_at")).values("m")[:1])
    return order_fingerprint(filters=filters, notified_at=Subquery(notified_at), customer_tz=F("customer__time_zone"))


def _snapshot(ref: StatusRef) -> dict:
    """The rendered heavy parts of the page and what the action forms need, cached per fingerprint."""
    snap = cache.get(ref.cache_key)
    if snap is not None:
        return snap
    order = order_with_details(Order(pk=ref.fp["id"]))
    context = {
        "order": order,
        "progress": order_progress(order),
        "timeline": timeline_entries(order, audience="customer"),
        "notifications": notification_rows(notifications_for_order(order, audience="customer"), audience="customer"),
    }
    with timezone.override(ref.tz):
        top = render_to_string("accounts/_order_status_top.html", context)
        body = render_to_string("accounts/_order_status_body.html", context)
    allowed = customer_actions(order)
    snap = {
        "top": top,
        "body": body,
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
        },
    }
    cache.set(ref.cache_key, snap, CACHE_SECONDS)
    return snap


def _not_modified(request, ref: StatusRef) -> bool:
    header = request.headers.get("If-None-Match", "")
    if not header:
        return False
    tags = {t.strip().removeprefix("W/") for t in header.split(",")}
    return ref.etag in tags or "*" in tags


def _live_context(request, ref: StatusRef, snap: dict, **extra) -> dict:
    from .forms import CustomerCancelForm, ReturnForm

    meta = snap["meta"]
    return {
        "ref": ref,
        "urls": ref.urls,
        "snap": snap,
        "meta": meta,
        "guest": ref.viewer == "guest",
        "poll": POLL_FINAL if meta["final"] else POLL_ACTIVE,
        "hx_headers": json.dumps({"If-None-Match": ref.etag}),
        "cancel_form": extra.pop("cancel_form", None) or CustomerCancelForm(),
        "return_form": extra.pop("return_form", None) or ReturnForm(returnable=meta["returnable"]),
        **extra,
    }


def _finish(response: HttpResponse, ref: StatusRef, *, etag: bool) -> HttpResponse:
    if etag:
        response["ETag"] = ref.etag
    response["Cache-Control"] = "private, no-cache"
    return response


def live_response(request, ref: StatusRef, *, status: int = 200, **extra) -> HttpResponse:
    """The in-place refresh: 304 when nothing changed, else the live fragment."""
    plain = not extra and status == 200  # a refresh (not the answer to an action)
    if plain and _not_modified(request, ref):
        return _finish(HttpResponseNotModified(), ref, etag=True)
    snap = _snapshot(ref)
    # Something changed: bring the header bell's unread count along (htmx out-of-band swap).
    extra.setdefault("oob_bell", request.user.is_authenticated)
    with timezone.override(ref.tz):
        html = render_to_string("accounts/_order_live.html", _live_context(request, ref, snap, **extra),
                                request=request)
    return _finish(HttpResponse(html, status=status), ref, etag=plain)


def page_response(request, ref: StatusRef, *, template: str, status: int = 200, **extra) -> HttpResponse:
    snap = _snapshot(ref)
    with timezone.override(ref.tz):
        html = render_to_string(template, _live_context(request, ref, snap, **extra), request=request)
    return _finish(HttpResponse(html, status=status), ref, etag=False)


def respond(request, ref: StatusRef, *, template: str, refetch, flash: str = "", error: str = "",
            open_form: str = "", **forms) -> HttpResponse:
    """After an action: htmx gets the fresh live fragment; a plain POST is redirected (or re-rendered on error)."""
    is_htmx = bool(request.headers.get("HX-Request"))
    if error:
        if is_htmx:
            return live_response(request, ref, status=422, error=error, open_form=open_form, **forms)
        return page_response(request, ref, template=template, status=422, error=error, open_form=open_form, **forms)
    if is_htmx:
        fresh = refetch()
        return live_response(request, fresh, flash=flash)
    messages.success(request, flash)
    return redirect(ref.urls["page"])
