"""notifications.change_settings: the settings of one order change and, on PostgreSQL, the order's
lines, latest payment and push subscription, read in one statement, must be what the ORM reads."""
import datetime
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from notifications.change_settings import change_settings_load
from notifications.context import load_subject
from notifications.models import PushSubscription
from orders.models import OrderLine, Payment
from tests.factories import ProductFactory, OrderFactory

pytestmark = pytest.mark.django_db
ON_POSTGRESQL = connection.vendor == "postgresql"


def _fields(obj):
    return {f.attname: getattr(obj, f.attname) for f in type(obj)._meta.concrete_fields}


def test_lines_payment_and_push_read_with_the_settings_are_what_the_orm_reads(product):
    other = ProductFactory(store=product.store, price=Decimal("6.25"))
    order = OrderFactory(store=product.store, lines=[(product, 2), (other, 3)])
    with time_machine.travel(datetime.datetime(2030, 1, 2, 3, 4, 5, 678901, tzinfo=datetime.UTC), tick=False):
        later = Payment.objects.create(order=order, method="card", status="failed", amount=Decimal("1234.50"),
                                       refunded_amount=Decimal("0.10"), failure_reason="Card declined: “insufficient”")
    OrderLine.objects.filter(order=order, product=other).update(is_backordered=True)

    read = change_settings_load("order.shipped", order.store_id, order_id=order.pk, customer_id=order.customer_id)

    if not ON_POSTGRESQL:
        assert read.lines is None and not read.payment_read and read.customer_push is None
        return
    expected_lines = list(OrderLine.objects.filter(order=order).order_by("id"))
    assert [_fields(line) for line in read.lines] == [_fields(line) for line in expected_lines]
    assert [type(line.unit_price) for line in read.lines] == [Decimal, Decimal]
    assert read.lines[0]._state.adding is False  # as if loaded by the ORM
    assert _fields(read.payment) == _fields(later)  # the latest payment, to the microsecond
    assert read.payment.created_at.tzinfo is not None
    assert read.customer_push is False

    PushSubscription.objects.create(user=order.customer, endpoint="https://push.example.com/1", p256dh="k",
                                    auth="a")
    assert change_settings_load("order.shipped", order.store_id, order_id=order.pk,
                                customer_id=order.customer_id).customer_push is True


def test_an_order_without_payment_or_account(product):
    guest = OrderFactory(customer=None, store=product.store, lines=[(product, 1)])
    Payment.objects.filter(order=guest).delete()

    subject = load_subject(guest, "order.shipped")

    assert subject.payment is None
    assert [line.product_id for line in subject.lines] == [product.pk]
    if ON_POSTGRESQL:
        assert subject.settings.lines is not None and subject.settings.customer_push is False


def test_the_order_lock_loads_what_select_related_loads(product):
    """orders.services._lock_for_notifying is hand-written SQL: the same instances and caches as
    the ORM's select_for_update().select_related(...), for a customer with quiet hours and a store
    with switches, and for a guest order of a store without any."""
    from django.db import transaction

    from notifications.models import QuietHours, StoreNotificationOptions
    from orders.models import Order
    from orders.services import ORDER_RELATED_FOR_MESSAGES, _lock_for_notifying

    member = OrderFactory(store=product.store, lines=[(product, 1)])
    QuietHours.objects.create(user=member.customer, enabled=True)
    StoreNotificationOptions.objects.create(store=product.store, review_request=True)
    guest = OrderFactory(customer=None, lines=[(product, 1)])

    for order in (member, guest):
        with transaction.atomic():
            locked = _lock_for_notifying(order)
        expected = Order.objects.select_related(*ORDER_RELATED_FOR_MESSAGES).get(pk=order.pk)
        assert _fields(locked) == _fields(expected)
        assert _fields(locked.store) == _fields(expected.store)
        assert locked._locked_for_notifying is True
        with CaptureQueriesContext(connection) as ctx:
            if order is member:
                assert _fields(locked.customer) == _fields(expected.customer)
                assert _fields(locked.customer.quiet_hours) == _fields(expected.customer.quiet_hours)
                assert locked.store.notification_options.review_request is True
            else:
                assert locked.customer is None
                with pytest.raises(StoreNotificationOptions.DoesNotExist):
                    locked.store.notification_options  # noqa: B018
        assert len(ctx) == 0  # everything came with the lock
    with pytest.raises(Order.DoesNotExist), transaction.atomic():
        _lock_for_notifying(Order(pk=10**9))
