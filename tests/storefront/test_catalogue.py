"""Product list (search, store filter, pagination, fixed queries) and product page (stock, back-in-stock)."""
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from catalog.models import BackInStockSubscription
from tests.factories import ProductFactory, StoreFactory

pytestmark = pytest.mark.django_db
LIST = reverse("storefront:product_list")


def names(response):
    return [p.name for p in response.context["page"].object_list]


def test_search_matches_name_description_sku_and_store(client):
    kettle = StoreFactory(name="Copper Kettle")
    ProductFactory(name="Blue Mug", description="stoneware", sku="MUG-1")
    ProductFactory(name="Red Lamp", description="a warm light", sku="LMP-9")
    ProductFactory(name="Teapot", store=kettle, sku="TP-1")
    ProductFactory(name="Hidden Mug", active=False)

    assert names(client.get(LIST, {"q": "mug"})) == ["Blue Mug"]
    assert names(client.get(LIST, {"q": "warm"})) == ["Red Lamp"]
    assert names(client.get(LIST, {"q": "lmp-9"})) == ["Red Lamp"]
    assert names(client.get(LIST, {"q": "copper"})) == ["Teapot"]
    response = client.get(LIST, {"q": "nothing-like-this"})
    assert "No products match" in response.content.decode()


def test_filter_by_store_and_paginate(client):
    a, b = StoreFactory(name="Alpha", slug="alpha"), StoreFactory(name="Beta", slug="beta")
    for i in range(14):
        ProductFactory(store=a, name=f"A product {i:02d}")
    ProductFactory(store=b, name="B product")

    response = client.get(LIST, {"store": "alpha"})
    assert len(names(response)) == 12 and all(n.startswith("A ") for n in names(response))
    assert "Page 1 of 2" in response.content.decode()
    assert "store=alpha&amp;page=2" in response.content.decode()
    second = client.get(LIST, {"store": "alpha", "page": 2})
    assert names(second) == ["A product 12", "A product 13"]
    assert names(client.get(LIST, {"store": "beta"})) == ["B product"]
    assert client.get(LIST, {"page": "999"}).status_code == 200


def test_product_list_keeps_a_fixed_number_of_queries(client):
    stores = [StoreFactory() for _ in range(3)]

    def count_queries():
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(LIST).status_code == 200
        return len(ctx.captured_queries)

    for i in range(5):
        ProductFactory(store=stores[i % 3])
    five = count_queries()
    for i in range(25):
        ProductFactory(store=stores[i % 3])
    assert count_queries() == five
    assert five <= 4


def test_product_page_shows_price_and_stock(client):
    product = ProductFactory(name="Trail Pack", price="64.00", stock_on_hand=3, low_stock_threshold=5)
    page = client.get(product.get_absolute_url()).content.decode()
    assert "Trail Pack" in page and "£64.00" in page and "Only 3 left" in page and "Add to cart" in page
    assert "Notify me" not in page


def test_out_of_stock_page_offers_back_in_stock_alert_prefilled_for_customer(client, customer):
    product = ProductFactory(stock_on_hand=0)
    page = client.get(product.get_absolute_url()).content.decode()
    assert "Out of stock" in page and "Notify me when back in stock" in page and "Add to cart" not in page

    client.force_login(customer)
    response = client.get(product.get_absolute_url())
    assert response.context["alert_form"].initial["email"] == customer.email


def test_back_in_stock_subscription_is_created_once(client):
    product = ProductFactory(stock_on_hand=0, name="Tent")
    url = reverse("storefront:stock_alert", args=[product.store.slug, product.slug])
    response = client.post(url, {"email": "Fan@Example.com"}, follow=True)
    # A guest's address is confirmed by email first (double opt-in: tests/catalog/test_back_in_stock.py).
    assert "sent a confirmation link to Fan@Example.com" in response.content.decode()
    client.post(url, {"email": "fan@example.com"})
    assert BackInStockSubscription.objects.filter(product=product).count() == 1
    assert BackInStockSubscription.objects.get().email == "fan@example.com"

    bad = client.post(url, {"email": "not an email"})
    assert bad.status_code == 400 and "Enter a valid email address" in bad.content.decode()


def test_backorder_product_can_be_added_when_out_of_stock(client):
    product = ProductFactory(stock_on_hand=0, allow_backorder=True, restock_lead_days=14)
    page = client.get(product.get_absolute_url()).content.decode()
    assert "On backorder" in page and "Add to cart" in page and "Notify me" not in page


def test_unknown_or_inactive_product_is_404(client):
    product = ProductFactory(active=False)
    assert client.get(product.get_absolute_url()).status_code == 404
    assert client.get(reverse("storefront:product_detail", args=["nope", "nope"])).status_code == 404
