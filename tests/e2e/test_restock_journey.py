"""In a real browser: a customer asks to be told when a product is back; the seller restocks it on
the inventory page; the customer gets the back-in-stock email whose link opens the product page;
a second restock does not tell them again. The inventory page is checked on a phone too."""
import re

import pytest
from django.core import mail

from catalog.models import BackInStockSubscription
from notifications.models import Notification
from tests.factories import CustomerFactory, ProductFactory, SellerFactory, StoreFactory

from .conftest import login

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def shop(db):
    store = StoreFactory(name="Lumen Lights", slug="lumen")
    seller = SellerFactory(store=store, username="nina", first_name="Nina", last_name="Patel")
    lamp = ProductFactory(store=store, name="Desk Lamp", slug="desk-lamp", sku="LAMP-1", price="39.00",
                          stock_on_hand=0, low_stock_threshold=3, supplier_name="Bright Ltd",
                          supplier_email="orders@bright.example")
    ProductFactory(store=store, name="Bulb", sku="BULB-1", stock_on_hand=40)
    customer = CustomerFactory(username="alice", first_name="Alice", email="alice@example.com")
    mail.outbox = []
    return {"store": store, "seller": seller, "lamp": lamp, "customer": customer}


def _restock(page, units):
    row = page.locator('tr[data-sku="LAMP-1"]').first
    row.locator("input[name=quantity]").fill(str(units))
    row.locator("form.inv-restock button[type=submit]").click()
    page.locator('tr[data-sku="LAMP-1"] .saved-flash').first.wait_for()
    return page.locator('tr[data-sku="LAMP-1"]').first.inner_text()


def test_seller_restocks_and_the_subscriber_gets_one_email_whose_link_works(live_server, new_page, screenshot, shop):
    base = live_server.url
    customer_page = new_page()
    login(customer_page, base, shop["customer"])
    customer_page.goto(f"{base}{shop['lamp'].get_absolute_url()}")
    customer_page.click("form.stock-alert button[type=submit]")
    assert "We'll email alice@example.com" in customer_page.content()
    assert BackInStockSubscription.objects.get().confirmed_at is not None

    seller_page = new_page()
    login(seller_page, base, shop["seller"])
    seller_page.goto(f"{base}/seller/inventory/")
    assert seller_page.get_by_test_id("low-stock").locator("tr[data-sku='LAMP-1']").count() == 1
    assert "1 customer waiting" in seller_page.locator('tr[data-sku="LAMP-1"]').inner_text()
    screenshot(seller_page, "seller-inventory")

    text = _restock(seller_page, 6)
    assert "Restocked Desk Lamp: 0 → 6" in text and "+6 by Nina Patel" in text
    emails = [m for m in mail.outbox if m.to == ["alice@example.com"]]
    assert [m.subject for m in emails] == ["Desk Lamp is back in stock"]
    link = re.search(r"https?://\S+/p/lumen/desk-lamp/", emails[0].body).group(0)
    customer_page.goto(base + re.sub(r"^https?://[^/]+", "", link))
    assert customer_page.locator("h1").first.inner_text().strip() == "Desk Lamp"
    assert customer_page.locator("form.add-to-cart button[type=submit]").is_visible()

    _restock(seller_page, 4)
    assert len([m for m in mail.outbox if m.to == ["alice@example.com"]]) == 1
    assert Notification.objects.filter(event="product.back_in_stock", channel="email").count() == 1


def test_inventory_page_on_a_phone(live_server, new_page, screenshot, shop):
    page = new_page(viewport=PHONE)
    login(page, live_server.url, shop["seller"])
    page.goto(f"{live_server.url}/seller/inventory/")
    row = page.locator('tr[data-sku="LAMP-1"]').first
    box = row.bounding_box()
    assert box["width"] <= PHONE["width"]  # stacked as a card, not a table wider than the screen
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"] + 1
    assert row.locator("form.inv-restock button").is_visible()
    screenshot(page, "seller-inventory-phone")
