"""The order journey in a real browser: checkout, the live status page, the seller dashboard,
seller alert settings and the guest link from the confirmation email."""
import re

import pytest
from django.core import mail

from notifications.channels import sms
from notifications.services import platform_event_set
from orders.models import Order, Payment
from tests.factories import CustomerFactory, OrderFactory, ProductFactory, SellerFactory, StoreFactory

from .conftest import login

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def shop(db):
    store = StoreFactory(name="Northwind Outfitters", slug="northwind", support_email="help@northwind.example")
    seller = SellerFactory(store=store, username="nina", first_name="Nina", last_name="Patel",
                           phone="+447700900456")
    product = ProductFactory(store=store, name="Trail Runner Backpack", slug="trail-runner-backpack",
                             price="64.00", stock_on_hand=50)
    customer = CustomerFactory(username="alice", first_name="Alice", last_name="Smith", email="alice@example.com")
    sms.outbox.clear()
    return {"store": store, "seller": seller, "product": product, "customer": customer}


def checkout(page, base_url, product, *, email=None, sms_updates=False):
    page.goto(f"{base_url}{product.get_absolute_url()}")
    page.click("form.add-to-cart button[type=submit]")
    page.goto(f"{base_url}/checkout/")
    if email:
        page.fill("#id_email", email)
    page.fill("#id_name", "Alice Smith")
    page.fill("#id_line1", "53 Orchard Close")
    page.fill("#id_city", "London")
    page.fill("#id_postcode", "SW1A 1AA")
    page.fill("#id_phone", "07911 123456")
    if sms_updates:
        page.check("#id_sms_opt_in")
    page.check("input[name=payment_method][value=card]")
    page.fill("#id_card_number", "4242 4242 4242 4242")
    page.click("form.checkout-form button[type=submit]")
    page.wait_for_url(re.compile(r"/checkout/placed/"))
    return page.locator(".order-number").first.inner_text().strip()


def test_customer_checks_out_and_sees_the_confirmation_on_the_status_page(live_server, new_page, screenshot, shop):
    page = new_page()
    login(page, live_server.url, shop["customer"])
    number = checkout(page, live_server.url, shop["product"])

    page.click("text=View in my account")
    page.wait_for_url(re.compile(rf"/account/orders/{number}/"))
    assert page.get_by_test_id("order-number").inner_text() == number
    assert page.get_by_test_id("progress").get_attribute("data-state") == "normal"
    headline = page.get_by_test_id("status-headline").inner_text()
    assert "Being prepared" in headline  # the test card was captured
    assert "Trail Runner Backpack" in page.content()
    confirmation = page.locator('[data-testid=notification-row][data-event="order.placed"][data-channel="email"]')
    assert "Order confirmation" in confirmation.inner_text()
    assert re.search(r"Sent|Delivered", confirmation.inner_text())
    assert any(number in m.subject for m in mail.outbox if "alice@example.com" in m.to)


def test_seller_ships_and_the_customers_open_page_shows_it_without_reloading(live_server, new_page, screenshot,
                                                                             shop):
    store, product = shop["store"], shop["product"]
    # Some history, so the list (and its screenshot) looks like a working store.
    for name, status in (("Grace Evans", "completed"), ("Dave Brown", "shipped"), ("Erin Taylor", "on_hold"),
                         ("Frank Davies", "cancelled"), ("Heidi Thomas", "processing")):
        first = name.split()[0].lower()
        past = OrderFactory(store=store, customer=CustomerFactory(first_name=name.split()[0], email=f"{first}@example.com"),
                            shipping_name=name, lines=[(product, 2 if first in "dave heidi" else 1)])
        Order.objects.filter(pk=past.pk).update(status=status)
        Payment.objects.filter(order=past).update(status="refunded" if status == "cancelled" else "captured")
    customer_page = new_page()
    login(customer_page, live_server.url, shop["customer"])
    number = checkout(customer_page, live_server.url, product)
    customer_page.goto(f"{live_server.url}/account/orders/{number}/")
    customer_page.evaluate("window.__notReloaded = true")
    assert "Not shipped yet" in customer_page.locator("#order-live").inner_text()

    seller_page = new_page()
    login(seller_page, live_server.url, shop["seller"])
    seller_page.goto(f"{live_server.url}/seller/")
    assert seller_page.get_by_test_id("order-row").count() == 6
    screenshot(seller_page, "seller-orders")
    seller_page.click(f"text={number}")
    seller_page.wait_for_url(re.compile(rf"/seller/orders/{number}/"))
    seller_page.select_option("#id_ship-carrier", "royalmail")
    seller_page.fill("#id_ship-tracking_number", "RM123456789GB")
    seller_page.click("[data-testid=action-ship]")
    seller_page.get_by_text("Shipped with Royal Mail, tracking RM123456789GB.").wait_for()
    assert seller_page.get_by_test_id("order-status").inner_text() == "Shipped"
    screenshot(seller_page, "seller-order-detail")

    # The customer's page picks it up through its htmx refresh: no navigation, no reload.
    customer_page.get_by_test_id("tracking-number").wait_for(timeout=20_000)
    assert customer_page.get_by_test_id("tracking-number").inner_text() == "RM123456789GB"
    assert customer_page.evaluate("window.__notReloaded") is True
    assert "Shipped" in customer_page.get_by_test_id("status-headline").inner_text()
    link = customer_page.get_by_test_id("carrier-link").get_attribute("href")
    assert link == "https://www.royalmail.com/track-your-item#/tracking-results/RM123456789GB"
    assert customer_page.locator("[data-testid=cancel-form]").count() == 0
    screenshot(customer_page, "customer-status-page")


def test_seller_switches_off_sms_for_new_orders_and_the_next_order_sends_none(live_server, new_page, screenshot,
                                                                                shop):
    # The platform sends new-order alerts to sellers by SMS too; the seller opts out.
    platform_event_set(event="order.placed", enabled=True, seller_channels=["email", "sms", "inapp"])
    from notifications.services import seller_setting_set

    seller_setting_set(store=shop["store"], event="order.placed", channel="sms", enabled=True)  # switched on earlier
    from notifications.models import QuietHours

    QuietHours.objects.create(user=shop["seller"], enabled=False)  # whatever the time of day the test runs
    seller_phone = str(shop["seller"].phone)

    shopper = new_page()
    first = checkout(shopper, live_server.url, shop["product"], email="first@example.com")
    assert [m for m in sms.outbox if m["to"] == seller_phone and first in m["body"]]

    seller_page = new_page()
    login(seller_page, live_server.url, shop["seller"])
    seller_page.goto(f"{live_server.url}/seller/settings/")
    toggle = seller_page.locator('[data-testid="toggle-order.placed-sms"]')
    assert toggle.locator("input[type=checkbox]").is_checked()
    toggle.locator("label.toggle").click()
    seller_page.locator('[data-testid="toggle-order.placed-sms"] .saved-flash').wait_for()
    assert not seller_page.locator('[data-testid="toggle-order.placed-sms"] input[type=checkbox]').is_checked()
    screenshot(seller_page, "seller-settings")
    seller_page.reload()
    assert not seller_page.locator('[data-testid="toggle-order.placed-sms"] input[type=checkbox]').is_checked()

    second = checkout(shopper, live_server.url, shop["product"], email="second@example.com")
    assert not [m for m in sms.outbox if m["to"] == seller_phone and second in m["body"]]
    # Email and in-app alerts for that order still reach the seller.
    assert any(second in m.subject for m in mail.outbox if shop["seller"].email in m.to)


def test_guest_opens_the_status_page_from_the_link_in_the_email(live_server, new_page, shop):
    shopper = new_page()
    number = checkout(shopper, live_server.url, shop["product"], email="guest.buyer@example.com")
    email = next(m for m in mail.outbox if m.to == ["guest.buyer@example.com"] and number in m.subject)
    link = re.search(r"https?://[^\s\"'<>]+/o/[^\s\"'<>/]+/", email.body).group(0)
    path = link[link.index("/o/"):]

    guest = new_page(viewport={"width": 390, "height": 844})
    guest.goto(f"{live_server.url}{path}")
    assert guest.get_by_test_id("order-number").inner_text() == number
    assert "Track another order" in guest.content()
    assert Order.objects.get(number=number).email == "guest.buyer@example.com"

    # The same link with one character changed is refused, with a way to look the order up.
    tampered = path[:-3] + ("A" if path[-3] != "A" else "B") + path[-2:]
    guest.goto(f"{live_server.url}{tampered}")
    assert guest.get_by_test_id("link-refused").is_visible()
    assert number not in guest.content()
