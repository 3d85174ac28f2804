"""Issue 9, item 1: a declined card has a way out from the status page the email links to,
and repeated failures send at most one failure notice an hour (the timeline keeps every attempt)."""
import datetime
import re
from decimal import Decimal

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from notifications.channels import sms
from orders.links import status_path
from orders.models import Order, OrderEvent, OrderStatus, Payment
from tests.factories import CustomerFactory, ProductFactory, SellerFactory, StoreFactory
from tests.notifications.helpers import DECLINED_CARD, GOOD_CARD, emails_to, place, sent

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop(db):
    store = StoreFactory(name="Linen & Co")
    seller = SellerFactory(store=store, email="seller@linen.example")
    product = ProductFactory(store=store, price=Decimal("25.00"), stock_on_hand=5)
    sms.outbox.clear()
    return store, seller, product


def declined_guest_order(shop, commit, **kwargs):
    store, seller, product = shop
    with commit():
        result = place({product.pk: 1}, card_number=DECLINED_CARD, phone="+447911123456", sms_opt_in=True,
                       **kwargs)
    assert not result.payment_ok
    return Order.objects.get(pk=result.orders[0].pk)


def test_email_pay_link_opens_a_pay_now_section_on_the_guest_status_page(client, shop, commit):
    order = declined_guest_order(shop, commit)
    message = emails_to("guest@example.com", "order.placed")[0]
    link = re.search(r"(http://\S+/o/\S+)#pay", message.body).group(1)
    path = link.split("testserver")[-1] if "testserver" in link else "/" + link.split("/", 3)[3]
    page = client.get(path)
    body = page.content.decode()
    assert page.status_code == 200
    assert 'id="pay"' in body and "Pay now" in body and 'name="card_number"' in body
    assert "Cash on delivery" in body  # the other way to pay


def test_guest_pays_with_another_card_through_the_gateway(client, shop, commit):
    store, seller, product = shop
    order = declined_guest_order(shop, commit)
    mail.outbox.clear()
    with commit():
        response = client.post(status_path(order), {"action": "pay", "payment_method": "card",
                                                    "card_number": GOOD_CARD}, follow=True)
    assert response.status_code == 200
    assert "your payment went through" in response.content.decode()
    order.refresh_from_db()
    assert order.status == OrderStatus.PROCESSING
    statuses = sorted(order.payments.values_list("status", flat=True))
    assert statuses == ["captured", "failed"]  # the failed attempt stays in the history
    captured = order.payments.get(status="captured")
    assert captured.reference.startswith("test_ch_")  # charged by the gateway
    # The customer hears "payment confirmed"; the seller told "do not ship yet" hears "paid, OK to ship".
    assert emails_to("guest@example.com", "order.processing")
    ok = emails_to("seller@linen.example", "order.payment_received")
    assert len(ok) == 1 and "OK to ship" in ok[0].subject
    # The page no longer offers to pay.
    assert 'data-testid="pay-now"' not in client.get(status_path(order)).content.decode()


def test_guest_switches_to_cash_on_delivery(client, shop, commit):
    order = declined_guest_order(shop, commit)
    with commit():
        client.post(status_path(order), {"action": "pay", "payment_method": "cod"})
    order.refresh_from_db()
    assert order.status == OrderStatus.PROCESSING
    cod = order.payments.get(method="cod")
    assert cod.status == Payment.Status.PENDING
    ok = emails_to("seller@linen.example", "order.payment_received")
    assert len(ok) == 1 and "cash on delivery" in ok[0].body


def test_logged_in_customer_pays_from_the_account_status_page(client, shop, commit):
    customer = CustomerFactory(email="ada@example.com")
    order = declined_guest_order(shop, commit, customer=customer, email=customer.email)
    client.force_login(customer)
    page = client.get(reverse("accounts:order_detail", args=[order.number])).content.decode()
    assert 'data-testid="pay-form"' in page and reverse("accounts:order_pay", args=[order.number]) in page
    with commit():
        response = client.post(reverse("accounts:order_pay", args=[order.number]),
                               {"payment_method": "card", "card_number": GOOD_CARD})
    assert response.status_code == 302
    order.refresh_from_db()
    assert order.status == OrderStatus.PROCESSING


def test_pay_is_scoped_to_the_owner(client, shop, commit):
    customer = CustomerFactory(email="ada@example.com")
    order = declined_guest_order(shop, commit, customer=customer, email=customer.email)
    client.force_login(CustomerFactory())
    response = client.post(reverse("accounts:order_pay", args=[order.number]),
                           {"payment_method": "card", "card_number": GOOD_CARD})
    assert response.status_code == 404
    assert Order.objects.get(pk=order.pk).status == OrderStatus.PENDING


def test_bad_card_number_is_a_form_error_and_charges_nothing(client, shop, commit):
    order = declined_guest_order(shop, commit)
    response = client.post(status_path(order), {"action": "pay", "payment_method": "card", "card_number": "1234"})
    assert response.status_code == 422
    assert "card number" in response.content.decode().lower()
    assert order.payments.count() == 1


def test_another_decline_is_shown_on_the_page_and_sends_no_new_notice_within_the_hour(client, shop, commit):
    order = declined_guest_order(shop, commit)
    mail.outbox.clear()
    sms.outbox.clear()
    with commit():
        response = client.post(status_path(order), {"action": "pay", "payment_method": "card",
                                                    "card_number": DECLINED_CARD})
    assert response.status_code == 422
    assert "declined" in response.content.decode()
    with commit():
        client.post(status_path(order), {"action": "pay", "payment_method": "card", "card_number": DECLINED_CARD})
    # No new email, SMS or seller email for the repeated failures...
    assert mail.outbox == [] and sms.outbox == []
    # ...but the timeline keeps every attempt.
    failed = OrderEvent.objects.filter(order=order, kind="payment", to_status="failed")
    assert failed.count() == 3
    assert order.payments.filter(status="failed").count() == 3


def test_a_failure_after_the_hour_sends_one_new_notice(client, shop, commit, monkeypatch):
    order = declined_guest_order(shop, commit)
    later = timezone.now() + datetime.timedelta(minutes=61)
    monkeypatch.setattr(timezone, "now", lambda: later)
    mail.outbox.clear()
    with commit():
        client.post(status_path(order), {"action": "pay", "payment_method": "card", "card_number": DECLINED_CARD})
        client.post(status_path(order), {"action": "pay", "payment_method": "card", "card_number": DECLINED_CARD})
    assert len(emails_to("guest@example.com", "order.payment_failed")) == 1
    assert len(emails_to("seller@linen.example", "order.payment_failed")) == 1
    assert sent("order.payment_failed", audience="customer", channel="email").count() == 1
