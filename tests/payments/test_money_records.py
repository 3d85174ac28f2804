"""Issue 9, item 3: money records stay true (mark paid, confirm without payment, retries)."""
from decimal import Decimal

import pytest
from django.urls import reverse

from orders.models import Order, OrderEvent, OrderStatus, Payment
from orders.services import TransitionNotAllowed, payment_set_status
from tests.factories import ProductFactory, SellerFactory, StoreFactory
from tests.notifications.helpers import DECLINED_CARD, GOOD_CARD, place

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop(db):
    store = StoreFactory(name="Linen & Co")
    seller = SellerFactory(store=store, email="seller@linen.example")
    product = ProductFactory(store=store, price=Decimal("25.00"), stock_on_hand=20)
    return store, seller, product


@pytest.fixture
def seller_client(client, shop):
    client.force_login(shop[1])
    return client


def act(client, order, action, data=None):
    return client.post(reverse("seller:order_action", args=[order.number, action]), data or {})


def detail(client, order):
    return client.get(reverse("seller:order_detail", args=[order.number])).content.decode()


def test_order_paid_on_retry_has_one_captured_payment_and_no_mark_paid(seller_client, shop, commit):
    product = shop[2]
    with commit():
        order = place({product.pk: 1}, card_number=DECLINED_CARD).orders[0]
    from orders.checkout import checkout_retry_payment

    with commit():
        checkout_retry_payment(orders=[order], payment_method="card", card_number=GOOD_CARD)
    assert list(Order.objects.get(pk=order.pk).payments.order_by("id").values_list("status", flat=True)) == [
        "failed", "captured"]
    page = detail(seller_client, order)
    assert "Mark payment received" not in page and "Nothing due." in page
    response = act(seller_client, order, "mark_paid")
    assert response.status_code == 422
    assert Payment.objects.filter(order=order, status="captured").count() == 1


def test_a_failed_payment_row_is_never_rewritten_as_captured(shop, commit):
    product = shop[2]
    with commit():
        order = place({product.pk: 1}, card_number=DECLINED_CARD).orders[0]
    failed = order.payments.get()
    with pytest.raises(TransitionNotAllowed):
        payment_set_status(payment=failed, to=Payment.Status.CAPTURED)
    assert Payment.objects.get(pk=failed.pk).status == "failed"


def test_mark_paid_on_a_failed_card_order_records_a_new_payment_for_the_amount_due(seller_client, shop, commit):
    product = shop[2]
    with commit():
        order = place({product.pk: 1}, card_number=DECLINED_CARD).orders[0]
    assert "Mark payment received" in detail(seller_client, order)
    assert act(seller_client, order, "mark_paid").status_code == 302
    rows = list(Order.objects.get(pk=order.pk).payments.order_by("id"))
    assert [(p.method, p.status) for p in rows] == [("card", "failed"), ("manual", "captured")]
    assert rows[1].amount == order.total
    assert "Mark payment received" not in detail(seller_client, order)


def test_cash_on_delivery_mark_paid_captures_the_pending_payment(seller_client, shop, commit):
    product = shop[2]
    with commit():
        order = place({product.pk: 1}, payment_method="cod", card_number="").orders[0]
    assert "Mark payment received" in detail(seller_client, order)
    act(seller_client, order, "mark_paid")
    assert list(order.payments.values_list("method", "status")) == [("cod", "captured")]


def test_seller_cannot_confirm_an_unpaid_card_order_without_an_override(seller_client, shop, commit):
    product = shop[2]
    with commit():
        order = place({product.pk: 1}, card_number=DECLINED_CARD).orders[0]
    page = detail(seller_client, order)
    assert "Not paid yet: do not ship." in page and 'data-testid="override-form"' in page
    response = act(seller_client, order, "process")
    assert response.status_code == 422 and "not paid" in response.content.decode()
    assert Order.objects.get(pk=order.pk).status == OrderStatus.PENDING

    response = act(seller_client, order, "process", {"override_reason": "Paid by bank transfer, ref 991"})
    assert response.status_code == 302
    order.refresh_from_db()
    assert order.status == OrderStatus.PROCESSING
    event = OrderEvent.objects.filter(order=order, kind="status").latest("id")
    assert event.data["payment_override"] is True
    assert event.data["override_reason"] == "Paid by bank transfer, ref 991"
    assert event.actor == shop[1] and "override" in event.note


def test_a_paid_order_is_confirmed_without_any_override(seller_client, shop, commit):
    product = shop[2]
    with commit():
        order = place({product.pk: 1}, card_number=DECLINED_CARD).orders[0]
    act(seller_client, order, "mark_paid")
    assert 'data-testid="override-form"' not in detail(seller_client, order)
    assert act(seller_client, order, "process").status_code == 302
    assert Order.objects.get(pk=order.pk).status == OrderStatus.PROCESSING
