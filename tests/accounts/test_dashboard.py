from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.factories import CustomerFactory, OrderFactory

URL = reverse("accounts:dashboard")


def test_lists_my_orders_only(client, customer, order, product):
    theirs = OrderFactory(customer=CustomerFactory(), store=product.store, lines=[(product, 1)])
    client.force_login(customer)
    body = client.get(URL).content.decode()
    assert order.number in body and theirs.number not in body
    assert "2 items" in body  # order fixture has 2 of the product
    assert product.store.name in body


def test_empty_state_points_to_the_shop_and_guest_tracking(client, customer):
    client.force_login(customer)
    body = client.get(URL).content.decode()
    assert "No orders yet" in body
    assert reverse("storefront:track") in body


def test_anonymous_is_sent_to_login(client, db):
    response = client.get(URL)
    assert response.status_code == 302 and reverse("accounts:login") in response["Location"]


def test_fixed_queries_however_many_orders(client, customer, product):
    client.force_login(customer)

    def count():
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(URL).status_code == 200
        return len(ctx.captured_queries)

    OrderFactory(customer=customer, store=product.store, lines=[(product, 1)])
    client.get(URL)  # warm: the signed-in user's row is then served from the cache
    few = count()
    for _ in range(15):
        OrderFactory(customer=customer, store=product.store, lines=[(product, 1)])
    assert count() == few
