from datetime import datetime, timezone as dt_timezone

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from orders.models import Order, OrderStatus
from tests.factories import CustomerFactory, OrderFactory, ProductFactory, StoreFactory

URL = reverse("seller:orders")


@pytest.fixture
def seller_client(client, seller):
    client.force_login(seller)
    return client


def make_orders(store, n, **kwargs):
    product = ProductFactory(store=store)
    return [OrderFactory(store=store, lines=[(product, 1)], **kwargs) for _ in range(n)]


def test_lists_only_own_store_orders_with_tab_counts(seller_client, seller):
    mine = make_orders(seller.store, 3)
    Order.objects.filter(pk=mine[0].pk).update(status=OrderStatus.SHIPPED)
    other = make_orders(StoreFactory(), 2)

    response = seller_client.get(URL)

    assert response.status_code == 200
    body = response.content.decode()
    for order in mine:
        assert order.number in body
    for order in other:
        assert order.number not in body
    tabs = {t["value"]: t["count"] for t in response.context["tabs"]}
    assert tabs[""] == 3 and tabs["pending"] == 2 and tabs["shipped"] == 1 and tabs["cancelled"] == 0


def test_status_tab_filters(seller_client, seller):
    orders = make_orders(seller.store, 3)
    Order.objects.filter(pk=orders[0].pk).update(status=OrderStatus.ON_HOLD)

    response = seller_client.get(URL, {"status": "on_hold"})

    assert [o.number for o in response.context["orders"]] == [orders[0].number]


@pytest.mark.parametrize("field", ["number", "name", "email", "lower_number"])
def test_search_by_number_name_or_email(seller_client, seller, field):
    store = seller.store
    product = ProductFactory(store=store)
    target = OrderFactory(store=store, lines=[(product, 1)], shipping_name="Grace Hopper",
                          customer=CustomerFactory(email="grace@navy.example"))
    OrderFactory(store=store, lines=[(product, 1)], shipping_name="Alan Turing")
    query = {"number": target.number, "name": "hopper", "email": "grace@navy",
             "lower_number": target.number.lower()}[field]

    response = seller_client.get(URL, {"q": query})

    assert [o.number for o in response.context["orders"]] == [target.number]


def test_search_with_no_match_says_so(seller_client, seller):
    make_orders(seller.store, 1)
    response = seller_client.get(URL, {"q": "nobody-like-this"})
    assert "No orders match" in response.content.decode()


def test_empty_store_has_a_clear_empty_state(seller_client):
    response = seller_client.get(URL)
    assert "No orders yet" in response.content.decode()


def test_sort_by_total(seller_client, seller):
    orders = make_orders(seller.store, 3)
    for order, total in zip(orders, ["10.00", "30.00", "20.00"]):
        Order.objects.filter(pk=order.pk).update(total=total)

    response = seller_client.get(URL, {"sort": "total_desc"})

    assert [str(o.total) for o in response.context["orders"]] == ["30.00", "20.00", "10.00"]


def test_unknown_sort_and_status_fall_back_safely(seller_client, seller):
    make_orders(seller.store, 2)
    response = seller_client.get(URL, {"sort": "id; drop table", "status": "bogus", "page": "999"})
    assert response.status_code == 200
    assert len(response.context["orders"]) == 2


def test_pagination(seller_client, seller):
    make_orders(seller.store, 30)
    first = seller_client.get(URL)
    second = seller_client.get(URL, {"page": 2})
    assert len(first.context["orders"]) == 25 and len(second.context["orders"]) == 5
    assert not {o.pk for o in first.context["orders"]} & {o.pk for o in second.context["orders"]}
    assert "Page 2 of 2" in second.content.decode()


def _count_queries(client, params=None):
    client.get(URL, params or {})  # warm: the signed-in user's row is then served from the cache
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(URL, params or {})
    assert response.status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize("params", [{}, {"status": "pending"}, {"status": "late"}, {"q": "Lovelace"},
                                    {"sort": "total_desc"}])
def test_fixed_number_of_queries_per_page(frozen_clock, seller_client, seller, params):
    def add(n):
        orders = make_orders(seller.store, n)
        # Some of them late (processing, past ship_by), so the Late tab has a page to read.
        Order.objects.filter(pk__in=[o.pk for o in orders[::2]]).update(
            status=OrderStatus.PROCESSING, ship_by=datetime(2030, 1, 10, tzinfo=dt_timezone.utc))

    add(5)
    few = _count_queries(seller_client, params)
    add(45)
    many = _count_queries(seller_client, params)
    assert few == many
    assert many == 4, "store, bell, tab counts with the late count, page; session and user come from the cache"


def test_store_status_placed_index_exists():
    indexes = {tuple(i.fields): i.name for i in Order._meta.indexes}
    assert ("store", "status", "-placed_at") in indexes


def test_non_seller_gets_403(client, customer):
    client.force_login(customer)
    response = client.get(URL)
    assert response.status_code == 403
    assert "This area is for sellers" in response.content.decode()


def test_anonymous_is_sent_to_login(client, db):
    response = client.get(URL)
    assert response.status_code == 302 and reverse("accounts:login") in response["Location"]


def _tab_counts(client):
    response = client.get(URL)
    assert response.status_code == 200
    return {t["value"]: t["count"] for t in response.context["tabs"]}


def test_tab_counts_follow_status_changes(frozen_clock, seller_client, seller):
    """The counts shown are the orders' own after transitions, ``.update()``, deletes and other stores'
    changes (on PostgreSQL they come from the trigger-kept ledger, on SQLite from a GROUP BY)."""
    from orders.services import order_transition

    orders = make_orders(seller.store, 4)
    make_orders(StoreFactory(), 3)
    tabs = _tab_counts(seller_client)
    assert (tabs[""], tabs["pending"], tabs["processing"]) == (4, 4, 0)

    order_transition(order=orders[0], to=OrderStatus.PROCESSING)
    order_transition(order=orders[1], to=OrderStatus.CANCELLED)
    Order.objects.filter(pk__in=[orders[2].pk, orders[3].pk]).update(status=OrderStatus.ON_HOLD)
    Order.objects.filter(pk=orders[3].pk).update(total="12.00")  # not a status change: counts unchanged
    tabs = _tab_counts(seller_client)
    assert (tabs[""], tabs["pending"], tabs["processing"], tabs["cancelled"], tabs["on_hold"]) == (4, 0, 1, 1, 2)

    Order.objects.filter(pk=orders[2].pk).update(status=OrderStatus.PROCESSING)
    make_orders(seller.store, 2)
    tabs = _tab_counts(seller_client)
    assert (tabs[""], tabs["pending"], tabs["processing"], tabs["on_hold"]) == (6, 2, 2, 1)

    # Late: open and past ship_by (the frozen clock says 2030-01-16 11:00 UTC); a cancelled one is not.
    past = datetime(2030, 1, 15, tzinfo=dt_timezone.utc)
    Order.objects.filter(pk__in=[orders[0].pk, orders[1].pk, orders[3].pk]).update(ship_by=past)
    tabs = _tab_counts(seller_client)
    assert tabs["late"] == 2
    order_transition(order=Order.objects.get(pk=orders[0].pk), to=OrderStatus.SHIPPED)
    tabs = _tab_counts(seller_client)
    assert (tabs["late"], tabs["processing"], tabs["shipped"]) == (1, 1, 1)


def test_tab_counts_stay_right_when_the_ledger_is_folded(seller_client, seller, monkeypatch):
    from orders import selectors

    monkeypatch.setattr(selectors, "STATUS_COUNT_FOLD_AFTER", 3)
    orders = make_orders(seller.store, 5)
    for order in orders[:3]:
        Order.objects.filter(pk=order.pk).update(status=OrderStatus.SHIPPED)
    first = _tab_counts(seller_client)   # folds the ledger (on PostgreSQL)
    second = _tab_counts(seller_client)  # reads the folded rows
    Order.objects.filter(pk=orders[0].pk).update(status=OrderStatus.COMPLETED)
    third = _tab_counts(seller_client)
    assert (first[""], first["pending"], first["shipped"]) == (5, 2, 3)
    assert second == first
    assert (third[""], third["shipped"], third["completed"]) == (5, 2, 1)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT COUNT(*) FROM orders_status_count WHERE store_id = %s", [seller.store.pk])
            assert cursor.fetchone()[0] <= 4, "folded into one row per status, plus the last change"


def test_rows_show_status_and_payment_labels(seller_client, seller):
    from orders.models import Payment

    order = make_orders(seller.store, 1)[0]
    Order.objects.filter(pk=order.pk).update(status=OrderStatus.ON_HOLD)
    Payment.objects.filter(order=order).update(status=Payment.Status.PARTIALLY_REFUNDED)

    body = seller_client.get(URL).content.decode()

    assert '<span class="badge on_hold">On hold</span>' in body
    assert f'<span class="badge partially_refunded">{Payment.Status.PARTIALLY_REFUNDED.label}</span>' in body
