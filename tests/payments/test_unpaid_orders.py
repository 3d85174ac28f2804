"""Issue 9, item 2: an unpaid card order is reminded, then cancelled automatically (stock released)."""
import datetime
from decimal import Decimal

import pytest
from django.core import mail
from django.test import override_settings

from catalog.models import Product
from orders.models import Order, OrderEvent, OrderStatus
from orders.unpaid import unpaid_orders_sweep
from tests.factories import ProductFactory, SellerFactory, StoreFactory
from tests.notifications.helpers import DECLINED_CARD, GOOD_CARD, emails_to, place

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop(db):
    store = StoreFactory(name="Linen & Co")
    SellerFactory(store=store, email="seller@linen.example")
    product = ProductFactory(store=store, price=Decimal("25.00"), stock_on_hand=5)
    return store, product


def declined(product, commit, qty=2):
    with commit():
        order = place({product.pk: qty}, card_number=DECLINED_CARD).orders[0]
    return Order.objects.get(pk=order.pk)


def test_the_one_clear_message_says_until_when(shop, commit):
    store, product = shop
    order = declined(product, commit)
    message = emails_to("guest@example.com", "order.placed")[0]
    deadline = (order.placed_at + datetime.timedelta(hours=24)).astimezone(
        __import__("zoneinfo").ZoneInfo("Europe/London"))
    assert f"until {deadline.day} {deadline:%b %Y}, {deadline:%H:%M}" in message.body


def test_reminder_before_the_deadline_then_cancel_with_stock_released(shop, commit):
    store, product = shop
    order = declined(product, commit)
    assert Product.objects.get(pk=product.pk).stock_on_hand == 3  # reserved
    mail.outbox.clear()
    placed = order.placed_at

    with commit():
        assert unpaid_orders_sweep(now=placed + datetime.timedelta(hours=17)) == {"reminded": 0, "cancelled": 0}
    assert mail.outbox == []

    with commit():
        assert unpaid_orders_sweep(now=placed + datetime.timedelta(hours=18, minutes=5)) == {"reminded": 1,
                                                                                            "cancelled": 0}
        # Beat runs again: no second reminder.
        assert unpaid_orders_sweep(now=placed + datetime.timedelta(hours=19)) == {"reminded": 0, "cancelled": 0}
    reminder = emails_to("guest@example.com", "order.payment_reminder")
    assert len(reminder) == 1 and "still unpaid" in reminder[0].subject and "#pay" in reminder[0].body

    with commit():
        assert unpaid_orders_sweep(now=placed + datetime.timedelta(hours=24, minutes=1)) == {"reminded": 0,
                                                                                            "cancelled": 1}
    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED
    assert "Payment not received within 24 hours" in order.cancel_reason
    assert Product.objects.get(pk=product.pk).stock_on_hand == 5  # released
    cancelled = emails_to("guest@example.com", "order.cancelled")
    assert len(cancelled) == 1 and "nothing to refund" in cancelled[0].body
    assert emails_to("seller@linen.example", "order.cancelled")
    assert OrderEvent.objects.filter(order=order, kind="note", data__has_key="payment_reminder").count() == 1


def test_paid_orders_and_cash_on_delivery_are_never_auto_cancelled(shop, commit):
    store, product = shop
    with commit():
        paid = place({product.pk: 1}, card_number=GOOD_CARD).orders[0]
        cod = place({product.pk: 1}, payment_method="cod", card_number="").orders[0]
    retried = declined(product, commit, qty=1)
    from orders.checkout import checkout_retry_payment

    with commit():
        checkout_retry_payment(orders=[retried], payment_method="card", card_number=GOOD_CARD)
    late = paid.placed_at + datetime.timedelta(days=3)
    with commit():
        assert unpaid_orders_sweep(now=late) == {"reminded": 0, "cancelled": 0}
    assert set(Order.objects.filter(pk__in=[paid.pk, cod.pk, retried.pk]).values_list("status", flat=True)) == {
        "processing"}


@override_settings(UNPAID_ORDER_CANCEL_HOURS=2, UNPAID_ORDER_REMINDER_HOURS=1)
def test_the_deadline_is_configurable(shop, commit):
    store, product = shop
    order = declined(product, commit)
    with commit():
        assert unpaid_orders_sweep(now=order.placed_at + datetime.timedelta(minutes=61))["reminded"] == 1
        assert unpaid_orders_sweep(now=order.placed_at + datetime.timedelta(minutes=121))["cancelled"] == 1


def test_the_sweep_is_on_the_beat_schedule(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["orders.unpaid-orders"]
    assert entry["task"] == "orders.unpaid_orders_sweep"
