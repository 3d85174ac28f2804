"""The checkout page as a shopper uses it: form errors, guests, consent, the order-placed page."""
import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import ConsentRecord
from catalog.models import Product
from orders.links import status_path
from orders.models import Order
from tests.factories import ProductFactory

pytestmark = pytest.mark.django_db
CHECKOUT = reverse("storefront:checkout")
FORM = {"email": "guest@example.com", "name": "Grace Hopper", "line1": "10 Navy Way", "line2": "",
        "city": "Bath", "postcode": "ba1 1lz", "country": "GB", "phone": "", "shipping_method": "standard",
        "payment_method": "card", "card_number": "4242 4242 4242 4242"}


@pytest.fixture
def product():
    return ProductFactory(name="Desk Lamp", price="30.00", stock_on_hand=4)


@pytest.fixture
def in_cart(client, product):
    client.post(reverse("storefront:cart_add", args=[product.pk]), {"quantity": 2})
    return product


def test_empty_cart_redirects_to_cart(client):
    response = client.get(CHECKOUT)
    assert response.status_code == 302 and response["Location"] == reverse("storefront:cart")


def test_marketing_opt_in_is_unticked_by_default(client, in_cart):
    page = client.get(CHECKOUT).content.decode()
    tag = page[page.index('name="marketing_opt_in"') - 60: page.index('name="marketing_opt_in"') + 60]
    assert "checked" not in tag
    assert "Desk Lamp" in page
    assert '<span class="for-standard"> · £60.00</span>' in page  # 2 × 30, free standard delivery from £50
    assert '<span class="for-express"> · £67.99</span>' in page


def test_guest_checkout_places_the_order_and_empties_the_cart(client, in_cart):
    response = client.post(CHECKOUT, FORM, follow=True)

    order = Order.objects.get()
    assert (order.email, order.customer, order.status, order.shipping_postcode) == (
        "guest@example.com", None, "processing", "BA1 1LZ")
    page = response.content.decode()
    assert order.number in page and status_path(order) in page
    assert reverse("accounts:order_detail", args=[order.number]) not in page  # guests have no account page
    assert "guest@example.com" in page
    assert client.session["cart"] == {}
    assert Product.objects.get(pk=in_cart.pk).stock_on_hand == 2
    assert ConsentRecord.objects.count() == 0


def test_logged_in_checkout_prefills_email_and_links_to_the_account_order(client, customer, in_cart):
    client.force_login(customer)
    assert client.get(CHECKOUT).context["form"].initial["email"] == customer.email

    response = client.post(CHECKOUT, {**FORM, "email": customer.email}, follow=True)
    order = Order.objects.get()
    assert order.customer == customer
    assert reverse("accounts:order_detail", args=[order.number]) in response.content.decode()


def test_ticked_consents_are_recorded_with_ip(client, in_cart):
    client.post(CHECKOUT, {**FORM, "marketing_opt_in": "on", "sms_opt_in": "on", "phone": "07911 123456"},
                REMOTE_ADDR="198.51.100.7")
    order = Order.objects.get()
    assert order.phone == "+447911123456" and order.sms_opt_in
    assert set(ConsentRecord.objects.values_list("kind", "granted", "ip_address", "email")) == {
        ("marketing_email", True, "198.51.100.7", "guest@example.com"),
        ("sms_updates", True, "198.51.100.7", "guest@example.com")}


@pytest.mark.parametrize("change,field,message", [
    ({"phone": "12345"}, "phone", "valid phone number"),
    ({"line1": ""}, "line1", "required"),
    ({"city": "", "postcode": ""}, "city", "required"),
    ({"email": ""}, "email", "required"),
    ({"postcode": "ZZZ"}, "postcode", "UK postcode"),
    ({"sms_opt_in": "on", "phone": ""}, "phone", "mobile number"),
    ({"card_number": "4242 4242 4242 4241"}, "card_number", "not valid"),
    ({"card_number": ""}, "card_number", "card number"),
])
def test_field_errors_are_shown_and_nothing_is_saved(client, in_cart, change, field, message):
    response = client.post(CHECKOUT, {**FORM, **change})

    assert response.status_code == 400
    assert message in " ".join(response.context["form"].errors[field]).lower() or message in str(
        response.context["form"].errors[field])
    assert "field-error" in response.content.decode()
    assert Order.objects.count() == 0 and ConsentRecord.objects.count() == 0
    assert Product.objects.get(pk=in_cart.pk).stock_on_hand == 4
    assert client.session["cart"] == {str(in_cart.pk): 2}


def test_cash_on_delivery_needs_no_card(client, in_cart):
    client.post(CHECKOUT, {**FORM, "payment_method": "cod", "card_number": ""})
    order = Order.objects.get()
    assert order.status == "processing" and order.payments.get().method == "cod"


def test_stock_gone_before_submit_shows_error_and_keeps_cart(client, in_cart):
    Product.objects.filter(pk=in_cart.pk).update(stock_on_hand=1)
    response = client.post(CHECKOUT, FORM)
    assert response.status_code == 400
    assert "only 1 of “Desk Lamp” left" in response.content.decode()
    assert Order.objects.count() == 0
    assert client.session["cart"] == {str(in_cart.pk): 2}


def test_declined_card_says_so_and_payment_can_be_retried(client, in_cart):
    response = client.post(CHECKOUT, {**FORM, "card_number": "4000 0000 0000 0002"}, follow=True)
    page = response.content.decode()
    order = Order.objects.get()
    assert order.status == "pending" and order.payments.get().status == "failed"
    assert "payment did not go through" in page and "Your card was declined" in page
    assert "Pay now" in page
    assert client.session["cart"] == {}  # the order exists (reserved); the retry is on the order page

    url = reverse("storefront:checkout_pay", args=[order.checkout_id])
    response = client.post(url, {"payment_method": "card", "card_number": "4242424242424242"}, follow=True)
    order.refresh_from_db()
    assert order.status == "processing"
    assert "payment sorted" in response.content.decode() and "Pay now" not in response.content.decode()


def test_placed_page_is_only_for_who_placed_it(client, customer, in_cart):
    client.post(CHECKOUT, FORM)
    order = Order.objects.get()
    url = reverse("storefront:checkout_placed", args=[order.checkout_id])
    assert client.get(url).status_code == 200
    assert Client().get(url).status_code == 404
    other = Client()
    other.force_login(customer)  # logged in, but not their order
    assert other.get(url).status_code == 404
    assert other.post(reverse("storefront:checkout_pay", args=[order.checkout_id]),
                      {"payment_method": "cod"}).status_code == 404


def test_two_store_cart_lists_both_order_numbers(client):
    a, b = ProductFactory(), ProductFactory()
    for p in (a, b):
        client.post(reverse("storefront:cart_add", args=[p.pk]), {"quantity": 1})
    page = client.post(CHECKOUT, FORM, follow=True).content.decode()
    orders = Order.objects.all()
    assert orders.count() == 2 and len({o.checkout_id for o in orders}) == 1
    assert all(o.number in page for o in orders)
