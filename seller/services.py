"""Fulfilment actions that combine the order services (cancel with refund, mark delivered, refund).

Each runs in one transaction: either every step happens or none does, and each step goes
through orders.services so the timeline and the domain signals stay the only way state changes.
"""
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from catalog.services import stock_release
from orders.models import Order, OrderStatus, Payment, ReturnRequest, Shipment, TrackingStatus
from orders.services import (
    TrackingUpdate,
    TransitionNotAllowed,
    order_transition,
    payment_set_status,
    return_set_status,
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


# Money that arrived (a refund later gives some back, but the order is not "due" again).
PAID_STATUSES = (Payment.Status.CAPTURED, Payment.Status.PARTIALLY_REFUNDED, Payment.Status.REFUNDED)


def amount_due(order: Order, payments=None) -> Decimal:
    """What is still to be paid: the total less captured payments (0 for a cancelled or refunded order)."""
    if order.status in (OrderStatus.CANCELLED, OrderStatus.REFUNDED):
        return Decimal("0.00")
    payments = list(order.payments.all()) if payments is None else payments
    paid = sum((p.amount for p in payments if p.status in PAID_STATUSES), start=Decimal("0.00"))
    return max(order.total - paid, Decimal("0.00"))


def needs_payment_override(order: Order, payments=None) -> bool:
    """Moving this order to processing needs an explicit override: nothing captured covers it and
    no cash-on-delivery payment is on its way (a pending card order, or one whose card failed)."""
    if order.status not in (OrderStatus.PENDING, OrderStatus.ON_HOLD):
        return False
    payments = list(order.payments.all()) if payments is None else payments
    if any(p.method == Payment.Method.COD and p.status == Payment.Status.PENDING for p in payments):
        return False
    return amount_due(order, payments) > 0


@transaction.atomic
def payment_mark_received(*, order: Order, actor) -> Payment:
    """Record money the store received outside the gateway (cash on delivery, bank transfer).

    Only while an amount is still due. A pending payment (cash on delivery) is captured; a failed
    card attempt is never rewritten: the money received is a new payment row for the amount due.
    """
    order = Order.objects.select_for_update().get(pk=order.pk)
    payments = list(order.payments.order_by("-created_at", "-id"))
    due = amount_due(order, payments)
    if due <= 0:
        raise ActionNotPossible("Nothing is due on this order: its payment has already been received.")
    reference = f"manual-{timezone.now():%Y%m%d%H%M%S}"
    pending = next((p for p in payments if p.status == Payment.Status.PENDING), None)
    if pending is not None:
        return payment_set_status(payment=pending, to=Payment.Status.CAPTURED, actor=actor, reference=reference)
    payment = Payment.objects.create(order=order, method=Payment.Method.MANUAL, amount=due)
    return payment_set_status(payment=payment, to=Payment.Status.CAPTURED, actor=actor, reference=reference)


@transaction.atomic
def order_confirm(*, order: Order, actor, override_reason: str = "") -> Order:
    """The seller moves the order to processing (confirm, or release a hold).

    A card order that is not paid cannot be confirmed, unless the seller overrides it with a
    reason; the override is recorded on the timeline (who, when, why).
    """
    order = Order.objects.select_for_update().get(pk=order.pk)
    was = order.status
    override_reason = (override_reason or "").strip()[:200]
    data = {}
    if needs_payment_override(order):
        if not override_reason:
            raise ActionNotPossible(
                "This order is not paid: there is no captured payment. Wait for the customer to pay, record a "
                "payment you received, or confirm it anyway with a reason (recorded on the timeline).")
        note = f"Confirmed without a captured payment (override by the seller): {override_reason}"
        data = {"payment_override": True, "override_reason": override_reason}
    else:
        note = "Hold released" if was == OrderStatus.ON_HOLD else "Confirmed by the seller"
    return order_transition(order=order, to=OrderStatus.PROCESSING, actor=actor, note=note, data=data)


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


def return_refund(*, return_request: ReturnRequest, actor) -> ReturnRequest:
    """Refund a received return: the money goes back through the gateway, the items go back in stock.

    The gateway call (network) runs before the transaction; if it refuses, nothing is saved. A
    card payment is refunded through its gateway; money taken outside it (cash on delivery,
    received by the store) is recorded as given back by the store.
    """
    from orders.payments import get_gateway

    rr = ReturnRequest.objects.select_related("order").get(pk=return_request.pk)
    if ReturnRequest.Status.REFUNDED not in ReturnRequest.TRANSITIONS[rr.status]:
        raise TransitionNotAllowed(rr.status, ReturnRequest.Status.REFUNDED, what="return")
    order = rr.order
    payment = (order.payments.filter(status__in=[Payment.Status.CAPTURED, Payment.Status.PARTIALLY_REFUNDED])
               .order_by("-created_at", "-id").first())
    if payment is None:
        raise ActionNotPossible("There is no captured payment on this order to refund.")
    amount = min(rr.refund_amount, payment.amount - payment.refunded_amount)
    if amount <= 0:
        raise ActionNotPossible("This payment has already been refunded in full.")
    reference = ""
    if payment.method == Payment.Method.CARD:
        result = get_gateway().refund(reference=payment.reference, amount=amount, currency=order.currency)
        if result.status != "refunded":
            raise ActionNotPossible(f"The payment gateway refused the refund: {result.error or result.status}.")
        reference = result.reference
    with transaction.atomic():
        locked = Payment.objects.select_for_update().get(pk=payment.pk)
        total = locked.refunded_amount + amount
        to = Payment.Status.REFUNDED if total >= locked.amount else Payment.Status.PARTIALLY_REFUNDED
        payment_set_status(payment=locked, to=to, actor=actor, refunded_amount=total,
                           reason=f"Return {rr.number}: {order.currency} {amount} refunded"
                                  + (f" ({reference})" if reference else ""))
        for line in rr.lines.filter(product__isnull=False):
            stock_release(product_id=line.product_id, quantity=line.quantity)
        if rr.refund_amount != amount:
            ReturnRequest.objects.filter(pk=rr.pk).update(refund_amount=amount)
            rr.refund_amount = amount
        return return_set_status(return_request=rr, to=ReturnRequest.Status.REFUNDED, actor=actor,
                                 note=f"Refunded {order.currency} {amount} to {payment.get_method_display()}; "
                                      f"items restocked")
