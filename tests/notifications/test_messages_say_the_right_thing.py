"""Issue 9, items 6 and 7: times in the recipient's zone, and wording that stays true."""
import datetime
import zoneinfo
from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse

from notifications.context import recipient_time_zone, when
from orders.checkout import add_working_days
from orders.links import status_path
from orders.models import Order, OrderStatus
from orders.services import order_mark_backordered, order_transition
from tests.factories import CustomerFactory, OrderFactory, ProductFactory, SellerFactory, StoreFactory

from .helpers import emails_to, html_of, only_email_to, place, sent, ship, track

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop(db):
    store = StoreFactory(name="Linen & Co")
    seller = SellerFactory(store=store, email="seller@linen.example", time_zone="Asia/Tokyo")
    shirt = ProductFactory(store=store, name="Linen shirt", price=Decimal("25.00"), stock_on_hand=50)
    return store, seller, shirt


# --- item 6: times in the recipient's time zone ------------------------------------------------

def test_placed_time_is_in_each_recipients_own_time_zone(shop, commit):
    store, seller, shirt = shop
    customer = CustomerFactory(email="ny@example.com", time_zone="America/New_York")
    with commit():
        order = place({shirt.pk: 1}, customer=customer, email=customer.email).orders[0]
    order.refresh_from_db()
    ny = order.placed_at.astimezone(zoneinfo.ZoneInfo("America/New_York"))
    tokyo = order.placed_at.astimezone(zoneinfo.ZoneInfo("Asia/Tokyo"))
    customer_mail = only_email_to("ny@example.com", "order.placed")
    assert f"{ny:%H:%M} {ny.tzname()}" in customer_mail.body  # EST/EDT, not UTC
    seller_mail = only_email_to("seller@linen.example", "order.placed")
    assert f"{tokyo:%H:%M} JST" in seller_mail.body


def test_guest_times_use_the_shops_default_zone():
    order = Order(customer=None)
    assert recipient_time_zone(None, "customer", order) == "Europe/London"
    summer = datetime.datetime(2030, 7, 1, 23, 30, tzinfo=datetime.UTC)
    assert when(summer, "Europe/London") == "2 Jul 2030, 00:30 BST"


def test_status_headline_and_timeline_agree_on_the_delivery_day(client, shop, commit):
    """Delivered at 23:30 UTC on 1 July = 00:30 on 2 July in London: both say Tuesday 2 July."""
    store, seller, shirt = shop
    order = OrderFactory(customer=None, email="g@example.com", store=store, lines=[(shirt, 1)],
                         status=OrderStatus.PROCESSING)
    shipment = ship(order)
    at = datetime.datetime(2030, 7, 1, 23, 30, tzinfo=datetime.UTC)
    from orders.models import OrderEvent

    track(shipment, "delivered", at=at, message="Left with neighbour")
    OrderEvent.objects.filter(order=order, created_at__gte=at - datetime.timedelta(days=3650)).filter(
        kind__in=["tracking", "shipment", "status"]).update(created_at=at)
    body = client.get(status_path(order)).content.decode()
    assert "Delivered on Tuesday 2 July." in body
    assert "Monday 1 July" not in body


# --- item 7: wording that stays true -----------------------------------------------------------

def test_marking_a_backorder_moves_the_estimated_delivery_after_the_restock(shop, commit):
    store, seller, shirt = shop
    order = OrderFactory(customer=None, email="g@example.com", store=store, lines=[(shirt, 1)],
                         estimated_delivery=date(2030, 1, 10), status=OrderStatus.PROCESSING)
    with commit():
        order_mark_backordered(order=order, expected=date(2030, 2, 1), note="Supplier delay")
    order.refresh_from_db()
    assert order.estimated_delivery == add_working_days(date(2030, 2, 1), 5) == date(2030, 2, 8)
    message = only_email_to("g@example.com", "order.backordered")
    assert "Fri 8 Feb 2030" in message.body and "Thu 10 Jan 2030" not in message.body


def test_guest_cancelling_through_the_link_is_told_cancelled_by_you(client, shop, commit):
    store, seller, shirt = shop
    order = OrderFactory(customer=None, email="g@example.com", store=store, lines=[(shirt, 1)])
    with commit():
        response = client.post(status_path(order), {"action": "cancel", "reason": "Ordered by mistake"})
    assert response.status_code == 302
    message = only_email_to("g@example.com", "order.cancelled")
    assert "cancelled by you" in message.body
    assert "automatically" not in message.body
    assert "Cancelled by the customer" not in message.body  # no doubled wording
    inapp_free = sent("order.cancelled", audience="seller", channel="email").get()
    assert inapp_free.context["change"]["cancelled_by"] == "the customer"
    assert inapp_free.context["change"]["reason"] == "Ordered by mistake"


def test_logged_in_cancel_reads_once(client, shop, commit):
    store, seller, shirt = shop
    customer = CustomerFactory(email="ada@example.com")
    order = OrderFactory(customer=customer, store=store, lines=[(shirt, 1)])
    client.force_login(customer)
    with commit():
        client.post(reverse("accounts:order_cancel", args=[order.number]), {"reason": "Changed my mind"})
    row = sent("order.cancelled", audience="customer", channel="inapp").get()
    from notifications.rendering import render

    rendered = render(event=row.event, audience=row.audience, channel=row.channel, language="en",
                      context=row.context)
    text = rendered.text
    assert "Cancelled by you: Changed my mind" in text
    assert "Cancelled by the customer" not in text


def test_out_for_delivery_never_says_delayed_next_to_expected_today(client, shop, commit):
    store, seller, shirt = shop
    order = OrderFactory(customer=None, email="g@example.com", store=store, lines=[(shirt, 1)],
                         status=OrderStatus.PROCESSING)
    shipment = ship(order, eta=date.today())
    with commit():
        # The carrier's out-for-delivery scan comes with today's date as its ETA, later than ours.
        track(shipment, "out_for_delivery", eta=date.today() + datetime.timedelta(days=1), message="Out today")
    assert not sent("order.delayed").exists()
    message = only_email_to("g@example.com", "shipment.out_for_delivery")
    assert "expected today" in message.body and "delay" not in message.body.lower()
    body = client.get(status_path(order)).content.decode()
    assert "Out for delivery" in body and "delayed" not in body.lower()
