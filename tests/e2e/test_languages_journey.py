"""A German and a French shopper in a real browser: the browser's language picks the pages' and
the checkout's language, the guest's confirmation email and status page follow it."""
import re

import pytest
from django.core import mail

from orders.models import Order
from tests.factories import ProductFactory, StoreFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

WORDS = {
    "de": {"checkout": "Kasse", "place": "Zahlungspflichtig bestellen", "subject": "bestätigt",
           "status": "Voraussichtliche Lieferung", "price": "64,00 £", "accept": "de-DE"},
    "fr": {"checkout": "Paiement", "place": "Passer la commande", "subject": "confirmée",
           "status": "Livraison estimée", "price": "64,00 £", "accept": "fr-FR"},
}


@pytest.mark.parametrize("language", ["de", "fr"])
def test_a_guest_shops_and_follows_the_order_in_their_language(live_server, browser, screenshot, language):
    words = WORDS[language]
    store = StoreFactory(name="Northwind Outfitters", slug="northwind", support_email="help@northwind.example")
    product = ProductFactory(store=store, name="Trail Runner Backpack", slug="trail-runner-backpack",
                             price="64.00", stock_on_hand=50)
    violations = []
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale=words["accept"])
    try:
        page = context.new_page()
        page.on("console", lambda msg: violations.append(msg.text) if "Content Security Policy" in msg.text else None)
        page.goto(f"{live_server.url}{product.get_absolute_url()}")
        assert words["price"] in page.content()
        page.click("form.add-to-cart button[type=submit]")
        page.goto(f"{live_server.url}/checkout/")
        assert page.locator("h1").first.inner_text() == words["checkout"]
        assert page.locator("#id_language").input_value() == language
        page.fill("#id_email", f"gast.{language}@example.com")
        page.fill("#id_name", "Alice Martin")
        page.fill("#id_line1", "53 Orchard Close")
        page.fill("#id_city", "London")
        page.fill("#id_postcode", "SW1A 1AA")
        page.check("input[name=payment_method][value=card]")
        page.fill("#id_card_number", "4242 4242 4242 4242")
        screenshot(page, f"checkout-{language}")
        assert words["place"] in page.content()
        page.click("form.checkout-form button[type=submit]")
        page.wait_for_url(re.compile(r"/checkout/placed/"))
        number = page.locator(".order-number").first.inner_text().strip()
        assert Order.objects.get(number=number).language == language

        email = next(m for m in mail.outbox if m.to == [f"gast.{language}@example.com"] and number in m.subject)
        assert words["subject"] in email.subject
        link = re.search(r"https?://[^\s\"'<>]+/o/[^\s\"'<>/]+/", email.body).group(0)
        page.goto(f"{live_server.url}{link[link.index('/o/'):]}")
        assert page.get_by_test_id("order-number").inner_text() == number
        assert words["status"] in page.content()
        screenshot(page, f"status-page-{language}")
    finally:
        context.close()
    assert violations == [], violations
