"""One test per event code: who gets it, on which channels, and what it says (SPEC section 2)."""
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.test import override_settings

from notifications.events import EVENTS
from notifications.models import InboxMessage, Notification
from orders.models import Order, Payment
from orders.payments import ChargeResult
from orders.services import (
    order_mark_backordered,
    order_transition,
    payment_set_status,
    return_request_create,
    return_set_status,
)
from tests.factories import CustomerFactory, OrderFactory, ProductFactory, SellerFactory, StoreFactory

from .helpers import DECLINED_CARD, emails_to, html_of, only_email_to, place, sent, ship, track

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop():
    store = StoreFactory(name="Linen & Co", sender_name="Linen and Co", support_email="help@linen.example",
                         accent_colour="#aa3300", sign_off="Warmly, the Linen team")
    seller = SellerFactory(store=store, email="seller@linen.example", first_name="Sam")
    shirt = ProductFactory(store=store, name="Linen shirt", price=Decimal("25.00"), stock_on_hand=5)
    socks = ProductFactory(store=store, name="Wool socks", price=Decimal("6.25"), stock_on_hand=5)
    return store, seller, shirt, socks


@pytest.fixture
def customer_sms():
    from notifications.models import QuietHours

    customer = CustomerFactory(email="ada@example.com", first_name="Ada", phone="+447700900123", sms_opt_in=True,
                               time_zone="UTC")
    QuietHours.objects.create(user=customer, enabled=False)  # SMS timing is tested in test_preferences
    return customer


@pytest.fixture
def paid_order(shop, customer_sms, commit):
    """A processing order placed and paid at checkout (its confirmation already sent)."""
    store, seller, shirt, socks = shop
    with commit():
        result = place({shirt.pk: 1, socks.pk: 2}, customer=customer_sms, email=customer_sms.email)
    from django.core import mail

    mail.outbox.clear()
    order = result.orders[0]
    order.refresh_from_db()
    return order


def test_every_order_payment_shipment_and_return_row_of_spec_is_in_the_catalogue():
    spec_rows = {"order.placed", "order.payment_pending", "order.payment_failed", "order.processing", "order.on_hold",
                 "order.backordered", "order.shipped", "shipment.in_transit", "shipment.out_for_delivery",
                 "shipment.delivered", "order.delayed", "order.cancelled", "order.refunded", "return.requested",
                 "return.approved", "return.received", "return.refunded", "return.rejected"}
    order_events = {code for code, e in EVENTS.items() if e.subject == "order"}
    # Issue 9 adds the unpaid-order reminder, the seller's "paid, OK to ship" and returned parcels;
    # issue 15 the shipping-deadline alerts (sellers, then staff) and the conversation about an order.
    assert order_events == spec_rows | {"order.payment_reminder", "order.payment_received", "shipment.returned",
                                        "order.sla_breached", "order.sla_escalated",
                                        "order.customer_question", "order.seller_message",
                                        "order.contact_confirm"}
    seller_copies = {code for code in order_events if EVENTS[code].seller_channels}
    assert seller_copies == {"order.placed", "order.payment_failed", "order.payment_received", "shipment.returned",
                             "shipment.delivered", "order.delayed",
                             "order.cancelled", "return.requested", "order.sla_breached", "order.customer_question"}
    assert EVENTS["order.sla_escalated"].audiences == ["staff"]
    assert EVENTS["shipment.in_transit"].category == "shipping_updates"
    assert EVENTS["shipment.out_for_delivery"].category == "shipping_updates"
    assert all(EVENTS[c].category == "transactional" for c in spec_rows - {"shipment.in_transit",
                                                                          "shipment.out_for_delivery"})


def test_order_placed_confirmation_carries_everything_spec_lists_and_seller_gets_new_order_alert(shop, customer_sms,
                                                                                                 commit):
    store, seller, shirt, socks = shop
    with commit():
        result = place({shirt.pk: 1, socks.pk: 2}, customer=customer_sms, email=customer_sms.email)
    order = Order.objects.get(pk=result.orders[0].pk)

    confirmation = only_email_to("ada@example.com")
    text, html = confirmation.body, html_of(confirmation)
    assert order.number in confirmation.subject
    for body in (text, html):
        assert order.number in body
        assert "Linen shirt" in body and "Wool socks" in body
        assert "£25.00" in body and "£6.25" in body  # unit prices
        assert "£37.50" in body  # subtotal
        assert "£3.99" in body  # shipping
        assert f"£{order.tax_total}" in body and f"£{order.total}" in body
        assert "1 Analytical Row" in body and "N1 9GU" in body
        assert "Standard" in body
        assert "4242" in body and "captured" in body.lower()
        assert order.estimated_delivery.strftime("%-d %b %Y") in body
        assert "/o/" in body  # signed status link
    assert "2 × Wool socks @ £6.25" in text
    # The store's branding: sender name, reply-to, accent colour inlined, sign-off.
    assert confirmation.from_email.startswith("Linen and Co via")
    assert confirmation.reply_to == ["help@linen.example"]
    assert "#aa3300" in html and "<style" not in html and "Warmly, the Linen team" in text
    # Paid at checkout: no separate "being prepared" message.
    assert not sent("order.processing").exists()

    alert = only_email_to("seller@linen.example")
    assert order.number in alert.subject and "£" in alert.subject
    assert "Linen shirt" in alert.body and "1 Analytical Row" in alert.body
    assert "captured" in alert.body.lower()
    assert f"/seller/orders/{order.number}/" in alert.body
    assert InboxMessage.objects.filter(user=seller, title__contains=order.number).exists()
    assert InboxMessage.objects.filter(user=customer_sms, title__contains=order.number).exists()
    # order.placed is email + in-app by default: no SMS even though the customer opted in.
    assert not sent("order.placed", channel="sms").exists()


class PendingGateway:
    code = "pending"

    def charge(self, **kwargs):
        return ChargeResult(status="pending", reference="pi_123")


@override_settings(PAYMENT_GATEWAY="tests.notifications.test_events.PendingGateway")
def test_payment_pending_tells_the_customer_what_is_pending_and_how_to_complete(shop, commit):
    store, seller, shirt, socks = shop
    with commit():
        result = place({shirt.pk: 1})
    message = only_email_to("guest@example.com", "order.payment_pending")
    assert "pending" in message.subject.lower()
    assert "£28.99" in message.body and "has not been confirmed" in message.body
    assert "cash on delivery" in message.body and "/o/" in message.body
    assert not sent("order.payment_pending", audience="seller").exists()
    placed = only_email_to("guest@example.com", "order.placed")
    assert "pending" in placed.body.lower()
    assert result.orders[0].number in message.body


def test_payment_failed_goes_to_customer_and_seller_with_how_to_retry(shop, commit):
    store, seller, shirt, socks = shop
    with commit():
        result = place({shirt.pk: 1}, card_number=DECLINED_CARD)
    assert not result.payment_ok
    # One clear message for the customer: reserved, payment failed, how to pay, until when.
    # No "Order confirmed: thank you" and no second "payment failed" email on top of it.
    customer_mail = only_email_to("guest@example.com", "order.placed")
    assert "reserved" in customer_mail.subject and "did not go through" in customer_mail.subject
    assert "confirmed" not in customer_mail.subject.lower() and "thank you" not in customer_mail.body.lower()
    assert "declined" in customer_mail.body and "cash on delivery" in customer_mail.body
    assert "/o/" in customer_mail.body and "#pay" in customer_mail.body
    assert "until" in customer_mail.body and "cancelled automatically" in customer_mail.body
    assert [m for m in mail.outbox if "guest@example.com" in m.to] == [customer_mail]
    seller_mail = only_email_to("seller@linen.example", "order.payment_failed")
    assert "do not ship" in seller_mail.subject.lower()


def test_processing_after_later_payment_confirms_and_gives_timeframe(shop, commit):
    store, seller, shirt, socks = shop
    order = OrderFactory(store=store, customer=None, email="guest@example.com", lines=[(shirt, 1)],
                         estimated_delivery=date(2030, 1, 10))
    payment = order.payments.get()
    with commit():
        payment_set_status(payment=payment, to=Payment.Status.CAPTURED, actor="gateway webhook")
        order_transition(order=order, to="processing", actor="gateway webhook", note="Payment captured")
    message = only_email_to("guest@example.com", "order.processing")
    assert "being prepared" in message.subject
    assert "payment of £" in message.body and "confirmed" in message.body
    assert "10 Jan 2030" in message.body


def test_on_hold_gives_reason_and_next_step(paid_order, seller, commit):
    with commit():
        order_transition(order=paid_order, to="on_hold", actor=seller, note="Checking the delivery address")
    message = only_email_to("ada@example.com", "order.on_hold")
    assert "on hold" in message.subject
    assert "Checking the delivery address" in message.body and "What happens next" in message.body


def test_backordered_lists_items_new_dates_and_cancel_option(paid_order, commit):
    line = paid_order.lines.get(product_name="Linen shirt")
    with commit():
        order_mark_backordered(order=paid_order, expected=date(2030, 3, 4), lines=[line], actor="system")
    message = only_email_to("ada@example.com", "order.backordered")
    assert "1 × Linen shirt" in message.body and "Wool socks" not in message.body.split("These items")[1].split(
        "They are")[0]
    assert "4 Mar 2030" in message.body and "cancel" in message.body.lower() and "#cancel" in message.body


def test_shipped_carries_carrier_tracking_link_eta_and_items_by_email_and_sms(paid_order, sms_outbox, commit):
    with commit():
        ship(paid_order, eta=date(2030, 5, 6))
    message = only_email_to("ada@example.com", "order.shipped")
    for body in (message.body, html_of(message)):
        assert "Royal Mail" in body and "RM123456789GB" in body
        assert "https://www.royalmail.com/track-your-item#/tracking-results/RM123456789GB" in body
        assert "6 May 2030" in body and "Linen shirt" in body and "Wool socks" in body
    [sms] = [m for m in sms_outbox if m["to"] == "+447700900123"]
    assert "RM123456789GB" in sms["body"] and "Royal Mail" in sms["body"]
    attempt = sent("order.shipped", channel="sms").get().delivery_attempts.get()
    assert attempt.sms_encoding == "GSM-7" and attempt.sms_segments >= 1


def test_in_transit_is_an_optional_shipping_update_with_checkpoint_and_eta(paid_order, commit):
    with commit():
        shipment = ship(paid_order, eta=date(2030, 5, 6))
        track(shipment, "in_transit", message="Arrived at the delivery office", location="London Mail Centre")
    message = only_email_to("ada@example.com", "shipment.in_transit")
    assert "Arrived at the delivery office" in message.body and "London Mail Centre" in message.body
    assert "6 May 2030" in message.body
    assert sent("shipment.in_transit").first().category == "shipping_updates"


def test_out_for_delivery_says_today_and_carrier_by_sms_too(paid_order, sms_outbox, commit):
    with commit():
        shipment = ship(paid_order)
        track(shipment, "out_for_delivery", message="Out for delivery")
    message = only_email_to("ada@example.com", "shipment.out_for_delivery")
    assert "today" in message.subject and "Royal Mail" in message.body
    assert any("out for delivery" in m["body"] for m in sms_outbox)


def test_delivered_confirms_invites_review_and_tells_seller_order_completed(paid_order, commit):
    with commit():
        shipment = ship(paid_order)
        track(shipment, "delivered", message="Delivered", location="Front door")
    paid_order.refresh_from_db()
    assert paid_order.status == "completed"
    message = only_email_to("ada@example.com", "shipment.delivered")
    assert "delivered" in message.subject and "review" in message.body.lower() and "#review" in message.body
    seller_mail = only_email_to("seller@linen.example", "shipment.delivered")
    assert "completed" in seller_mail.subject
    # "completed" is not a second customer message.
    assert len(emails_to("ada@example.com")) == 2  # shipped + delivered


def test_delay_from_carrier_exception_carries_reason_to_customer_and_seller(paid_order, commit):
    with commit():
        shipment = ship(paid_order, eta=date(2030, 5, 6))
        track(shipment, "exception", message="Severe weather in the area")
    customer_mail = only_email_to("ada@example.com", "order.delayed")
    assert "Severe weather in the area" in customer_mail.body
    seller_mail = only_email_to("seller@linen.example", "order.delayed")
    assert "Severe weather in the area" in seller_mail.body


def test_later_eta_sends_delay_with_old_and_new_dates_earlier_eta_does_not(paid_order, commit):
    with commit():
        shipment = ship(paid_order, eta=date(2030, 5, 6))
        track(shipment, "in_transit", message="Sorting", eta=date(2030, 5, 4))  # earlier: good news, no delay
    assert not sent("order.delayed").exists()
    with commit():
        track(shipment, "in_transit", message="Missed the connection", eta=date(2030, 5, 9))
    customer_mail = only_email_to("ada@example.com", "order.delayed")
    assert "4 May 2030" in customer_mail.body and "9 May 2030" in customer_mail.body
    assert "Missed the connection" in customer_mail.body
    assert "9 May 2030" in only_email_to("seller@linen.example", "order.delayed").body


def test_exception_with_a_later_eta_in_one_carrier_update_is_one_message_with_both(paid_order, commit):
    with commit():
        shipment = ship(paid_order, eta=date(2030, 5, 6))
        track(shipment, "exception", message="Address not found", eta=date(2030, 5, 8))
    customer_mail = only_email_to("ada@example.com", "order.delayed")
    assert "6 May 2030" in customer_mail.body and "8 May 2030" in customer_mail.body
    assert "Address not found" in customer_mail.body
    assert sent("order.delayed", channel="email").count() == 2  # customer + seller, once each


def test_cancelled_by_customer_says_who_why_and_refund(paid_order, customer_sms, commit):
    with commit():
        order_transition(order=paid_order, to="cancelled", actor=customer_sms, note="Ordered the wrong size")
    message = only_email_to("ada@example.com", "order.cancelled")
    assert "cancelled by you" in message.body and "Ordered the wrong size" in message.body
    assert f"£{paid_order.total}" in message.body and "card ending 4242" in message.body
    assert "3–5 working days" in message.body
    seller_mail = only_email_to("seller@linen.example", "order.cancelled")
    assert "cancelled by the customer" in seller_mail.body


def test_cancelled_unpaid_order_says_nothing_was_charged(shop, commit):
    store, seller, shirt, socks = shop
    order = OrderFactory(store=store, customer=None, email="guest@example.com", lines=[(shirt, 1)])
    with commit():
        order_transition(order=order, to="cancelled", actor=seller, note="Out of stock")
    message = only_email_to("guest@example.com", "order.cancelled")
    assert "cancelled by Linen & Co" in message.body and "nothing was charged" in message.body


def test_refunded_gives_amount_method_and_when(paid_order, seller, commit):
    with commit():
        order_transition(order=paid_order, to="refunded", actor=seller, note="Sorry for the trouble")
    message = only_email_to("ada@example.com", "order.refunded")
    assert f"£{paid_order.total}" in message.subject
    assert "card ending 4242" in message.body and "3–5 working days" in message.body
    assert "Sorry for the trouble" in message.body


def _delivered(order, commit):
    with commit():
        track(ship(order), "delivered")
    order.refresh_from_db()


def test_return_lifecycle_messages(paid_order, seller, customer_sms, commit):
    _delivered(paid_order, commit)
    line = paid_order.lines.get(product_name="Linen shirt")
    with commit():
        rr = return_request_create(order=paid_order, lines=[line], reason="Too small", actor=customer_sms)
    requested = only_email_to("ada@example.com", "return.requested")
    assert rr.number in requested.subject and "Linen shirt" in requested.body and "£25.00" in requested.body
    assert "review your request" in requested.body
    seller_requested = only_email_to("seller@linen.example", "return.requested")
    assert rr.number in seller_requested.subject and "Too small" in seller_requested.body

    store = paid_order.store
    store.return_address = "Linen & Co Returns, 2 Dock Road, Bristol"
    store.save(update_fields=["return_address"])
    with commit():
        return_set_status(return_request=rr, to="approved", actor=seller)
    approved = only_email_to("ada@example.com", "return.approved")
    assert "2 Dock Road" in approved.body and rr.number in approved.body and "£25.00" in approved.body

    with commit():
        return_set_status(return_request=rr, to="received", actor=seller)
    assert "£25.00" in only_email_to("ada@example.com", "return.received").body
    with commit():
        return_set_status(return_request=rr, to="refunded", actor=seller)
    refunded = only_email_to("ada@example.com", "return.refunded")
    assert "£25.00" in refunded.subject and "working days" in refunded.body
    # Seller only hears about requests.
    assert sent("return.approved", audience="seller").count() == 0


def test_return_rejected_gives_the_reason(paid_order, seller, customer_sms, commit):
    _delivered(paid_order, commit)
    with commit():
        rr = return_request_create(order=paid_order, lines=list(paid_order.lines.all()), reason="Changed my mind",
                                   actor=customer_sms)
        return_set_status(return_request=rr, to="rejected", actor=seller, note="Worn items cannot be returned")
    message = only_email_to("ada@example.com", "return.rejected")
    assert "not accepted" in message.subject and "Worn items cannot be returned" in message.body


def test_saving_an_order_without_a_status_change_notifies_nobody(paid_order, commit):
    before = Notification.objects.count()
    with commit():
        paid_order.customer_note = "Leave it with the neighbour"
        paid_order.save()
    assert Notification.objects.count() == before


def test_a_second_seller_of_the_store_gets_their_own_alert(shop, commit):
    store, seller, shirt, socks = shop
    SellerFactory(store=store, email="packer@linen.example")
    with commit():
        place({shirt.pk: 1})
    assert only_email_to("seller@linen.example", "order.placed")
    assert only_email_to("packer@linen.example", "order.placed")


def test_in_app_message_links_to_the_order_page(paid_order, commit):
    with commit():
        ship(paid_order)
    message = InboxMessage.objects.get(notification__event="order.shipped")
    assert message.url == f"/account/orders/{paid_order.number}/"
    assert "Royal Mail" in message.body
    assert message.read_at is None
    assert timedelta(0) <= (message.created_at - paid_order.placed_at)
