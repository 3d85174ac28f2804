"""Issue 9 in a real browser: a declined card has a way out, and a delivered order's review
link leads to a feedback form the seller then sees."""
import re

import pytest
from django.core import mail

from notifications.channels import sms
from tests.factories import CustomerFactory, ProductFactory, SellerFactory, StoreFactory

from .conftest import login
from .test_order_journey import checkout as checkout_with_card

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

DECLINED = "4000 0000 0000 0002"


@pytest.fixture
def shop(db):
    store = StoreFactory(name="Northwind Outfitters", slug="northwind", support_email="help@northwind.example")
    seller = SellerFactory(store=store, username="nina", first_name="Nina", email="nina@northwind.example")
    product = ProductFactory(store=store, name="Trail Runner Backpack", slug="trail-runner-backpack",
                             price="64.00", stock_on_hand=50)
    sms.outbox.clear()
    return {"store": store, "seller": seller, "product": product}


def _path_of(link: str) -> str:
    return link[link.index("/o/"):]


def test_declined_card_email_link_pay_on_status_page_seller_told_ok_to_ship(live_server, new_page, screenshot,
                                                                            shop):
    page = new_page()
    page.goto(f"{live_server.url}{shop['product'].get_absolute_url()}")
    page.click("form.add-to-cart button[type=submit]")
    page.goto(f"{live_server.url}/checkout/")
    page.fill("#id_email", "guest.payer@example.com")
    page.fill("#id_name", "Alice Smith")
    page.fill("#id_line1", "53 Orchard Close")
    page.fill("#id_city", "London")
    page.fill("#id_postcode", "SW1A 1AA")
    page.check("input[name=payment_method][value=card]")
    page.fill("#id_card_number", DECLINED)
    page.click("form.checkout-form button[type=submit]")
    page.wait_for_url(re.compile(r"/checkout/placed/"))
    number = page.locator(".order-number").first.inner_text().strip()

    # One clear message: reserved, payment failed, how to pay (a link to the status page's #pay).
    to_customer = [m for m in mail.outbox if m.to == ["guest.payer@example.com"]]
    assert len(to_customer) == 1 and "reserved" in to_customer[0].subject
    link = re.search(r"https?://[^\s\"'<>]+/o/[^\s\"'<>]+#pay", to_customer[0].body).group(0)
    assert any("do not ship" in m.subject.lower() for m in mail.outbox if shop["seller"].email in m.to)

    guest = new_page(viewport={"width": 390, "height": 844})
    guest.goto(f"{live_server.url}{_path_of(link)}")
    pay = guest.get_by_test_id("pay-now")
    assert pay.is_visible() and "Pay now" in pay.inner_text()
    screenshot(guest, "status-page-pay-now")
    guest.fill("#pay_card_number", "4242 4242 4242 4242")
    guest.get_by_test_id("pay-submit").click()
    guest.get_by_test_id("flash").wait_for()
    assert "your payment went through" in guest.get_by_test_id("flash").inner_text()
    assert "Being prepared" in guest.get_by_test_id("status-headline").inner_text()
    assert guest.get_by_test_id("pay-now").count() == 0

    ok = [m for m in mail.outbox if shop["seller"].email in m.to and "OK to ship" in m.subject]
    assert len(ok) == 1 and number in ok[0].subject

    seller_page = new_page()
    login(seller_page, live_server.url, shop["seller"])
    seller_page.goto(f"{live_server.url}/seller/orders/{number}/")
    assert seller_page.get_by_test_id("order-status").inner_text() == "Processing"
    assert "Nothing due." in seller_page.get_by_test_id("amount-due").inner_text()
    assert seller_page.get_by_test_id("action-mark_paid").count() == 0


def test_delivered_review_link_feedback_saved_seller_sees_it(live_server, new_page, screenshot, shop):
    from orders.models import Order
    from tests.notifications.helpers import ship, track

    shopper = new_page()
    number = checkout_with_card(shopper, live_server.url, shop["product"], email="reviewer@example.com")
    order = Order.objects.get(number=number)
    shipment = ship(order)
    track(shipment, "delivered", message="Delivered to your safe place")
    delivered = next(m for m in mail.outbox if m.to == ["reviewer@example.com"] and "delivered" in m.subject.lower())
    link = re.search(r"https?://[^\s\"'<>]+/o/[^\s\"'<>]+#review", delivered.body).group(0)

    guest = new_page(viewport={"width": 390, "height": 844})
    guest.goto(f"{live_server.url}{_path_of(link)}")
    form = guest.get_by_test_id("feedback-form")
    assert form.is_visible()
    form.locator("input[name=rating][value='4']").check()
    form.locator("textarea[name=comment]").fill("Sturdy and light, arrived early.")
    screenshot(guest, "status-page-feedback")
    guest.get_by_test_id("feedback-submit").click()
    guest.get_by_test_id("flash").wait_for()
    assert "4 / 5" in guest.get_by_test_id("feedback-given").inner_text()

    seller_page = new_page()
    login(seller_page, live_server.url, shop["seller"])
    seller_page.goto(f"{live_server.url}/seller/orders/{number}/")
    assert "Sturdy and light" in seller_page.get_by_test_id("order-feedback").inner_text()
    seller_page.click("nav.subnav >> text=Feedback")
    row = seller_page.get_by_test_id("feedback-row").first
    assert number in row.inner_text() and "4 / 5" in row.inner_text()
    screenshot(seller_page, "seller-feedback")


def test_on_a_phone_the_header_keeps_log_out_and_the_bell_on_screen(live_server, new_page, screenshot, shop):
    page = new_page(viewport={"width": 360, "height": 740})
    login(page, live_server.url, shop["seller"])
    page.goto(f"{live_server.url}/seller/")
    for locator in (page.get_by_test_id("bell"), page.get_by_role("button", name="Log out")):
        box = locator.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 360, box
        assert box["y"] < 120
    screenshot(page, "phone-header")
    page.get_by_role("button", name="Log out").click()
    page.wait_for_load_state()
    assert page.get_by_text("Log in").first.is_visible()
