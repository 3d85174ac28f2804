"""Stripe: the PaymentIntents gateway and POST /webhooks/stripe/ (signed events in Stripe's shapes)."""
import hashlib
import hmac
import json
import time
from decimal import Decimal

import pytest
import responses
from django.core import mail
from django.urls import reverse

from notifications.models import Notification
from orders.models import Order, OrderStatus, Payment, StripeEvent
from orders.payments.stripe import StripeGateway, to_minor_units
from tests.factories import OrderFactory, ProductFactory, SellerFactory, StoreFactory
from tests.notifications.helpers import DECLINED_CARD, emails_to, place

pytestmark = pytest.mark.django_db
WHSEC = "whsec_test_5WbX5kEWLlfzsGNjH64I8lOOqUB6e8FH"
API = "https://api.stripe.com/v1"


@pytest.fixture(autouse=True)
def stripe_settings(settings):
    settings.STRIPE_SECRET_KEY = "sk_test_51Notify"
    settings.STRIPE_WEBHOOK_SECRET = WHSEC
    settings.PAYMENT_GATEWAY = "orders.payments.stripe.StripeGateway"
    mail.outbox = []
    return settings


@pytest.fixture
def commit(django_capture_on_commit_callbacks):
    return lambda: django_capture_on_commit_callbacks(execute=True)


def sign(body: bytes, *, secret=WHSEC, at=None, extra_v1=()) -> str:
    at = int(time.time()) if at is None else at
    digest = hmac.new(secret.encode(), f"{at}.".encode() + body, hashlib.sha256).hexdigest()
    return ",".join([f"t={at}", *[f"v1={v}" for v in extra_v1], f"v1={digest}"])


def payment_intent(pi_id, *, status="succeeded", amount=2899, error=None):
    """A PaymentIntent as Stripe publishes it (the fields we read and their neighbours)."""
    return {"id": pi_id, "object": "payment_intent", "amount": amount, "amount_received": amount if status ==
            "succeeded" else 0, "currency": "gbp", "status": status, "latest_charge": "ch_3Notify1",
            "capture_method": "automatic", "livemode": False, "metadata": {"order_number": "NS-TEST"},
            "payment_method": "pm_1Notify", "last_payment_error": error, "client_secret": f"{pi_id}_secret_x",
            "created": 1767225600}


def charge(pi_id, *, amount=2899, refunded_amount=0):
    return {"id": "ch_3Notify1", "object": "charge", "amount": amount, "amount_captured": amount,
            "amount_refunded": refunded_amount, "refunded": refunded_amount >= amount, "currency": "gbp",
            "payment_intent": pi_id, "status": "succeeded", "paid": True, "livemode": False}


_n = iter(range(1, 10**6))


def event(event_type, obj, *, event_id=None):
    return {"id": event_id or f"evt_1Notify{next(_n):06d}", "object": "event", "api_version": "2025-10-29.clover",
            "created": int(time.time()), "livemode": False, "pending_webhooks": 1,
            "request": {"id": None, "idempotency_key": None}, "type": event_type,
            "data": {"object": obj}}


def post(client, payload, *, signature=None, raw=None):
    body = raw if raw is not None else json.dumps(payload).encode()
    return client.post(reverse("orders:stripe_webhook"), data=body, content_type="application/json",
                       HTTP_STRIPE_SIGNATURE=signature if signature is not None else sign(body))


@pytest.fixture
def shop():
    store = StoreFactory(name="Linen & Co")
    SellerFactory(store=store, email="seller@linen.example")
    shirt = ProductFactory(store=store, name="Linen shirt", price=Decimal("25.00"), stock_on_hand=5)
    return store, shirt


@pytest.fixture
def pending_order(shop, commit):
    """A checkout paid with the Stripe gateway: the intent was created, Stripe has not said yet."""
    store, shirt = shop
    with responses.RequestsMock() as rsps:
        rsps.post(f"{API}/payment_intents", json=payment_intent("pi_3NotifyA", status="processing"))
        with commit():
            result = place({shirt.pk: 1})
        sent = rsps.calls[0].request
        assert "amount=2899" in sent.body and "currency=gbp" in sent.body
        assert "payment_method=pm_card_visa" in sent.body and "confirm=true" in sent.body
        assert sent.headers["Authorization"] == "Bearer sk_test_51Notify"
        assert sent.headers["Idempotency-Key"].startswith("order-NS-")
    order = result.orders[0]
    order.refresh_from_db()
    return order


def test_stripe_checkout_waits_in_pending_and_says_how_to_complete(pending_order):
    assert pending_order.status == OrderStatus.PENDING
    payment = pending_order.payments.get()
    assert payment.status == Payment.Status.PENDING and payment.reference == "pi_3NotifyA"
    assert [m for m in emails_to("guest@example.com", "order.payment_pending")]


def test_succeeded_captures_payment_moves_order_to_processing_and_tells_the_customer(client, pending_order, commit):
    with commit():
        response = post(client, event("payment_intent.succeeded", payment_intent("pi_3NotifyA")))
    assert response.status_code == 200 and response.json()["outcome"] == "processed"
    pending_order.refresh_from_db()
    assert pending_order.status == OrderStatus.PROCESSING
    assert pending_order.payments.get().status == Payment.Status.CAPTURED
    assert emails_to("guest@example.com", "order.processing")
    assert pending_order.events.filter(actor_label="Stripe", to_status="processing").exists()


def test_replayed_and_late_events_change_nothing(client, pending_order, commit):
    succeeded = event("payment_intent.succeeded", payment_intent("pi_3NotifyA"), event_id="evt_1Same")
    with commit():
        assert post(client, succeeded).json()["outcome"] == "processed"
    timeline = pending_order.events.count()
    notes = Notification.objects.count()
    with commit():
        again = post(client, succeeded)
        late_processing = post(client, event("payment_intent.processing", payment_intent("pi_3NotifyA",
                                                                                         status="processing")))
        late_failure = post(client, event("payment_intent.payment_failed", payment_intent(
            "pi_3NotifyA", status="requires_payment_method", error={"message": "Your card was declined."})))
    assert again.status_code == 200 and again.json()["repeat"] is True
    assert late_processing.json()["outcome"] == "unchanged" and late_failure.json()["outcome"] == "unchanged"
    pending_order.refresh_from_db()
    assert pending_order.status == OrderStatus.PROCESSING
    assert pending_order.payments.get().status == Payment.Status.CAPTURED
    assert pending_order.events.count() == timeline and Notification.objects.count() == notes
    assert StripeEvent.objects.filter(event_id="evt_1Same").count() == 1


def test_payment_failed_marks_it_failed_and_sends_the_notice_with_how_to_pay(client, pending_order, commit):
    failed = payment_intent("pi_3NotifyA", status="requires_payment_method",
                            error={"code": "card_declined", "decline_code": "insufficient_funds",
                                   "message": "Your card has insufficient funds.", "type": "card_error"})
    with commit():
        response = post(client, event("payment_intent.payment_failed", failed))
    assert response.status_code == 200
    payment = pending_order.payments.get()
    assert payment.status == Payment.Status.FAILED and "insufficient funds" in payment.failure_reason
    (message,) = emails_to("guest@example.com", "order.payment_failed")
    assert "insufficient funds" in message.body and "cash on delivery" in message.body and "/o/" in message.body
    pending_order.refresh_from_db()
    assert pending_order.status == OrderStatus.PENDING


def test_partial_then_full_refund_each_tell_the_amount_and_full_refunds_the_order(client, pending_order, commit):
    with commit():
        post(client, event("payment_intent.succeeded", payment_intent("pi_3NotifyA")))
    mail.outbox = []
    with commit():
        partial = post(client, event("charge.refunded", charge("pi_3NotifyA", refunded_amount=1000)))
    assert partial.json()["outcome"] == "processed"
    pending_order.refresh_from_db()
    assert pending_order.status == OrderStatus.PROCESSING
    assert pending_order.payments.get().status == Payment.Status.CAPTURED
    (partial_mail,) = emails_to("guest@example.com", "order.refunded")
    assert "£10.00" in partial_mail.subject and "£10.00" in partial_mail.body
    # A late copy of the partial refund (same cumulative amount) changes nothing.
    with commit():
        assert post(client, event("charge.refunded", charge("pi_3NotifyA", refunded_amount=1000))).json()[
            "outcome"] == "unchanged"
    mail.outbox = []
    with commit():
        full = post(client, event("charge.refunded", charge("pi_3NotifyA", refunded_amount=2899)))
    assert full.json()["outcome"] == "processed"
    pending_order.refresh_from_db()
    assert pending_order.status == OrderStatus.REFUNDED
    assert pending_order.payments.get().status == Payment.Status.REFUNDED
    assert len(emails_to("guest@example.com", "order.refunded")) == 1


@pytest.mark.parametrize("case", ["bad_signature", "wrong_secret", "stale", "missing_header", "malformed",
                                  "not_an_event"])
def test_bad_requests_are_400_and_change_nothing(client, pending_order, case):
    payload = event("payment_intent.succeeded", payment_intent("pi_3NotifyA"))
    body = json.dumps(payload).encode()
    kwargs = {}
    if case == "bad_signature":
        kwargs["signature"] = sign(body).replace("v1=", "v1=00", 1)[:-2]
    elif case == "wrong_secret":
        kwargs["signature"] = sign(body, secret="whsec_other")
    elif case == "stale":
        kwargs["signature"] = sign(body, at=int(time.time()) - 301)
    elif case == "missing_header":
        kwargs["signature"] = ""
    elif case == "malformed":
        kwargs["raw"] = b'{"id": "evt_1", "type": '
        kwargs["signature"] = sign(kwargs["raw"])
    elif case == "not_an_event":
        kwargs["raw"] = b'{"id": "evt_1", "type": "payment_intent.succeeded", "data": []}'
        kwargs["signature"] = sign(kwargs["raw"])
    response = post(client, payload, **kwargs)
    assert response.status_code == 400, response.content
    assert StripeEvent.objects.count() == 0
    assert pending_order.payments.get().status == Payment.Status.PENDING


def test_several_v1_signatures_one_valid_is_accepted_and_unknown_intent_is_200(client, db):
    payload = event("payment_intent.succeeded", payment_intent("pi_unknown"))
    body = json.dumps(payload).encode()
    response = post(client, payload, signature=sign(body, extra_v1=["deadbeef" * 8]))
    assert response.status_code == 200 and response.json()["outcome"] == "unknown_intent"
    assert StripeEvent.objects.get().outcome == StripeEvent.Outcome.UNKNOWN_INTENT


def test_no_secret_configured_refuses(client, settings, db):
    settings.STRIPE_WEBHOOK_SECRET = ""
    payload = event("payment_intent.succeeded", payment_intent("pi_x"))
    assert post(client, payload).status_code == 403


def test_a_decline_stripe_reports_at_once_fails_the_payment_so_the_customer_can_retry(shop, commit):
    store, shirt = shop
    with responses.RequestsMock() as rsps:
        rsps.post(f"{API}/payment_intents", status=402, json={"error": {
            "type": "card_error", "code": "card_declined", "decline_code": "generic_decline",
            "message": "Your card was declined.",
            "payment_intent": payment_intent("pi_3Declined", status="requires_payment_method")}})
        with commit():
            result = place({shirt.pk: 1}, card_number=DECLINED_CARD)
        assert "pm_card_chargeDeclined" in rsps.calls[0].request.body
    assert not result.payment_ok and "declined" in result.error
    payment = Payment.objects.get(order=result.orders[0])
    assert payment.status == Payment.Status.FAILED and payment.reference == "pi_3Declined"


def test_refund_calls_stripe_with_the_intent_and_minor_units(db):
    with responses.RequestsMock() as rsps:
        rsps.post(f"{API}/refunds", json={"id": "re_3Notify", "object": "refund", "amount": 1250,
                                          "payment_intent": "pi_3NotifyA", "status": "succeeded",
                                          "currency": "gbp"})
        result = StripeGateway().refund(reference="pi_3NotifyA", amount=Decimal("12.50"), currency="GBP")
        assert "payment_intent=pi_3NotifyA" in rsps.calls[0].request.body
        assert "amount=1250" in rsps.calls[0].request.body
    assert result.status == "refunded" and result.reference == "re_3Notify"
    assert to_minor_units(Decimal("1000"), "JPY") == 1000


def test_order_for_other_order_untouched(client, pending_order, commit):
    other = OrderFactory()
    with commit():
        post(client, event("payment_intent.succeeded", payment_intent("pi_3NotifyA")))
    other.refresh_from_db()
    assert other.status == Order._meta.get_field("status").default
