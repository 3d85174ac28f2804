"""Issue 15 item 5 in a real browser: a guest asks from the signed link, the seller answers from
the order page (htmx both ways), the thread shows on both; and issue 13's pay page with Stripe Checkout."""
import pytest

from orders.links import pay_path, status_path
from orders.models import OrderMessage
from tests.factories import OrderFactory, ProductFactory, SellerFactory, StoreFactory

from .conftest import login

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def shop(db):
    store = StoreFactory(name="Northwind Outfitters", slug="northwind", support_email="help@northwind.example")
    seller = SellerFactory(store=store, username="nina", first_name="Nina", email="nina@northwind.example")
    product = ProductFactory(store=store, name="Trail Runner Backpack", slug="trail-runner-backpack",
                             price="64.00", stock_on_hand=50)
    order = OrderFactory(customer=None, email="alice@example.com", shipping_name="Alice Smith", store=store,
                         lines=[(product, 1)])
    return {"store": store, "seller": seller, "order": order}


def test_guest_asks_seller_answers_thread_on_both_pages(live_server, new_page, screenshot, shop):
    order = shop["order"]
    guest = new_page()
    guest.goto(f"{live_server.url}{status_path(order)}")
    guest.fill("textarea[name=ask-body]", "Hi! Could you pack it as a gift? It's a birthday present.\nThanks, Alice")
    guest.click("[data-testid=ask-submit]")
    guest.wait_for_selector("[data-testid=flash]")
    assert "Could you pack it as a gift?" in guest.inner_text("[data-testid=thread]")
    assert guest.input_value("textarea[name=ask-body]") == ""  # a fresh box after sending
    assert OrderMessage.objects.count() == 1

    seller = new_page()
    login(seller, live_server.url, shop["seller"])
    seller.goto(f"{live_server.url}/seller/orders/{order.number}/")
    assert "Could you pack it as a gift?" in seller.inner_text("#messages")
    seller.fill("textarea[name=msg-body]", "Of course, Alice: it will go out gift-wrapped with a card tomorrow.")
    seller.click("[data-testid=message-submit]")
    seller.wait_for_selector("text=gift-wrapped with a card tomorrow")
    seller.locator("#messages").scroll_into_view_if_needed()
    screenshot(seller, "seller-order-thread")

    guest.reload()
    guest.wait_for_selector("text=gift-wrapped with a card")
    guest.locator("#messages").scroll_into_view_if_needed()
    screenshot(guest, "status-page-thread")

    phone = new_page(viewport=PHONE)
    phone.goto(f"{live_server.url}{status_path(order)}")
    phone.locator("#messages").scroll_into_view_if_needed()
    screenshot(phone, "status-page-thread-phone")
    seller_phone = new_page(viewport=PHONE)
    login(seller_phone, live_server.url, shop["seller"])
    seller_phone.goto(f"{live_server.url}/seller/orders/{order.number}/")
    seller_phone.locator("#messages").scroll_into_view_if_needed()
    screenshot(seller_phone, "seller-order-thread-phone")


def test_pay_page_with_stripe_checkout(live_server, new_page, screenshot, shop, settings):
    settings.PAYMENT_GATEWAY = "orders.payments.stripe.StripeGateway"
    settings.STRIPE_SECRET_KEY = "sk_live_51NotifyScreenshot"
    order = shop["order"]
    page = new_page()
    page.goto(f"{live_server.url}{pay_path(order)}")
    assert "securely" in page.inner_text("[data-testid=pay-on-stripe]")
    screenshot(page, "order-pay-stripe")
    phone = new_page(viewport=PHONE)
    phone.goto(f"{live_server.url}{pay_path(order)}")
    screenshot(phone, "order-pay-stripe-phone")
