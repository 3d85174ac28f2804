"""The seller's order list and order detail (read side)."""
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import render
from django.utils.functional import cached_property
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from accounts.dashboard.status import notification_rows, timeline_entries
from notifications.selectors import notifications_for_order
from orders.conversation import order_thread
from orders.models import Order, OrderStatus, Payment
from orders.selectors import DEFAULT_SORT, STORE_SORTS, STORE_TABS, store_order_counts, store_order_get, store_orders
from orders.selectors import LATE_TAB

from ..access import seller_required
from ..forms import BackorderForm, CancelForm, HoldForm, OrderMessageForm, ShipForm
from ..selectors import available_actions, return_actions
from ..services import amount_due, needs_payment_override

PAGE_SIZE = 25
SORT_LABELS = {
    "newest": "Newest first",
    "oldest": "Oldest first",
    "total_desc": "Highest total",
    "total_asc": "Lowest total",
    "customer": "Customer name",
}


class KnownCountPaginator(Paginator):
    """A paginator told its count up front (the tab counts already hold it): one query fewer."""

    def __init__(self, object_list, per_page, *, count: int, **kwargs):
        super().__init__(object_list, per_page, **kwargs)
        self._known_count = count

    @cached_property
    def count(self):
        return self._known_count


def _with_labels(orders: list[Order]) -> list[Order]:
    """The rows' status and payment labels from one lookup table each, built once per page.

    ``get_status_display`` rebuilds (and hashes, translating every lazy label) the whole choices
    dict on each call, as the ``payment_label`` filter does: for 25 rows that was ~3 ms of the
    page's ~14 ms in-process (bench/README.md, "after the tab-count change").
    """
    statuses = {value: str(label) for value, label in OrderStatus.choices}
    payments = {value: str(label) for value, label in Payment.Status.choices}
    for order in orders:
        order.status_label = statuses.get(order.status, order.status)
        order.payment_label = payments.get(order.payment_status, order.payment_status)
    return orders


@require_GET
@seller_required
def order_list(request):
    store = request.store
    status = request.GET.get("status", "")
    if status not in OrderStatus.values and status != LATE_TAB:
        status = ""
    search = request.GET.get("q", "").strip()[:100]
    sort = request.GET.get("sort", DEFAULT_SORT)
    if sort not in STORE_SORTS:
        sort = DEFAULT_SORT

    counts = store_order_counts(store=store, search=search)  # every tab's count and the Late one, one query
    paginator = KnownCountPaginator(store_orders(store=store, status=status, search=search, sort=sort), PAGE_SIZE,
                                    count=counts.get(status, 0))
    page = paginator.get_page(request.GET.get("page"))
    orders = _with_labels(list(page.object_list))
    tabs = [{"value": value, "label": label, "count": counts.get(value, 0), "active": value == status}
            for value, label in STORE_TABS]
    # Late: past the shipping deadline (orders.sla), after "All".
    tabs.insert(1, {"value": LATE_TAB, "label": _("Late"), "count": counts[LATE_TAB], "active": status == LATE_TAB,
                    "late": True})
    return render(request, "seller/order_list.html", {
        "page": page,
        "orders": orders,
        "tabs": tabs,
        "status": status,
        "search": search,
        "sort": sort,
        "sorts": SORT_LABELS,
        "total_count": counts.get("", 0),
        "status_label": dict(STORE_TABS, late=_("Late")).get(status, "").lower(),
        "section": "orders",
    })


def get_store_order(request, number: str) -> Order:
    try:
        return store_order_get(store=request.store, number=number)
    except Order.DoesNotExist:
        raise Http404("No such order in your store.")


def detail_context(request, order: Order, *, forms: dict | None = None, open_form: str = "",
                   action_error: str = "") -> dict:
    forms = forms or {}
    return {
        "order": order,
        "actions": available_actions(order),
        "process_needs_override": needs_payment_override(order, list(order.payments.all())),
        "amount_due": amount_due(order, list(order.payments.all())),
        "return_actions": return_actions(order),
        "hold_form": forms.get("hold") or HoldForm(prefix="hold"),
        "cancel_form": forms.get("cancel") or CancelForm(prefix="cancel"),
        "ship_form": forms.get("ship") or ShipForm(prefix="ship", initial={"eta": order.estimated_delivery}),
        "backorder_form": forms.get("backorder") or BackorderForm(
            prefix="backorder", initial={"expected": order.backorder_expected}),
        "open_form": open_form,
        "action_error": action_error,
        "is_htmx": bool(request.headers.get("HX-Request")),
        "timeline": timeline_entries(order, audience="seller"),
        "notifications": notification_rows(notifications_for_order(order), audience="seller"),
        # Talking about the order (orders.conversation): the thread and the seller's message box.
        "thread": order_thread(order),
        "message_form": forms.get("message") or OrderMessageForm(prefix="msg"),
        "section": "orders",
    }


def render_detail(request, order: Order, *, status: int = 200, **kwargs):
    context = detail_context(request, order, **kwargs)
    template = "seller/_order_panel.html" if context["is_htmx"] else "seller/order_detail.html"
    return render(request, template, context, status=status)


@require_GET
@seller_required
def order_detail(request, number):
    return render_detail(request, get_store_order(request, number))


@require_GET
@seller_required
def feedback_list(request):
    """What customers said about the store's delivered orders, newest first."""
    from orders.feedback import store_feedback

    page = Paginator(store_feedback(store=request.store), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "seller/feedback.html", {"page": page, "feedback": page.object_list,
                                                    "section": "feedback"})
