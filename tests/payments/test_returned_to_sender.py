"""Issue 9, item 5: a parcel returned to sender tells customer and seller, and the seller's page
offers what makes sense: reship (a new shipment), refund, cancel (not "Mark delivered")."""
from decimal import Decimal

import pytest
from django.urls import reverse

from catalog.models import Product
from orders.carriers.simulated import journey
from orders.models import Order, OrderStatus, Payment, Shipment, TrackingStatus
from seller.selectors import available_actions
from orders.selectors import order_with_details
from tests.factories import ProductFactory, SellerFactory, StoreFactory
from tests.notifications.helpers import emails_to, place, sent, ship, track
from tests.orders.carrier_helpers import (  # noqa: F401 (fixture)
    aftership_checkpoint,
    aftership_webhook,
    carrier_secrets,
    post_aftership,
    utc,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop(db):
    store = StoreFactory(name="Linen & Co")
    seller = SellerFactory(store=store, email="seller@linen.example")
    shirt = ProductFactory(store=store, name="Linen shirt", price=Decimal("25.00"), stock_on_hand=10)
    return store, seller, shirt


@pytest.fixture
def seller_client(client, shop):
    client.force_login(shop[1])
    return client


def returned_order(shop, commit):
    with commit():
        order = place({shop[2].pk: 1}).orders[0]
        shipment = ship(Order.objects.get(pk=order.pk))
        track(shipment, "returned", message="Returned to sender: address not found")
    return Order.objects.get(pk=order.pk)


def test_customer_and_seller_are_told_the_parcel_came_back(shop, commit):
    order = returned_order(shop, commit)
    assert order.status == OrderStatus.SHIPPED
    customer = emails_to("guest@example.com", "shipment.returned")
    assert len(customer) == 1 and "returned" in customer[0].subject and "address not found" in customer[0].body
    seller = emails_to("seller@linen.example", "shipment.returned")
    assert len(seller) == 1 and "reship" in seller[0].body and "refund" in seller[0].body


def test_aftership_exception_011_notifies_too(client, shop, commit, carrier_secrets):  # noqa: F811
    with commit():
        order = place({shop[2].pk: 1}).orders[0]
        from orders.services import shipment_create

        shipment_create(order=Order.objects.get(pk=order.pk), carrier="aftership", tracking_number="AS123GB")
    returned = aftership_checkpoint("Exception", utc(2030, 5, 9, 9, 0), "Item returned to sender", city="Swindon",
                                    subtag="Exception_011")
    with commit():
        post_aftership(client, aftership_webhook("AS123GB", [returned], tag="Exception"))
    assert Shipment.objects.get(tracking_number="AS123GB").status == TrackingStatus.RETURNED
    assert sent("shipment.returned", audience="customer", channel="email").count() == 1


def test_seller_page_offers_reship_refund_cancel_not_mark_delivered(seller_client, shop, commit):
    order = returned_order(shop, commit)
    actions = available_actions(order_with_details(order))
    assert set(actions) >= {"ship", "refund", "cancel"} and "deliver" not in actions
    page = seller_client.get(reverse("seller:order_detail", args=[order.number])).content.decode()
    assert "Reship (new shipment)" in page and "Mark delivered" not in page
    assert 'data-testid="returned-note"' in page


def test_reship_creates_a_new_shipment_and_tells_the_customer(seller_client, shop, commit):
    order = returned_order(shop, commit)
    with commit():
        response = seller_client.post(reverse("seller:order_action", args=[order.number, "ship"]),
                                      {"ship-carrier": "dpd", "ship-tracking_number": "15501234567"})
    assert response.status_code == 302
    order.refresh_from_db()
    assert order.status == OrderStatus.SHIPPED
    assert order.shipments.count() == 2
    newest = order.shipments.order_by("-shipped_at", "-id").first()
    assert newest.tracking_number == "15501234567" and newest.status == TrackingStatus.LABEL_CREATED
    shipped = emails_to("guest@example.com", "order.shipped")
    assert any("15501234567" in m.body for m in shipped)
    # Back to normal: it can be marked delivered now.
    assert "deliver" in available_actions(order_with_details(order))


def test_cancel_a_returned_order_refunds_and_restocks(seller_client, shop, commit):
    order = returned_order(shop, commit)
    stock = Product.objects.get(pk=shop[2].pk).stock_on_hand
    with commit():
        response = seller_client.post(reverse("seller:order_action", args=[order.number, "cancel"]),
                                      {"cancel-reason": "Parcel came back, customer unreachable"})
    assert response.status_code == 302
    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED
    assert Payment.objects.get(order=order).status == Payment.Status.REFUNDED
    assert Product.objects.get(pk=shop[2].pk).stock_on_hand == stock + 1


def test_refund_a_returned_order(seller_client, shop, commit):
    order = returned_order(shop, commit)
    response = seller_client.post(reverse("seller:order_action", args=[order.number, "refund"]), {"reason": "Back"})
    assert response.status_code == 302
    assert Order.objects.get(pk=order.pk).status == OrderStatus.REFUNDED


def test_the_simulated_carrier_sometimes_returns_a_parcel():
    endings = [journey(f"SM{n:09d}GB")[-1].status for n in range(400)]
    assert TrackingStatus.RETURNED in endings
    assert endings.count(TrackingStatus.DELIVERED) > 300
