"""Stripe Checkout: the live-key payment step (hosted page, checkout.session.* webhooks, Pay now).

Stripe's HTTP is intercepted with ``responses`` (the gateway uses the library's RequestsClient) and
answered with Checkout Session objects in Stripe's published shape; webhook events are built in
Stripe's event shape and signed with the test secret like the PaymentIntent tests.
"""
import time
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import pytest
import responses
import time_machine
from django.core import mail
from django.test import Client
from django.urls import reverse

from notifications.models import Notification
from orders.links import pay_path, status_path
from orders.models import Order, OrderStatus, Payment, StripeEvent
from tests.factories import CustomerFactory, ProductFactory, SellerFactory, StoreFactory
from tests.notifications.helpers import emails_to, place
from tests.orders.test_stripe import API, WHSEC, event, payment_intent, post

pytestmark = pytest.mark.django_db
NOW = 1894359600  # Fri 2030-01-11 11:00 UTC: the clock every test here runs on
CHECKOUT_URL = "https://checkout.stripe.com/c/pay/"
FORM = {"email": "guest@example.com", "name": "Grace Hopper", "line1": "10 Navy Way", "line2": "",
        "city": "Bath", "postcode": "ba1 1lz", "country": "GB", "phone": "", "shipping_method": "standard",
        "payment_method": "card", "card_number": ""}


@pytest.fixture(autouse=True)
def live_stripe(settings):
    settings.STRIPE_SECRET_KEY = "sk_live_51Notify"
    settings.STRIPE_WEBHOOK_SECRET = WHSEC
    settings.PAYMENT_GATEWAY = "orders.payments.stripe.StripeGateway"
    settings.SITE_URL = "https://shop.example"
    mail.outbox = []
    from accounts.dashboard.status_page import local_cache
    local_cache.clear()
    with time_machine.travel(NOW, tick=False):
        yield settings
    local_cache.clear()


@pytest.fixture
def commit(django_capture_on_commit_callbacks):
    return lambda: django_capture_on_commit_callbacks(execute=True)


_n = iter(range(1, 10**6))


def session(cs_id=None, *, order=None, payment=None, status="open", payment_status="unpaid", pi=None,
            amount=2899):
    """A Checkout Session as Stripe publishes it (mode=payment)."""
    cs_id = cs_id or f"cs_live_a1Notify{next(_n):06d}AbCdEfGhIjKlMnOpQrStUvWxYz0123456789abcdefgh"
    metadata = {"order_number": order.number, "payment_id": str(payment.pk)} if order is not None else {}
    return {
        "id": cs_id, "object": "checkout.session", "after_expiration": None, "allow_promotion_codes": None,
        "amount_subtotal": amount, "amount_total": amount, "automatic_tax": {"enabled": False, "status": None},
        "billing_address_collection": None, "cancel_url": "https://shop.example/o/x/pay/",
        "client_reference_id": order.number if order is not None else None, "created": NOW,
        "currency": "gbp", "customer": None, "customer_creation": "if_required",
        "customer_details": ({"email": "guest@example.com", "name": "Grace Hopper"}
                             if payment_status == "paid" else None),
        "customer_email": "guest@example.com", "expires_at": NOW + 3600, "invoice": None, "livemode": True,
        "locale": None, "metadata": metadata, "mode": "payment", "payment_intent": pi,
        "payment_method_types": ["card"], "payment_status": payment_status, "status": status,
        "success_url": "https://shop.example/o/x/?checkout={CHECKOUT_SESSION_ID}", "total_details": {
            "amount_discount": 0, "amount_shipping": 0, "amount_tax": 0},
        "ui_mode": "hosted", "url": CHECKOUT_URL + cs_id + "#fidkdWxOYHwnPyd1blpxYHZxWjA0",
    }


@pytest.fixture
def shop():
    store = StoreFactory(name="Linen & Co")
    SellerFactory(store=store, email="seller@linen.example")
    shirt = ProductFactory(store=store, name="Linen shirt", price=Decimal("25.00"), stock_on_hand=5)
    return store, shirt


def sent_params(call) -> dict:
    return {k: v[0] for k, v in parse_qs(call.request.body).items()}


@pytest.fixture
def checked_out(client, shop, commit):
    """A guest checks out with live keys: redirected to Stripe Checkout, the order waits in pending."""
    store, shirt = shop
    client.post(reverse("storefront:cart_add", args=[shirt.pk]), {"quantity": 1})
    with responses.RequestsMock() as rsps:
        created = rsps.post(f"{API}/checkout/sessions", json=session("cs_live_First"))
        with commit():
            response = client.post(reverse("storefront:checkout"), FORM)
        assert created.call_count == 1 and len(rsps.calls) == 1  # no PaymentIntent is created or confirmed
        params = sent_params(rsps.calls[0])
    order = Order.objects.get()
    return order, response, params


def test_checkout_with_live_keys_redirects_to_stripe_checkout_and_waits(checked_out):
    order, response, params = checked_out
    assert response.status_code == 302 and response["Location"].startswith(CHECKOUT_URL + "cs_live_First")
    payment = order.payments.get()
    assert (order.status, payment.status, payment.reference, payment.card_last4) == (
        OrderStatus.PENDING, Payment.Status.PENDING, "cs_live_First", "")
    assert params["mode"] == "payment"
    assert params["line_items[0][price_data][unit_amount]"] == "2899"  # £25 + £3.99 standard delivery
    assert params["line_items[0][price_data][currency]"] == "gbp"
    assert params["line_items[0][quantity]"] == "1"
    assert order.number in params["line_items[0][price_data][product_data][name]"]
    assert params["customer_email"] == "guest@example.com"
    assert params["client_reference_id"] == order.number
    assert params["metadata[order_number]"] == order.number
    assert params["metadata[payment_id]"] == str(payment.pk)
    assert params["payment_intent_data[metadata][payment_id]"] == str(payment.pk)
    assert params["success_url"] == "https://shop.example" + status_path(order) + "?checkout={CHECKOUT_SESSION_ID}"
    assert params["cancel_url"] == "https://shop.example" + pay_path(order)
    assert params["expires_at"] == str(NOW + 3600)
    assert "card_number" not in " ".join(params)
    # "How to complete" message, but nothing says paid.
    assert emails_to("guest@example.com", "order.payment_pending")
    assert not emails_to("guest@example.com", "order.processing")


def test_the_checkout_page_asks_no_card_number_with_a_hosted_gateway(client, shop):
    client.post(reverse("storefront:cart_add", args=[shop[1].pk]), {"quantity": 1})
    page = client.get(reverse("storefront:checkout")).content.decode()
    assert 'name="card_number"' not in page and "Stripe&#x27;s secure page" in page


def test_session_completed_moves_the_order_to_processing_once_even_when_delivered_twice(client, checked_out,
                                                                                     commit):
    order, _, _ = checked_out
    payment = order.payments.get()
    completed = event("checkout.session.completed", session(
        "cs_live_First", order=order, payment=payment, status="complete", payment_status="paid", pi="pi_3Live1"),
        event_id="evt_1Completed")
    with commit():
        first = post(client, completed)
    with commit():
        again = post(client, completed)
    assert first.json()["outcome"] == "processed" and again.json()["repeat"] is True
    order.refresh_from_db()
    payment.refresh_from_db()
    assert order.status == OrderStatus.PROCESSING
    assert (payment.status, payment.reference) == (Payment.Status.CAPTURED, "pi_3Live1")  # refunds go by the intent
    assert len(emails_to("guest@example.com", "order.processing")) == 1
    assert order.events.filter(to_status="processing").count() == 1


def test_session_completed_after_payment_intent_succeeded_changes_nothing(client, checked_out, commit):
    order, _, _ = checked_out
    payment = order.payments.get()
    intent = payment_intent("pi_3Live2") | {"metadata": {"order_number": order.number, "payment_id": str(payment.pk)}}
    with commit():
        assert post(client, event("payment_intent.succeeded", intent)).json()["outcome"] == "processed"
    notes = Notification.objects.count()
    with commit():
        late = post(client, event("checkout.session.completed", session(
            "cs_live_First", order=order, payment=payment, status="complete", payment_status="paid", pi="pi_3Live2")))
    assert late.json()["outcome"] == "unchanged"
    order.refresh_from_db()
    assert order.status == OrderStatus.PROCESSING and Notification.objects.count() == notes
    assert len(emails_to("guest@example.com", "order.processing")) == 1
    assert order.payments.get().reference == "pi_3Live2"


def test_delayed_method_waits_then_async_success_or_failure_decides(client, checked_out, commit):
    order, _, _ = checked_out
    payment = order.payments.get()
    unpaid = session("cs_live_First", order=order, payment=payment, status="complete", payment_status="unpaid",
                     pi="pi_3Live3")
    with commit():
        assert post(client, event("checkout.session.completed", unpaid)).json()["outcome"] == "unchanged"
    order.refresh_from_db()
    assert order.status == OrderStatus.PENDING
    with commit():
        failed = post(client, event("checkout.session.async_payment_failed", unpaid))
    assert failed.json()["outcome"] == "processed"
    payment.refresh_from_db()
    assert payment.status == Payment.Status.FAILED
    notice = emails_to("guest@example.com", "order.payment_failed")
    assert len(notice) == 1 and "https://shop.example" + pay_path(order) in notice[0].body


def test_async_payment_succeeded_captures(client, checked_out, commit):
    order, _, _ = checked_out
    payment = order.payments.get()
    with commit():
        post(client, event("checkout.session.async_payment_succeeded", session(
            "cs_live_First", order=order, payment=payment, status="complete", payment_status="paid", pi="pi_3L4")))
    order.refresh_from_db()
    assert order.status == OrderStatus.PROCESSING


def test_expired_session_fails_the_payment_and_says_how_to_pay(client, checked_out, commit):
    order, _, _ = checked_out
    payment = order.payments.get()
    with commit():
        response = post(client, event("checkout.session.expired", session(
            "cs_live_First", order=order, payment=payment, status="expired")))
    assert response.json()["outcome"] == "processed"
    payment.refresh_from_db()
    order.refresh_from_db()
    assert payment.status == Payment.Status.FAILED and "expired" in payment.failure_reason
    assert order.status == OrderStatus.PENDING
    assert emails_to("guest@example.com", "order.payment_failed")


def test_return_to_success_url_says_being_confirmed_and_changes_nothing(client, checked_out):
    order, _, _ = checked_out
    with responses.RequestsMock():  # no call to Stripe: the redirect is not trusted
        page = client.get(status_path(order) + "?checkout=cs_live_First")
    body = page.content.decode()
    assert page.status_code == 200 and 'data-testid="checkout-return"' in body
    assert "Stripe is confirming your payment" in body
    order.refresh_from_db()
    assert order.status == OrderStatus.PENDING and order.payments.get().status == Payment.Status.PENDING


# --- Pay now --------------------------------------------------------------------------------

def test_pay_page_opens_a_fresh_session_for_the_same_payment_and_an_old_one_paid_late_still_counts(
        client, checked_out, commit):
    order, _, _ = checked_out
    payment = order.payments.get()
    page = client.get(pay_path(order))
    assert page.status_code == 200 and 'data-testid="pay-page"' in page.content.decode()
    assert "£28.99" in page.content.decode()
    with responses.RequestsMock() as rsps:
        rsps.post(f"{API}/checkout/sessions", json=session("cs_live_Second"))
        response = Client().post(pay_path(order))  # a fresh browser with the link from the email
        assert sent_params(rsps.calls[0])["metadata[payment_id]"] == str(payment.pk)
    assert response.status_code == 302 and response["Location"].startswith(CHECKOUT_URL + "cs_live_Second")
    assert order.payments.count() == 1
    payment.refresh_from_db()
    assert payment.reference == "cs_live_Second"
    # The first page expiring now changes nothing (the second is open)...
    with commit():
        old_expired = post(client, event("checkout.session.expired", session(
            "cs_live_First", order=order, payment=payment, status="expired")))
    assert old_expired.json()["outcome"] == "unchanged"
    # ...and if the customer paid on the first page after all, the payment is found by its metadata.
    with commit():
        post(client, event("checkout.session.completed", session(
            "cs_live_First", order=order, payment=payment, status="complete", payment_status="paid", pi="pi_3L5")))
    order.refresh_from_db()
    assert order.status == OrderStatus.PROCESSING
    assert client.post(pay_path(order)).status_code == 409  # nothing left to pay


def test_pay_now_after_a_failed_payment_opens_a_new_payment(client, checked_out, commit):
    order, _, _ = checked_out
    payment = order.payments.get()
    with commit():
        post(client, event("checkout.session.expired", session("cs_live_First", order=order, payment=payment,
                                                               status="expired")))
    with responses.RequestsMock() as rsps:
        rsps.post(f"{API}/checkout/sessions", json=session("cs_live_Third"))
        response = client.post(pay_path(order))
    assert response.status_code == 302
    assert list(order.payments.order_by("pk").values_list("status", "reference")) == [
        ("failed", "cs_live_First"), ("pending", "cs_live_Third")]


def test_status_page_pay_form_goes_to_stripe(client, checked_out):
    order, _, _ = checked_out
    body = client.get(status_path(order)).content.decode()
    assert 'data-testid="pay-now"' in body and 'name="card_number"' not in body
    with responses.RequestsMock() as rsps:
        rsps.post(f"{API}/checkout/sessions", json=session("cs_live_Htmx"))
        response = client.post(status_path(order), {"action": "pay", "payment_method": "card"},
                               HTTP_HX_REQUEST="true")
    assert response.status_code == 204 and response["HX-Redirect"].startswith(CHECKOUT_URL + "cs_live_Htmx")


def test_pay_page_is_only_for_the_orders_customer(client, shop, commit):
    owner = CustomerFactory(email="owner@example.com")
    other = CustomerFactory(email="other@example.com")
    with responses.RequestsMock() as rsps:
        rsps.post(f"{API}/checkout/sessions", json=session("cs_live_Owner"))
        with commit():
            order = place({shop[1].pk: 1}, customer=owner, email=owner.email).orders[0]
        from orders.payments.hosted import hosted_payment_start
        hosted_payment_start(order=order)
    url = reverse("accounts:order_pay", args=[order.number])
    client.force_login(other)
    assert client.get(url).status_code == 404
    assert client.post(url).status_code == 404
    client.force_login(owner)
    assert client.get(url).status_code == 200
    tampered = pay_path(order)[:-8] + "xxxxxxx/"
    assert Client().get(tampered).status_code in (403, 404)
    assert client.get(reverse("accounts:order_pay", args=["NS-NOPE-NOPE"])).status_code == 404


def test_pay_now_is_rate_limited(client, checked_out, settings):
    settings.PAY_NOW_RATE_PER_ORDER = "2/h"
    order, _, _ = checked_out
    with responses.RequestsMock() as rsps:
        rsps.post(f"{API}/checkout/sessions", json=session("cs_live_Again"))
        assert client.post(pay_path(order)).status_code == 302
        assert client.post(pay_path(order)).status_code == 302
        limited = client.post(pay_path(order))
        assert len(rsps.calls) == 2
    assert limited.status_code == 429 and "Too many payment attempts" in limited.content.decode()


def test_stripe_down_at_checkout_fails_the_payment_and_offers_pay_now(client, shop, commit):
    client.post(reverse("storefront:cart_add", args=[shop[1].pk]), {"quantity": 1})
    with responses.RequestsMock() as rsps:
        rsps.post(f"{API}/checkout/sessions", status=500, json={"error": {
            "type": "api_error", "message": "Something went wrong on Stripe's end."}})
        with commit():
            response = client.post(reverse("storefront:checkout"), FORM, follow=True)
    order = Order.objects.get()
    assert order.payments.get().status == Payment.Status.FAILED
    body = response.content.decode()
    assert "The payment page could not be opened" in body and pay_path(order) in body
    # The confirmation, still queued, is refreshed to say so (one clear message: reserved, how to pay).
    placed = emails_to("guest@example.com", "order.placed")
    assert len(placed) == 1 and "https://shop.example" + pay_path(order) in placed[0].body


def test_unknown_session_is_200_and_logged(client):
    response = post(client, event("checkout.session.completed", session("cs_live_Nobody", status="complete",
                                                                        payment_status="paid", pi="pi_x")))
    assert response.status_code == 200 and response.json()["outcome"] == "unknown_intent"
    assert StripeEvent.objects.get().event_type == "checkout.session.completed"


def test_test_keys_keep_the_server_side_confirm_unless_checkout_is_on(settings):
    from orders.payments.stripe import StripeGateway

    settings.STRIPE_SECRET_KEY = "sk_test_51Notify"
    assert StripeGateway().hosted is False
    settings.STRIPE_CHECKOUT = True
    assert StripeGateway().hosted is True
    settings.STRIPE_CHECKOUT = False
    settings.STRIPE_SECRET_KEY = "sk_live_51Notify"
    assert StripeGateway().hosted is True
    assert time.time() == NOW


def test_a_checkout_across_two_shops_offers_one_pay_button_per_order(client, shop, commit):
    other = ProductFactory(store=StoreFactory(name="Wool Mill"), name="Socks", price=Decimal("6.00"), stock_on_hand=5)
    client.post(reverse("storefront:cart_add", args=[shop[1].pk]), {"quantity": 1})
    client.post(reverse("storefront:cart_add", args=[other.pk]), {"quantity": 1})
    with responses.RequestsMock() as rsps:  # nothing is opened until the customer picks an order to pay
        with commit():
            response = client.post(reverse("storefront:checkout"), FORM)
        assert len(rsps.calls) == 0
    orders = list(Order.objects.order_by("store__name"))
    assert response.status_code == 302 and "/checkout/placed/" in response["Location"]
    page = client.get(response["Location"]).content.decode()
    assert page.count('data-testid="pay-on-stripe"') == 2
    assert all(pay_path(o) in page for o in orders)
    with responses.RequestsMock() as rsps:
        rsps.post(f"{API}/checkout/sessions", json=session("cs_live_Shop1"))
        paid = client.post(pay_path(orders[0]))
        assert sent_params(rsps.calls[0])["metadata[order_number]"] == orders[0].number
    assert paid.status_code == 302 and paid["Location"].startswith(CHECKOUT_URL)


def test_a_card_declined_on_the_checkout_page_leaves_the_customer_there_to_try_again(client, checked_out, commit):
    order, _, _ = checked_out
    payment = order.payments.get()
    meta = {"order_number": order.number, "payment_id": str(payment.pk)}
    declined = payment_intent("pi_3Live9", status="requires_payment_method",
                              error={"message": "Your card was declined."}) | {"metadata": meta}
    with commit():
        assert post(client, event("payment_intent.payment_failed", declined)).json()["outcome"] == "unchanged"
    payment.refresh_from_db()
    assert payment.status == Payment.Status.PENDING and not emails_to("guest@example.com", "order.payment_failed")
    with commit():
        post(client, event("checkout.session.completed", session(
            "cs_live_First", order=order, payment=payment, status="complete", payment_status="paid", pi="pi_3Live9")))
    order.refresh_from_db()
    assert order.status == OrderStatus.PROCESSING


def test_money_for_an_attempt_already_failed_is_a_payment_of_its_own_once(client, checked_out, commit):
    order, _, _ = checked_out
    payment = order.payments.get()
    meta = {"order_number": order.number, "payment_id": str(payment.pk)}
    with commit():
        post(client, event("checkout.session.async_payment_failed", session(
            "cs_live_First", order=order, payment=payment, status="complete", pi="pi_3LiveA")))
    succeeded = payment_intent("pi_3LiveA") | {"metadata": meta}
    with commit():
        assert post(client, event("payment_intent.succeeded", succeeded)).json()["outcome"] == "processed"
        assert post(client, event("payment_intent.succeeded", succeeded)).json()["outcome"] == "unchanged"
    assert list(order.payments.order_by("pk").values_list("status", "reference")) == [
        ("failed", "cs_live_First"), ("captured", "pi_3LiveA")]
    order.refresh_from_db()
    assert order.status == OrderStatus.PROCESSING
    assert len(emails_to("guest@example.com", "order.processing")) == 1
