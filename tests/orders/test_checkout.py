"""orders.checkout.checkout_place: orders per store, stock, backorders, payment outcomes."""
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.models import ConsentRecord
from catalog.models import Product
from orders import signals
from orders.checkout import (
    CheckoutError,
    OutOfStock,
    add_working_days,
    checkout_place,
    checkout_retry_payment,
    price_order,
)
from orders.models import Order, OrderEvent, OrderLine, Payment
from tests.factories import ProductFactory, StoreFactory

pytestmark = pytest.mark.django_db

ADDRESS = {"name": "Ada Lovelace", "line1": "1 Analytical Row", "line2": "", "city": "London",
           "postcode": "N1 9GU", "country": "GB"}
GOOD_CARD = "4242 4242 4242 4242"
DECLINED_CARD = "4000 0000 0000 0002"


def place(items, **kwargs):
    params = {"customer": None, "email": "guest@example.com", "address": ADDRESS, "shipping_method": "standard",
              "payment_method": "card", "card_number": GOOD_CARD}
    params.update(kwargs)
    return checkout_place(items=items, **params)


@pytest.fixture
def signal_log():
    calls = []

    def make(name):
        def receiver(sender, **kwargs):
            calls.append((name, kwargs))
        return receiver

    receivers = {name: make(name) for name in ("order_placed", "order_status_changed", "payment_status_changed",
                                               "order_backordered")}
    for name, receiver in receivers.items():
        getattr(signals, name).connect(receiver, weak=False)
    yield calls
    for name, receiver in receivers.items():
        getattr(signals, name).disconnect(receiver)


def test_two_stores_make_two_orders_sharing_one_checkout(customer, signal_log):
    a, b = ProductFactory(price=Decimal("10.00")), ProductFactory(price=Decimal("60.00"))
    assert a.store != b.store

    result = place({a.pk: 2, b.pk: 1}, customer=customer, email=customer.email)

    assert result.payment_ok and result.error == ""
    assert len(result.orders) == 2
    orders = Order.objects.filter(checkout_id=result.checkout_id).order_by("store_id")
    assert orders.count() == 2
    assert {o.store_id for o in orders} == {a.store_id, b.store_id}
    small, big = sorted(orders, key=lambda o: o.subtotal)
    # Standard delivery per store: 3.99, free from 50. Prices include 20% VAT.
    assert (small.subtotal, small.shipping_total, small.total, small.tax_total) == (
        Decimal("20.00"), Decimal("3.99"), Decimal("23.99"), Decimal("4.00"))
    assert (big.subtotal, big.shipping_total, big.total, big.tax_total) == (
        Decimal("60.00"), Decimal("0.00"), Decimal("60.00"), Decimal("10.00"))
    for order in orders:
        assert order.status == "processing"
        assert order.customer == customer
        assert order.payments.get().status == "captured"
        kinds = list(order.events.values_list("kind", flat=True))
        assert kinds == ["placed", "payment", "status"]
    line = OrderLine.objects.get(order=small)
    assert (line.product_name, line.sku, line.unit_price, line.quantity) == (a.name, a.sku, a.price, 2)
    placed = [kw for name, kw in signal_log if name == "order_placed"]
    assert [kw["order"].pk for kw in placed] == [o.pk for o in sorted(orders, key=lambda o: o.store_id)]
    changes = [kw for name, kw in signal_log if name == "order_status_changed"]
    assert all(kw["at_checkout"] and kw["to_status"] == "processing" for kw in changes) and len(changes) == 2


def test_stock_is_decremented_exactly():
    product = ProductFactory(stock_on_hand=7)
    place({product.pk: 3})
    product.refresh_from_db()
    assert product.stock_on_hand == 4


def test_not_enough_stock_names_the_product_and_rolls_everything_back():
    plenty = ProductFactory(stock_on_hand=10)
    scarce = ProductFactory(name="Last Lamp", stock_on_hand=1, store=plenty.store)

    with pytest.raises(OutOfStock) as excinfo:
        place({plenty.pk: 2, scarce.pk: 2})

    assert "Last Lamp" in str(excinfo.value)
    assert Order.objects.count() == 0 and Payment.objects.count() == 0 and OrderEvent.objects.count() == 0
    plenty.refresh_from_db(), scarce.refresh_from_db()
    assert (plenty.stock_on_hand, scarce.stock_on_hand) == (10, 1)


def test_declined_card_leaves_order_pending_with_failed_payment_and_stock_reserved(signal_log):
    product = ProductFactory(stock_on_hand=5)

    result = place({product.pk: 2}, card_number=DECLINED_CARD)

    assert not result.payment_ok
    assert result.error == "Your card was declined"
    order = Order.objects.get()
    assert order.status == "pending"
    payment = order.payments.get()
    assert (payment.status, payment.failure_reason, payment.card_last4) == ("failed", "Your card was declined", "0002")
    product.refresh_from_db()
    assert product.stock_on_hand == 3
    assert not [1 for name, _ in signal_log if name == "order_status_changed"]


def test_retry_after_decline_captures_and_moves_to_processing():
    product = ProductFactory(stock_on_hand=5)
    result = place({product.pk: 1}, card_number=DECLINED_CARD)

    retry = checkout_retry_payment(orders=result.orders, payment_method="card", card_number=GOOD_CARD)

    assert retry.payment_ok
    order = Order.objects.get()
    assert order.status == "processing"
    assert sorted(order.payments.values_list("status", flat=True)) == ["captured", "failed"]
    with pytest.raises(CheckoutError):
        checkout_retry_payment(orders=[order], payment_method="card", card_number=GOOD_CARD)


def test_cash_on_delivery_goes_to_processing_with_payment_pending():
    product = ProductFactory()
    result = place({product.pk: 1}, payment_method="cod", card_number="")
    order = result.orders[0]
    order.refresh_from_db()
    assert result.payment_ok
    assert order.status == "processing"
    assert order.payments.get().status == "pending"
    assert order.payments.get().method == "cod"


@pytest.mark.usefixtures("frozen_clock")
def test_backorder_product_goes_below_zero_and_flags_the_order(signal_log):
    product = ProductFactory(stock_on_hand=1, allow_backorder=True, restock_lead_days=10)

    result = place({product.pk: 3})

    product.refresh_from_db()
    assert product.stock_on_hand == -2
    order = Order.objects.get(pk=result.orders[0].pk)
    assert order.is_backordered
    expected = timezone.localdate() + timedelta(days=10)
    assert order.backorder_expected == expected
    assert order.estimated_delivery == add_working_days(expected, 5)
    assert order.lines.get().is_backordered
    assert [kw["expected"] for name, kw in signal_log if name == "order_backordered"] == [expected]


@pytest.mark.usefixtures("frozen_clock")
def test_in_stock_order_is_not_backordered_and_gets_a_working_day_estimate():
    product = ProductFactory(stock_on_hand=5, allow_backorder=True)
    order = place({product.pk: 5}, shipping_method="express").orders[0]
    order.refresh_from_db()
    assert not order.is_backordered and not order.lines.get().is_backordered
    assert order.shipping_total == Decimal("7.99")
    estimate = order.estimated_delivery
    assert estimate == add_working_days(timezone.localdate(), 2) and estimate.weekday() < 5


def test_guest_checkout_records_consents_only_when_ticked():
    product = ProductFactory(stock_on_hand=5)
    place({product.pk: 1}, email="g@example.com")
    assert ConsentRecord.objects.count() == 0

    place({product.pk: 1}, email="g@example.com", marketing_opt_in=True, sms_opt_in=True, phone="07911 123456",
          ip="203.0.113.9")
    kinds = set(ConsentRecord.objects.values_list("kind", "granted", "email", "ip_address", "source"))
    assert kinds == {("marketing_email", True, "g@example.com", "203.0.113.9", "checkout"),
                     ("sms_updates", True, "g@example.com", "203.0.113.9", "checkout")}
    order = Order.objects.latest("id")
    assert order.phone == "+447911123456" and order.sms_opt_in


@pytest.mark.parametrize("kwargs,message", [
    ({"email": "not-an-email"}, "email"),
    ({"address": {**ADDRESS, "line1": ""}}, "line1"),
    ({"phone": "12345"}, "phone"),
    ({"sms_opt_in": True, "phone": ""}, "mobile"),
    ({"card_number": "4242 4242 4242 4241"}, "not valid"),
    ({"shipping_method": "drone"}, "shipping"),
])
def test_bad_input_raises_and_saves_nothing(kwargs, message):
    product = ProductFactory(stock_on_hand=5)
    with pytest.raises(CheckoutError) as excinfo:
        place({product.pk: 1}, **kwargs)
    assert message in str(excinfo.value).lower()
    assert Order.objects.count() == 0
    assert Product.objects.get(pk=product.pk).stock_on_hand == 5


def test_inactive_product_cannot_be_bought():
    product = ProductFactory(active=False, name="Retired Mug")
    with pytest.raises(CheckoutError, match="Retired Mug"):
        place({product.pk: 1})
    assert Order.objects.count() == 0


def test_order_numbers_are_not_sequential():
    store = StoreFactory()
    products = [ProductFactory(store=store) for _ in range(3)]
    numbers = [place({p.pk: 1}).orders[0].number for p in products]
    assert len(set(numbers)) == 3
    assert all(n.startswith("NS-") and len(n) == 12 for n in numbers)


def test_price_order_rules():
    assert price_order(subtotal=Decimal("49.99"), method="standard").shipping == Decimal("3.99")
    assert price_order(subtotal=Decimal("50.00"), method="standard").shipping == Decimal("0.00")
    assert price_order(subtotal=Decimal("80.00"), method="express").shipping == Decimal("7.99")
    assert price_order(subtotal=Decimal("12.00"), method="express").tax == Decimal("3.33")


class _SoldOutWhileChargingGateway:
    """Charges like the test gateway, but the last unit is sold while the card network answers."""

    code = "sold-out-while-charging"
    product_id = None
    refunded: list = []

    def charge(self, **kwargs):
        from catalog.models import Product
        from django.db import connection
        from orders.payments.testcard import TestCardGateway

        # The charge must happen with no transaction open (network I/O never holds row locks).
        assert not connection.in_atomic_block, "charge() was called inside a transaction"
        Product.objects.filter(pk=self.product_id).update(stock_on_hand=0)
        return TestCardGateway().charge(**kwargs)

    def refund(self, **kwargs):
        _SoldOutWhileChargingGateway.refunded.append(kwargs)
        from orders.payments import ChargeResult
        return ChargeResult(status="refunded")


@pytest.mark.django_db(transaction=True)
def test_card_is_charged_outside_the_transaction_and_refunded_when_stock_runs_out(settings):
    from catalog.models import Product
    from catalog.services import OutOfStock
    from orders.models import Order, Payment

    product = ProductFactory(stock_on_hand=1, price=Decimal("20.00"))
    _SoldOutWhileChargingGateway.product_id = product.pk
    _SoldOutWhileChargingGateway.refunded = []
    settings.PAYMENT_GATEWAY = "tests.orders.test_checkout._SoldOutWhileChargingGateway"

    with pytest.raises(OutOfStock):
        checkout_place(customer=None, email="late@example.com", items={product.pk: 1}, address=ADDRESS,
                       shipping_method="standard", payment_method="card", card_number=GOOD_CARD)

    assert Order.objects.count() == 0 and Payment.objects.count() == 0
    assert Product.objects.get(pk=product.pk).stock_on_hand == 0
    assert len(_SoldOutWhileChargingGateway.refunded) == 1
    assert _SoldOutWhileChargingGateway.refunded[0]["amount"] == Decimal("23.99")


def test_an_order_placed_on_friday_evening_skips_the_weekend_in_its_estimate():
    import time_machine

    product = ProductFactory(stock_on_hand=5)
    friday_evening = datetime(2030, 1, 18, 18, 0, tzinfo=UTC)  # 18:00 London in January
    with time_machine.travel(friday_evening, tick=False):
        express = place({product.pk: 1}, shipping_method="express").orders[0]
        standard = place({product.pk: 1}).orders[0]
    express.refresh_from_db()
    standard.refresh_from_db()
    assert express.estimated_delivery == date(2030, 1, 22)  # 2 working days: Monday, Tuesday
    assert standard.estimated_delivery == add_working_days(date(2030, 1, 18), 5) == date(2030, 1, 25)
