"""The order search keeps its meaning after its query was reshaped for the trigram indexes
(the customer's account name as ``customer_id = ANY(ARRAY(…))`` on PostgreSQL, not a JOIN)."""
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from orders.selectors import store_order_counts, store_orders
from tests.factories import CustomerFactory, OrderFactory, ProductFactory, StoreFactory


def test_search_finds_the_customer_account_name_not_only_the_shipping_name(seller):
    product = ProductFactory(store=seller.store)
    gift = OrderFactory(store=seller.store, lines=[(product, 1)], shipping_name="Ada Lovelace",
                        customer=CustomerFactory(first_name="Grace", last_name="Hopper", email="g@navy.example"))
    OrderFactory(store=seller.store, lines=[(product, 1)], shipping_name="Alan Turing")
    elsewhere = OrderFactory(store=StoreFactory(), lines=[(product, 1)],
                             customer=CustomerFactory(first_name="Grace", last_name="Hopper"))
    found = list(store_orders(store=seller.store, search="hopp"))
    assert [o.pk for o in found] == [gift.pk] and elsewhere.pk not in [o.pk for o in found]
    assert store_order_counts(store=seller.store, search="GRACE")[""] == 1


def test_the_search_and_the_tab_counts_make_no_join(client, seller):
    client.force_login(seller)
    OrderFactory(store=seller.store)
    with CaptureQueriesContext(connection) as ctx:
        client.get(reverse("seller:orders"), {"q": "hopper"})
    order_queries = [q["sql"] for q in ctx.captured_queries if 'FROM "orders_order"' in q["sql"]]
    assert order_queries and not any("JOIN" in sql for sql in order_queries)
    assert any("COUNT(*)" in sql for sql in order_queries)
