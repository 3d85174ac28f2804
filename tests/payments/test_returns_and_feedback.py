"""Issue 9, items 4 and 8: returns carry the store's address and really refund and restock;
a delivered order takes feedback the seller sees."""
import datetime
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from catalog.models import Product
from orders.links import status_path
from orders.models import Order, OrderFeedback, OrderStatus, Payment, ReturnRequest
from orders.services import return_request_create
from tests.factories import CustomerFactory, ProductFactory, SellerFactory, StoreFactory
from tests.notifications.helpers import emails_to, place, ship, track

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop(db):
    store = StoreFactory(name="Linen & Co", return_address="Linen & Co Returns\n2 Dock Road\nBristol BS1 4AA")
    seller = SellerFactory(store=store, email="seller@linen.example")
    shirt = ProductFactory(store=store, name="Linen shirt", price=Decimal("25.00"), stock_on_hand=10)
    socks = ProductFactory(store=store, name="Wool socks", price=Decimal("6.00"), stock_on_hand=10)
    return store, seller, shirt, socks


@pytest.fixture
def seller_client(client, shop):
    client.force_login(shop[1])
    return client


def delivered(shop, commit, **kwargs):
    store, seller, shirt, socks = shop
    with commit():
        order = place({shirt.pk: 1, socks.pk: 2}, **kwargs).orders[0]
        shipment = ship(Order.objects.get(pk=order.pk))
        track(shipment, "delivered", message="Delivered")
    return Order.objects.get(pk=order.pk)


def return_act(client, order, rr, to):
    return client.post(reverse("seller:return_action", args=[order.number, rr.number, to]))


def test_seller_sets_the_return_address_in_branding(seller_client, shop):
    response = seller_client.post(reverse("seller:branding"), {
        "form": "brand", "sender_name": "Linen & Co", "accent_colour": "#112233", "sign_off": "Thanks",
        "support_email": "help@linen.example", "return_address": "Returns desk\n9 Quay Street\nBristol"})
    assert response.status_code == 302
    shop[0].refresh_from_db()
    assert shop[0].return_address == "Returns desk\n9 Quay Street\nBristol"


def test_return_is_approved_with_the_address_refunded_through_the_gateway_and_restocked(seller_client, shop,
                                                                                        commit):
    store, seller, shirt, socks = shop
    order = delivered(shop, commit)
    shirt_line = order.lines.get(product=shirt)
    rr = return_request_create(order=order, lines=[shirt_line], reason="Too small")
    with commit():
        assert return_act(seller_client, order, rr, "approved").status_code == 302
    rr.refresh_from_db()
    assert "2 Dock Road" in rr.return_address
    assert "2 Dock Road" in emails_to("guest@example.com", "return.approved")[0].body
    return_act(seller_client, order, rr, "received")
    stock_before = Product.objects.get(pk=shirt.pk).stock_on_hand
    with commit():
        assert return_act(seller_client, order, rr, "refunded").status_code == 302
    payment = Payment.objects.get(order=order, status__in=["captured", "partially_refunded"])
    assert payment.status == Payment.Status.PARTIALLY_REFUNDED
    assert payment.refunded_amount == Decimal("25.00")
    assert "test_re_" in payment.order.events.filter(kind="payment").latest("id").note  # the gateway's refund id
    assert Product.objects.get(pk=shirt.pk).stock_on_hand == stock_before + 1
    page = seller_client.get(reverse("seller:order_detail", args=[order.number])).content.decode()
    assert "Refunded £25.00 of £" in page and "Partly refunded" in page
    assert "£25.00" in emails_to("guest@example.com", "return.refunded")[0].subject


def test_returning_everything_refunds_the_payment_in_full(seller_client, shop, commit):
    store, seller, shirt, socks = shop
    order = delivered(shop, commit)
    Order.objects.filter(pk=order.pk).update(shipping_total=0, total=order.subtotal)
    Payment.objects.filter(order=order).update(amount=order.subtotal)
    rr = return_request_create(order=order, lines=list(order.lines.all()), reason="Not for me")
    for to in ("approved", "received", "refunded"):
        assert return_act(seller_client, order, rr, to).status_code == 302
    payment = Payment.objects.get(order=order)
    assert payment.status == Payment.Status.REFUNDED and payment.refunded_amount == order.subtotal


def test_approving_without_a_return_address_is_refused(seller_client, shop, commit):
    store = shop[0]
    store.return_address = ""
    store.save()
    order = delivered(shop, commit)
    rr = return_request_create(order=order, lines=list(order.lines.all()), reason="Too small")
    response = return_act(seller_client, order, rr, "approved")
    assert response.status_code == 422 and "return address" in response.content.decode()
    assert ReturnRequest.objects.get(pk=rr.pk).status == "requested"


def test_a_gateway_refusal_saves_nothing(seller_client, shop, commit, settings):
    store, seller, shirt, socks = shop
    order = delivered(shop, commit)
    Payment.objects.filter(order=order).update(reference="unknown-ref")
    rr = return_request_create(order=order, lines=[order.lines.get(product=shirt)], reason="Too small")
    return_act(seller_client, order, rr, "approved")
    return_act(seller_client, order, rr, "received")
    stock = Product.objects.get(pk=shirt.pk).stock_on_hand
    response = return_act(seller_client, order, rr, "refunded")
    assert response.status_code == 422 and "refused the refund" in response.content.decode()
    assert ReturnRequest.objects.get(pk=rr.pk).status == "received"
    assert Payment.objects.get(order=order).status == "captured"
    assert Product.objects.get(pk=shirt.pk).stock_on_hand == stock


# --- item 8: feedback ---------------------------------------------------------------------------

def test_delivered_message_review_link_opens_the_feedback_form(client, shop, commit):
    order = delivered(shop, commit)
    message = emails_to("guest@example.com", "shipment.delivered")[0]
    import re

    link = re.search(r"https?://[^\s]+(/o/[^\s#]+)#review", message.body)
    assert link is not None, message.body
    body = client.get(link.group(1)).content.decode()
    assert 'id="review"' in body and 'data-testid="feedback-form"' in body and 'name="rating"' in body


def test_guest_leaves_feedback_once_and_can_change_it_for_14_days(client, shop, commit, monkeypatch):
    order = delivered(shop, commit)
    response = client.post(status_path(order), {"action": "feedback", "rating": "4", "comment": "Lovely shirt"})
    assert response.status_code == 302
    feedback = OrderFeedback.objects.get(order=order)
    assert (feedback.rating, feedback.comment) == (4, "Lovely shirt")
    page = client.get(status_path(order)).content.decode()
    assert "You rated it <strong>4 / 5</strong>" in page and "Change your feedback" in page
    client.post(status_path(order), {"action": "feedback", "rating": "5", "comment": "Even better washed"})
    assert OrderFeedback.objects.filter(order=order).count() == 1
    assert OrderFeedback.objects.get(order=order).rating == 5
    later = timezone.now() + datetime.timedelta(days=15)
    monkeypatch.setattr(timezone, "now", lambda: later)
    response = client.post(status_path(order), {"action": "feedback", "rating": "1", "comment": "Changed mind"})
    assert response.status_code == 422 and "final" in response.content.decode()
    assert OrderFeedback.objects.get(order=order).rating == 5


def test_feedback_needs_a_rating_and_a_delivered_order(client, shop, commit):
    store, seller, shirt, socks = shop
    order = delivered(shop, commit)
    response = client.post(status_path(order), {"action": "feedback", "rating": "9"})
    assert response.status_code == 422
    with commit():
        undelivered = place({shirt.pk: 1}).orders[0]
    response = client.post(status_path(undelivered), {"action": "feedback", "rating": "5"})
    assert response.status_code == 422
    assert not OrderFeedback.objects.exists()


def test_logged_in_customer_feedback_and_the_seller_sees_it(client, seller_client, shop, commit):
    customer = CustomerFactory(email="ada@example.com")
    order = delivered(shop, commit, customer=customer, email=customer.email)
    from django.test import Client

    own = Client()
    own.force_login(customer)
    response = own.post(reverse("accounts:order_feedback", args=[order.number]), {"rating": "3", "comment": "OK"})
    assert response.status_code == 302
    stranger = Client()
    stranger.force_login(CustomerFactory())
    assert stranger.post(reverse("accounts:order_feedback", args=[order.number]), {"rating": "1"}).status_code == 404
    detail = seller_client.get(reverse("seller:order_detail", args=[order.number])).content.decode()
    assert 'data-testid="order-feedback"' in detail and "3 / 5" in detail and "OK" in detail
    listing = seller_client.get(reverse("seller:feedback")).content.decode()
    assert order.number in listing and "3 / 5" in listing
    other_seller = Client()
    other_seller.force_login(SellerFactory(store=StoreFactory()))
    assert order.number not in other_seller.get(reverse("seller:feedback")).content.decode()
