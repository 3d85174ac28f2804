"""The seller's actions on an order: each goes through the services and refusals are shown."""
import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from orders.models import Order, OrderEvent, OrderStatus, Payment, ReturnRequest, Shipment, TrackingStatus
from orders.services import return_request_create, shipment_create
from tests.factories import OrderFactory


@pytest.fixture
def seller_client(client, seller):
    client.force_login(seller)
    return client


def act(client, order, action, data=None, **extra):
    return client.post(reverse("seller:order_action", args=[order.number, action]), data or {}, **extra)


def set_status(order, status):
    Order.objects.filter(pk=order.pk).update(status=status)
    order.refresh_from_db()


def pay(order):
    """The factory's card payment, captured (what checkout does for a card that goes through)."""
    Payment.objects.filter(order=order).update(status=Payment.Status.CAPTURED, reference="test_ch_factory")


def test_detail_shows_lines_customer_payment_and_timeline(seller_client, order):
    pay(order)
    response = seller_client.get(reverse("seller:order_detail", args=[order.number]))
    body = response.content.decode()
    assert response.status_code == 200
    assert order.number in body and order.email in body
    assert order.lines.first().product_name in body
    assert "1 Analytical Row" in body
    assert "Card" in body
    assert "Order placed" in body
    assert "Confirm &amp; mark processing" in body


def test_confirm_moves_to_processing_with_a_timeline_row(seller_client, order, seller):
    pay(order)
    response = act(seller_client, order, "process")
    assert response.status_code == 302
    order.refresh_from_db()
    assert order.status == OrderStatus.PROCESSING
    event = order.events.latest("id")
    assert (event.from_status, event.to_status, event.actor) == ("pending", "processing", seller)
    page = seller_client.get(response["Location"]).content.decode()
    assert "Order confirmed and marked processing." in page


def test_forbidden_transition_is_shown_and_nothing_saved(seller_client, order):
    set_status(order, OrderStatus.COMPLETED)
    events = order.events.count()
    response = act(seller_client, order, "hold", {"hold-reason": "stock"})
    assert response.status_code == 422
    body = response.content.decode()
    assert "Cannot move order from “completed” to “on_hold”" in body
    order.refresh_from_db()
    assert order.status == OrderStatus.COMPLETED and order.events.count() == events


def test_hold_needs_a_reason(seller_client, order):
    response = act(seller_client, order, "hold", {"hold-reason": ""})
    assert response.status_code == 422
    assert "Give a reason for the hold" in response.content.decode()
    order.refresh_from_db()
    assert order.status == OrderStatus.PENDING


def test_hold_with_reason_then_release(seller_client, order):
    pay(order)
    act(seller_client, order, "hold", {"hold-reason": "Checking the address"})
    order.refresh_from_db()
    assert order.status == OrderStatus.ON_HOLD and order.hold_reason == "Checking the address"
    act(seller_client, order, "process")
    order.refresh_from_db()
    assert order.status == OrderStatus.PROCESSING


@pytest.mark.usefixtures("frozen_clock")
def test_ship_creates_shipment_with_carrier_tracking_and_eta(seller_client, order):
    set_status(order, OrderStatus.PROCESSING)
    eta = timezone.localdate() + datetime.timedelta(days=2)
    response = act(seller_client, order, "ship", {"ship-carrier": "dpd", "ship-tracking_number": " 1551 2345 678 ",
                                                  "ship-eta": eta.isoformat()})
    assert response.status_code == 302
    order.refresh_from_db()
    shipment = order.shipments.get()
    assert order.status == OrderStatus.SHIPPED
    assert (shipment.carrier, shipment.carrier_name, shipment.tracking_number, shipment.eta) == (
        "dpd", "DPD", "15512345678", eta)
    assert shipment.tracking_url == "https://track.dpd.co.uk/parcels/15512345678"


def test_ship_requires_a_tracking_number_and_a_known_carrier(seller_client, order):
    set_status(order, OrderStatus.PROCESSING)
    response = act(seller_client, order, "ship", {"ship-carrier": "pigeon", "ship-tracking_number": ""})
    assert response.status_code == 422
    body = response.content.decode()
    assert "Enter the tracking number." in body and "Select a valid choice" in body
    assert not Shipment.objects.exists()


def test_ship_with_eta_in_the_past_is_refused(seller_client, order):
    set_status(order, OrderStatus.PROCESSING)
    response = act(seller_client, order, "ship", {"ship-carrier": "ups", "ship-tracking_number": "1Z999",
                                                  "ship-eta": "2001-01-01"})
    assert response.status_code == 422 and "in the past" in response.content.decode()


def test_ship_a_pending_order_is_refused_with_the_reason(seller_client, order):
    response = act(seller_client, order, "ship", {"ship-carrier": "ups", "ship-tracking_number": "1Z999AA"})
    assert response.status_code == 422
    assert "Cannot move order from “pending” to “shipped”" in response.content.decode()
    assert not Shipment.objects.exists()


def test_duplicate_tracking_number_is_a_field_error(seller_client, order, customer, product, seller):
    other = OrderFactory(customer=customer, store=product.store, lines=[(product, 1)])
    set_status(other, OrderStatus.PROCESSING)
    shipment_create(order=other, carrier="ups", tracking_number="1Z999AA", actor=seller)
    set_status(order, OrderStatus.PROCESSING)
    response = act(seller_client, order, "ship", {"ship-carrier": "ups", "ship-tracking_number": "1Z999AA"})
    assert response.status_code == 422
    assert "already used" in response.content.decode()
    order.refresh_from_db()
    assert order.status == OrderStatus.PROCESSING


def test_mark_delivered_records_a_manual_checkpoint_and_completes(seller_client, order, seller):
    set_status(order, OrderStatus.PROCESSING)
    shipment = shipment_create(order=order, carrier="royalmail", tracking_number="RM1234GB", actor=seller)
    response = act(seller_client, order, "deliver")
    assert response.status_code == 302
    order.refresh_from_db()
    shipment.refresh_from_db()
    assert order.status == OrderStatus.COMPLETED
    assert shipment.status == TrackingStatus.DELIVERED and shipment.delivered_at
    assert shipment.tracking_events.get().source == "manual"


def test_cancel_with_reason_refunds_a_captured_payment(seller_client, order):
    Payment.objects.filter(order=order).update(status=Payment.Status.CAPTURED)
    set_status(order, OrderStatus.PROCESSING)
    response = act(seller_client, order, "cancel", {"cancel-reason": "Item discontinued"})
    assert response.status_code == 302
    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED and order.cancel_reason == "Item discontinued"
    assert order.payments.get().status == Payment.Status.REFUNDED
    data = order.events.get(to_status="cancelled").data
    assert data["refund_amount"] == str(order.total) and data["refund_timeframe"] and data["cancelled_by"] == "seller"


def test_cancel_an_unpaid_order_notes_nothing_to_refund(seller_client, order):
    act(seller_client, order, "cancel", {"cancel-reason": "Out of stock"})
    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED
    assert order.payments.get().status == Payment.Status.PENDING
    assert order.events.get(to_status="cancelled").data["refund_amount"] == "0.00"


def test_cancel_shipped_order_is_refused_and_payment_untouched(seller_client, order):
    Payment.objects.filter(order=order).update(status=Payment.Status.CAPTURED)
    set_status(order, OrderStatus.SHIPPED)
    response = act(seller_client, order, "cancel", {"cancel-reason": "Too late"})
    assert response.status_code == 422
    assert "Cannot move order from “shipped” to “cancelled”" in response.content.decode()
    assert order.payments.get().status == Payment.Status.CAPTURED


@pytest.mark.usefixtures("frozen_clock")
def test_backorder_with_new_date(seller_client, order):
    expected = timezone.localdate() + datetime.timedelta(days=14)
    response = act(seller_client, order, "backorder", {"backorder-expected": expected.isoformat(),
                                                       "backorder-note": "Supplier delay"})
    assert response.status_code == 302
    order.refresh_from_db()
    assert order.is_backordered and order.backorder_expected == expected
    assert order.events.filter(kind=OrderEvent.Kind.BACKORDER).exists()


@pytest.mark.usefixtures("frozen_clock")
def test_backorder_date_must_be_in_the_future(seller_client, order):
    response = act(seller_client, order, "backorder", {"backorder-expected": timezone.localdate().isoformat()})
    assert response.status_code == 422 and "after today" in response.content.decode()
    order.refresh_from_db()
    assert not order.is_backordered


def test_mark_paid_and_refund(seller_client, order):
    act(seller_client, order, "mark_paid")
    assert order.payments.get().status == Payment.Status.CAPTURED
    set_status(order, OrderStatus.COMPLETED)
    act(seller_client, order, "refund", {"reason": "Goodwill"})
    order.refresh_from_db()
    assert order.status == OrderStatus.REFUNDED and order.payments.get().status == Payment.Status.REFUNDED


def test_refund_without_captured_payment_is_refused(seller_client, order):
    set_status(order, OrderStatus.PROCESSING)
    response = act(seller_client, order, "refund")
    assert response.status_code == 422
    assert "no captured payment" in response.content.decode()


def test_unknown_action_is_404(seller_client, order):
    assert act(seller_client, order, "teleport").status_code == 404


def test_htmx_action_returns_the_panel_with_the_message(seller_client, order):
    pay(order)
    response = act(seller_client, order, "process", HTTP_HX_REQUEST="true", follow=True)
    body = response.content.decode()
    assert response.status_code == 200
    assert body.lstrip().startswith('<div id="order-panel"')
    assert "Order confirmed and marked processing." in body


def test_htmx_refusal_returns_the_panel_with_422(seller_client, order):
    set_status(order, OrderStatus.COMPLETED)
    response = act(seller_client, order, "cancel", {"cancel-reason": "x"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 422
    assert response.content.decode().lstrip().startswith('<div id="order-panel"')


# --- returns ----------------------------------------------------------------------------

@pytest.fixture
def return_request(order, customer):
    pay(order)
    order.store.return_address = "Returns, 2 Dock Road, Bristol"
    order.store.save(update_fields=["return_address"])
    set_status(order, OrderStatus.COMPLETED)
    return return_request_create(order=order, lines=order.lines.all(), reason="Too big", actor=customer)


def return_act(client, order, rr, to, data=None):
    return client.post(reverse("seller:return_action", args=[order.number, rr.number, to]), data or {})


def test_return_approve_receive_refund(seller_client, order, return_request):
    for to in ("approved", "received", "refunded"):
        assert return_act(seller_client, order, return_request, to).status_code == 302
        return_request.refresh_from_db()
        assert return_request.status == to


def test_return_reject_needs_a_reason(seller_client, order, return_request):
    response = return_act(seller_client, order, return_request, "rejected")
    assert response.status_code == 422
    return_request.refresh_from_db()
    assert return_request.status == ReturnRequest.Status.REQUESTED
    return_act(seller_client, order, return_request, "rejected", {f"reject-{return_request.pk}-reason": "Worn"})
    return_request.refresh_from_db()
    assert return_request.status == "rejected" and return_request.rejection_reason == "Worn"


def test_return_forbidden_step_is_shown(seller_client, order, return_request):
    response = return_act(seller_client, order, return_request, "refunded")
    assert response.status_code == 422
    assert "Cannot move return from “requested” to “refunded”" in response.content.decode()


def test_cancelling_puts_the_units_back_on_the_shelf(seller):
    from catalog.models import Product
    from seller.services import order_cancel
    from tests.factories import OrderFactory, ProductFactory

    product = ProductFactory(store=seller.store, stock_on_hand=4)
    order = OrderFactory(store=seller.store, lines=[(product, 3)])

    order_cancel(order=order, actor=seller, reason="Customer changed their mind")

    assert Product.objects.get(pk=product.pk).stock_on_hand == 7
