"""Fulfilment actions that combine the order services (cancel with refund, mark delivered, refund).

Each runs in one transaction: either every step happens or none does, and each step goes
through orders.services so the timeline and the domain signals stay the only way state changes.
"""
from django.db import transaction
from django.utils import timezone

from catalog.services import stock_release
from orders.models import Order, OrderStatus, Payment, Shipment, TrackingStatus
from orders.services import (
    TrackingUpdate,
    TransitionNotAllowed,
    order_transition,
    payment_set_status,
    shipment_record_tracking,
)

REFUND_TIMEFRAME = {
    Payment.Method.CARD: "3–5 working days",
    Payment.Method.COD: "5–7 working days",
}


class ActionNotPossible(Exception):
    """An action that the current state of the order does not allow. Nothing was saved."""


def _captured_payment(order: Order) -> Payment | None:
    return order.payments.filter(status=Payment.Status.CAPTURED).order_by("-created_at").first()


def refund_details(payment: Payment | None) -> dict:
    """What the customer is told about their refund (carried by order.cancelled / order.refunded)."""
    if payment is None:
        return {"refund_amount": "0.00", "refund_method": "", "refund_timeframe": "",
                "refund_note": "No payment was taken, so there is nothing to refund."}
    if payment.method == Payment.Method.CARD and payment.card_last4:
        method = f"Card ending {payment.card_last4}"
    else:
        method = payment.get_method_display()
    return {"refund_amount": str(payment.amount), "refund_method": method,
            "refund_timeframe": REFUND_TIMEFRAME.get(payment.method, "5–7 working days"),
            "refund_note": ""}


@transaction.atomic
def order_cancel(*, order: Order, actor, reason: str, cancelled_by: str = "seller") -> Order:
    """Cancel the order and refund a captured payment in the same transaction.

    The order.cancelled timeline row carries the refund amount, method and timeframe in its data
    (the customer's cancellation message says them); the payment moves to refunded.
    """
    reason = (reason or "").strip()
    if not reason:
        raise ActionNotPossible("Give a reason for cancelling.")
    if not order.can_transition_to(OrderStatus.CANCELLED):
        raise TransitionNotAllowed(order.status, OrderStatus.CANCELLED)
    payment = _captured_payment(order)
    refund = refund_details(payment)
    order = order_transition(order=order, to=OrderStatus.CANCELLED, actor=actor, note=reason,
                             data={**refund, "cancelled_by": cancelled_by})
    if payment is not None:
        payment_set_status(payment=payment, to=Payment.Status.REFUNDED, actor=actor,
                           reason=f"Refunded on cancellation: {reason}")
    # Nothing left the warehouse: the units go back on the shelf.
    for line in order.lines.filter(product__isnull=False):
        stock_release(product_id=line.product_id, quantity=line.quantity)
    return order


@transaction.atomic
def order_refund(*, order: Order, actor, reason: str = "") -> Order:
    """Refund the whole order: the captured payment is refunded and the order moves to refunded."""
    if not order.can_transition_to(OrderStatus.REFUNDED):
        raise TransitionNotAllowed(order.status, OrderStatus.REFUNDED)
    payment = _captured_payment(order)
    if payment is None:
        raise ActionNotPossible("There is no captured payment to refund on this order.")
    refund = refund_details(payment)
    payment_set_status(payment=payment, to=Payment.Status.REFUNDED, actor=actor, reason=reason or "Order refunded")
    return order_transition(order=order, to=OrderStatus.REFUNDED, actor=actor, note=reason or "Refunded",
                            data=refund)


@transaction.atomic
def payment_mark_received(*, order: Order, actor) -> Payment:
    """Record that a pending payment (e.g. cash on delivery, bank transfer) has been received."""
    payment = order.payments.exclude(status__in=[Payment.Status.CAPTURED, Payment.Status.REFUNDED]) \
        .order_by("-created_at").first()
    if payment is None:
        raise ActionNotPossible("This order has no payment waiting to be received.")
    return payment_set_status(payment=payment, to=Payment.Status.CAPTURED, actor=actor,
                              reference=f"manual-{timezone.now():%Y%m%d%H%M%S}")


@transaction.atomic
def shipment_mark_delivered(*, order: Order, actor) -> Shipment:
    """The seller confirms delivery: a manual 'delivered' checkpoint on the open shipment.

    It goes through shipment_record_tracking, so the shipment, the order (completed) and the
    notifications move exactly as they would for a carrier's own delivery scan.
    """
    if order.status != OrderStatus.SHIPPED:
        raise TransitionNotAllowed(order.status, OrderStatus.COMPLETED)
    shipment = order.shipments.exclude(status__in=[TrackingStatus.DELIVERED, TrackingStatus.RETURNED]) \
        .order_by("-shipped_at").first()
    if shipment is None:
        raise ActionNotPossible("This order has no shipment in transit to mark as delivered.")
    now = timezone.now()
    label = getattr(actor, "display_name", "") or "seller"
    shipment_record_tracking(
        shipment=shipment,
        update=TrackingUpdate(dedupe_key=f"manual-delivered-{shipment.pk}", status=TrackingStatus.DELIVERED,
                              occurred_at=now, message=f"Marked delivered by {label}"),
        source="manual",
    )
    shipment.refresh_from_db()
    return shipment
