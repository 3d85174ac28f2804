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


@pytest.mark.parametrize("params", [{}, {"status": "pending"}, {"q": "Lovelace"}, {"sort": "total_desc"}])
def test_fixed_number_of_queries_per_page(seller_client, seller, params):
    make_orders(seller.store, 5)
    few = _count_queries(seller_client, params)
    make_orders(seller.store, 45)
    many = _count_queries(seller_client, params)
    assert few == many
    assert many <= 6, "store, bell, counts, page (+ savepoints); session and user come from the cache"


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
