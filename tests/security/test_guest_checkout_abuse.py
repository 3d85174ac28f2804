"""Guest checkout cannot be used to send someone else's text to any address: cash-on-delivery orders
are rate limited per client address and per email, and customer subjects carry no typed names."""
import pytest
from django.core import mail
from django.test import override_settings
from django.urls import reverse

from notifications.rendering import validate
from orders.models import Order
from tests.factories import ProductFactory

pytestmark = pytest.mark.django_db
CHECKOUT = reverse("storefront:checkout")
FORM = {"email": "victim@example.com", "name": "Buy cheap pills at spam.example", "line1": "10 Navy Way",
        "line2": "", "city": "Bath", "postcode": "ba1 1lz", "country": "GB", "phone": "",
        "shipping_method": "standard", "payment_method": "cod", "card_number": ""}


@pytest.fixture
def product():
    return ProductFactory(name="Desk Lamp", price="3.00", stock_on_hand=500)


def order_once(client, product, ip="203.0.113.5", **changes):
    client.post(reverse("storefront:cart_add", args=[product.pk]), {"quantity": 1})
    return client.post(CHECKOUT, {**FORM, **changes}, REMOTE_ADDR=ip)


@override_settings(CHECKOUT_COD_RATE_PER_IP="3/h", CHECKOUT_COD_RATE_PER_EMAIL="100/h")
def test_cash_on_delivery_orders_are_limited_per_client_address(client, product):
    codes = [order_once(client, product, email=f"v{i}@example.com").status_code for i in range(4)]
    assert codes == [302, 302, 302, 429]
    assert Order.objects.count() == 3
    refused = order_once(client, product, email="v9@example.com")
    assert "Too many cash-on-delivery orders" in refused.content.decode()
    # Paying by card is not capped.
    assert order_once(client, product, payment_method="card", card_number="4242 4242 4242 4242").status_code == 302


@override_settings(CHECKOUT_COD_RATE_PER_IP="100/h", CHECKOUT_COD_RATE_PER_EMAIL="2/h")
def test_cash_on_delivery_orders_are_limited_per_email_whatever_the_address(client, product):
    codes = [order_once(client, product, ip=f"198.51.100.{i}", email="Victim@Example.com " if i % 2 else
                        "victim@example.com").status_code for i in range(3)]
    assert codes == [302, 302, 429]
    assert Order.objects.filter(email__iexact="victim@example.com").count() == 2


def test_the_confirmation_subject_carries_no_typed_name(client, product, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        assert order_once(client, product).status_code == 302
    subjects = [m.subject for m in mail.outbox if "victim@example.com" in m.to]
    assert subjects and all("spam" not in s.lower() and "pills" not in s.lower() for s in subjects)


@pytest.mark.parametrize("subject", ["Hi {{ recipient.first_name }}", "For {{ customer.name }}",
                                     "Going to {{ order.ship_to }}", "{{ change.reason }}"])
def test_customer_subjects_refuse_typed_text_at_validation(subject):
    errors = validate(event="order.placed", audience="customer", channel="email",
                      sources={"subject": subject, "text": "x", "html": "<p>x</p>"})
    assert "cannot include what a shopper typed" in " ".join(errors["subject"])
