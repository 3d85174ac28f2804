"""Reads of orders: the only place that scopes order querysets to a store, a customer or a guest.

Every function here returns objects the caller is allowed to see, or raises Order.DoesNotExist
(views turn that into a 404, so "not yours" and "does not exist" look the same).
"""
import re

from django.db import connection
from django.db.models import BooleanField, Count, F, Func, IntegerField, OuterRef, Prefetch, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from .models import (
    Order,
    OrderEvent,
    OrderLine,
    OrderStatus,
    Payment,
    ReturnRequest,
    Shipment,
    TrackingEvent,
)

ORDER_NUMBER_RE = re.compile(r"^NS-?[0-9A-Z]{4}-?[0-9A-Z]{4}$", re.IGNORECASE)

# The tabs of the seller's order list, in the order a seller works through them.
STORE_TABS = [
    ("", "All"),
    (OrderStatus.PENDING, "Pending"),
    (OrderStatus.PROCESSING, "Processing"),
    (OrderStatus.ON_HOLD, "On hold"),
    (OrderStatus.SHIPPED, "Shipped"),
    (OrderStatus.COMPLETED, "Completed"),
    (OrderStatus.CANCELLED, "Cancelled"),
    (OrderStatus.REFUNDED, "Refunded"),
]

# The "Late" tab: open orders past their shipping deadline (orders.sla), on the order_store_late index.
LATE_TAB = "late"
LATE_STATUSES = (OrderStatus.PROCESSING, OrderStatus.ON_HOLD)


def _late(qs: QuerySet, now) -> QuerySet:
    return qs.filter(status__in=LATE_STATUSES, ship_by__isnull=False, ship_by__lte=now)


# Whitelisted sort keys (URL value -> ORDER BY). The id tie-breaker keeps pages stable.
STORE_SORTS = {
    "newest": ("-placed_at", "-id"),
    "oldest": ("placed_at", "id"),
    "total_desc": ("-total", "-id"),
    "total_asc": ("total", "id"),
    "customer": ("shipping_name", "-id"),
}
DEFAULT_SORT = "newest"


def normalise_order_number(value: str) -> str:
    """'ns-abcd-efgh', 'NSABCDEFGH' and ' NS-ABCD-EFGH ' all mean NS-ABCD-EFGH."""
    raw = re.sub(r"[^0-9A-Za-z]", "", value or "").upper()
    if raw.startswith("NS") and len(raw) == 10:
        return f"NS-{raw[2:6]}-{raw[6:]}"
    return (value or "").strip().upper()


def _search(qs: QuerySet, search: str) -> QuerySet:
    search = (search or "").strip()
    if not search:
        return qs
    if ORDER_NUMBER_RE.match(search):
        return qs.filter(number=normalise_order_number(search))
    if "@" in search:
        return qs.filter(email__icontains=search)
    return qs.filter(
        Q(number__icontains=search)
        | Q(shipping_name__icontains=search)
        | Q(email__icontains=search)
        | _customer_named(search)
    )


class _AmongSubquery(Func):
    """``<column> = ANY(ARRAY(<subquery>))`` as a condition."""

    arg_joiner = " = ANY(ARRAY"
    template = "%(expressions)s)"
    output_field = BooleanField()
    conditional = True


def _customer_named(search: str):
    """Orders whose customer account's name matches. Written as ``customer_id = ANY(ARRAY(…))`` on
    PostgreSQL (not a JOIN, not ``IN (…)``), so the whole OR is a BitmapOr of the trigram indexes
    (migration orders 0004) and the customer index: ~8 ms instead of a 100 ms scan at 100,000 orders."""
    from django.contrib.auth import get_user_model

    users = get_user_model().objects.filter(Q(first_name__icontains=search) | Q(last_name__icontains=search))
    ids = Subquery(users.order_by().values("id"))
    if connection.vendor == "postgresql":
        return _AmongSubquery(F("customer_id"), ids)
    return Q(customer_id__in=ids)


def store_orders(*, store, status: str = "", search: str = "", sort: str = DEFAULT_SORT) -> QuerySet:
    """The store's orders for the list page: one row each with item count and payment status.

    The two correlated subqueries run only for the rows of the page (LIMIT applies first on the
    (store, status, -placed_at) index), so a page costs the same with 50 or 100,000 orders.
    """
    qs = Order.objects.filter(store=store)
    if status == LATE_TAB:
        qs = _late(qs, timezone.now())
    elif status:
        qs = qs.filter(status=status)
    qs = _search(qs, search)
    item_count = (
        OrderLine.objects.filter(order=OuterRef("pk")).order_by().values("order")
        .annotate(n=Sum("quantity")).values("n")[:1]
    )
    payment_status = Payment.objects.filter(order=OuterRef("pk")).order_by("-created_at").values("status")[:1]
    return (
        qs.annotate(item_count=Coalesce(Subquery(item_count, output_field=IntegerField()), 0),
                    payment_status=Subquery(payment_status))
        .only("id", "number", "status", "placed_at", "total", "currency", "shipping_name", "email",
              "is_backordered", "store_id", "ship_by")
        .order_by(*STORE_SORTS.get(sort, STORE_SORTS[DEFAULT_SORT]))
    )


# The ledger of per-store status counts kept by triggers (migration orders 0014; PostgreSQL only).
STATUS_COUNT_TABLE = "orders_status_count"
# Fold a store's ledger rows into one per status once a read sees more than this many.
STATUS_COUNT_FOLD_AFTER = 200


def store_order_counts(*, store, search: str = "") -> dict[str, int]:
    """{status: count} for the tabs, with "" holding the total and LATE_TAB the late ones: one query.

    Without a search, on PostgreSQL, the status counts come from ``orders_status_count``, a ledger of
    (store, status, ±n) rows that statement triggers on ``orders_order`` append in the same
    transaction as every INSERT / UPDATE / DELETE / TRUNCATE of orders (the services, admin,
    ``.update()``, bulk loads and raw SQL alike), so a count is exactly as committed as the orders it
    counts, and the read sums a few dozen rows instead of scanning the store's 100,000 orders.

    Why a ledger and not one counter row per (store, status) updated with ``n = n + 1``: that row
    would be locked from the change until its commit, so every checkout and status change of a
    store would queue behind the others on its "pending"/"processing" row (and two transactions
    touching two statuses in opposite orders could deadlock). Appending never waits for anybody.
    And not a cached count: it would need every path that changes a status to invalidate it, and
    a stamp read before a concurrent commit would cache a stale count.
    The ledger is kept short here: when a read sees more than STATUS_COUNT_FOLD_AFTER rows, it
    replaces the store's rows by their sums in one ``DELETE … RETURNING`` → ``INSERT`` statement.
    That is safe beside concurrent writers (rows they have not committed are not in the DELETE's
    snapshot, so stay) and beside a concurrent fold (rows another fold deleted are skipped after
    it commits, so nothing is counted twice). So a read costs O(changes since the last fold), not
    O(orders).

    The Late count depends on the clock, so no trigger can keep it; it is an index-only scan of the
    partial ``order_store_late`` index (open orders with a deadline: the store's work in progress,
    not its history), in the same query (UNION ALL) as the ledger's sum.

    With a search (the matching orders only: the trigram indexes' bitmap, a few thousand rows at
    most) and on SQLite, it is one GROUP BY over the matching orders with the late ones counted by
    a FILTER in the same pass.
    """
    now = timezone.now()
    if search or connection.vendor != "postgresql":
        qs = _search(Order.objects.filter(store=store), search)
        late = Q(status__in=LATE_STATUSES, ship_by__isnull=False, ship_by__lte=now)
        rows = list(qs.order_by().values("status").annotate(n=Count("*"), late=Count("id", filter=late)))
        counts = {row["status"]: row["n"] for row in rows}
        counts[""] = sum(counts.values())
        counts[LATE_TAB] = sum(row["late"] for row in rows)
        return counts
    late_statuses = ", ".join(f"'{value}'" for value in LATE_STATUSES)  # constants: the partial index's own
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT status, SUM(n), COUNT(*) FROM {STATUS_COUNT_TABLE} WHERE store_id = %s GROUP BY status "
            f"UNION ALL SELECT NULL, COUNT(*), 0 FROM {Order._meta.db_table} WHERE store_id = %s "
            f"AND status IN ({late_statuses}) AND ship_by IS NOT NULL AND ship_by <= %s",
            [store.pk, store.pk, now])
        rows = cursor.fetchall()
        if sum(ledger_rows for _, _, ledger_rows in rows) > STATUS_COUNT_FOLD_AFTER:
            cursor.execute(
                f"WITH gone AS (DELETE FROM {STATUS_COUNT_TABLE} WHERE store_id = %s RETURNING status, n) "
                f"INSERT INTO {STATUS_COUNT_TABLE} (store_id, status, n) "
                "SELECT %s, status, SUM(n) FROM gone GROUP BY status HAVING SUM(n) <> 0",
                [store.pk, store.pk])
    counts = {status: int(n) for status, n, _ in rows if status is not None and n}
    counts[""] = sum(counts.values())
    counts[LATE_TAB] = next(int(n) for status, n, _ in rows if status is None)
    return counts


def _with_details(qs: QuerySet) -> QuerySet:
    """Everything the order detail and status pages show, in a fixed number of queries."""
    return qs.select_related("store", "customer", "feedback").prefetch_related(
        "lines",
        "payments",
        Prefetch("shipments", queryset=Shipment.objects.prefetch_related(
            Prefetch("tracking_events", queryset=TrackingEvent.objects.order_by("-occurred_at", "-id")))),
        Prefetch("events", queryset=OrderEvent.objects.order_by("created_at", "id")),
        Prefetch("returns", queryset=ReturnRequest.objects.prefetch_related("lines")),
    )


def store_order_get(*, store, number: str, details: bool = True) -> Order:
    qs = Order.objects.filter(store=store)
    return (_with_details(qs) if details else qs).get(number=normalise_order_number(number))


def customer_orders(*, user) -> QuerySet:
    item_count = (
        OrderLine.objects.filter(order=OuterRef("pk")).order_by().values("order")
        .annotate(n=Sum("quantity")).values("n")[:1]
    )
    return (
        Order.objects.filter(customer=user)
        .select_related("store")
        .annotate(item_count=Coalesce(Subquery(item_count, output_field=IntegerField()), 0))
        .order_by("-placed_at", "-id")
    )


def order_with_details(order: Order) -> Order:
    """Reload an order the caller already may see, with everything its pages show."""
    return _with_details(Order.objects.filter(pk=order.pk)).get()


_FINGERPRINT_SQL: dict = {}


def _fingerprint_sql(*, scope: str, with_unread: bool) -> str:
    """The status page's fingerprint query, built once per variant from the models' table names."""
    key = (scope, with_unread)
    if key not in _FINGERPRINT_SQL:
        from django.apps import apps
        from django.contrib.auth import get_user_model

        notification = apps.get_model("notifications", "Notification")._meta.db_table
        inbox = apps.get_model("notifications", "InboxMessage")._meta.db_table
        where = {"customer": "o.customer_id = %s", "email": "UPPER(o.email) = UPPER(%s)"}[scope]
        # The customer's unread in-app messages (the header bell; on the inbox_user_read index),
        # read in this query rather than one of its own: the logged-in page's cache key needs it.
        unread = (f"(SELECT COUNT(*) FROM {inbox} i WHERE i.user_id = o.customer_id AND i.read_at IS NULL)"
                  if with_unread else "NULL")
        _FINGERPRINT_SQL[key] = f"""
            SELECT o.id, o.number, o.updated_at,
                   (SELECT e.id FROM {OrderEvent._meta.db_table} e WHERE e.order_id = o.id
                     ORDER BY e.id DESC LIMIT 1),
                   (SELECT MAX(n.updated_at) FROM {notification} n
                     WHERE n.order_id = o.id AND n.audience = 'customer'),
                   u.time_zone,
                   {unread}
              FROM {Order._meta.db_table} o
              LEFT JOIN {get_user_model()._meta.db_table} u ON u.id = o.customer_id
             WHERE o.number = %s AND {where}
        """
    return _FINGERPRINT_SQL[key]


def order_status_fingerprint(*, number: str, customer_id: int | None = None, email: str | None = None,
                             with_unread: bool = False) -> dict | None:
    """The order status page's fingerprint in ONE query, scoped to a customer or to number + email.

    {"id", "number", "updated_at", "last_event_id", "notified_at", "customer_tz", "unread"}, or None
    when the order doesn't exist or isn't theirs. Every change the page shows moves one of these
    markers: status, payment, shipment, checkpoint, ETA and return changes append an OrderEvent or
    touch ``updated_at``; a notification moving to delivered/bounced touches its ``updated_at``.
    ``unread`` (only with ``with_unread``, for a customer-scoped read, else None) is that customer's
    unread inbox count, the number on the header bell.

    Written as SQL on purpose: it is the whole cost of the page's 304 refresh, and building the
    equivalent ORM query (two correlated subqueries) took ~1.5 ms of Python per request, ten
    times the query's own execution time (see bench/README.md).
    """
    from django.db import connection

    if customer_id is not None:
        scope, params = "customer", [normalise_order_number(number), customer_id]
    elif email is not None:
        scope, params, with_unread = "email", [normalise_order_number(number), email.strip()], False
    else:
        raise ValueError("Scope the fingerprint to a customer or an email.")
    with connection.cursor() as cursor:
        cursor.execute(_fingerprint_sql(scope=scope, with_unread=with_unread), params)
        row = cursor.fetchone()
    if row is None:
        return None
    keys = ("id", "number", "updated_at", "last_event_id", "notified_at", "customer_tz", "unread")
    return dict(zip(keys, row))
