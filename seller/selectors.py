"""Reads for the seller dashboard: what may be done to an order now."""
from orders.models import Order, OrderStatus, Payment, ReturnRequest

# (action, button label, style) in the order they appear on the page.
ACTION_LABELS = {
    "process": "Confirm & mark processing",
    "mark_paid": "Mark payment received",
    "hold": "Put on hold",
    "ship": "Ship",
    "deliver": "Mark delivered",
    "backorder": "Mark backordered",
    "cancel": "Cancel order",
    "refund": "Refund order",
}

RETURN_ACTION_LABELS = {
    ReturnRequest.Status.APPROVED: "Approve",
    ReturnRequest.Status.RECEIVED: "Mark received",
    ReturnRequest.Status.REFUNDED: "Refund",
    ReturnRequest.Status.REJECTED: "Reject",
}


def available_actions(order: Order) -> dict[str, str]:
    """{action: label} for the actions the order's current state allows (uses prefetched payments)."""
    payments = list(order.payments.all())
    status = order.status
    actions = {}
    if order.can_transition_to(OrderStatus.PROCESSING):
        actions["process"] = "Release hold" if status == OrderStatus.ON_HOLD else ACTION_LABELS["process"]
    if status not in (OrderStatus.CANCELLED, OrderStatus.REFUNDED) and any(
            p.status in (Payment.Status.PENDING, Payment.Status.FAILED) for p in payments):
        actions["mark_paid"] = ACTION_LABELS["mark_paid"]
    if order.can_transition_to(OrderStatus.ON_HOLD):
        actions["hold"] = ACTION_LABELS["hold"]
    if order.can_transition_to(OrderStatus.SHIPPED):
        actions["ship"] = ACTION_LABELS["ship"]
    if status == OrderStatus.SHIPPED:
        actions["deliver"] = ACTION_LABELS["deliver"]
    if status in (OrderStatus.PENDING, OrderStatus.PROCESSING, OrderStatus.ON_HOLD):
        actions["backorder"] = "Change backorder date" if order.is_backordered else ACTION_LABELS["backorder"]
    if order.can_transition_to(OrderStatus.CANCELLED):
        actions["cancel"] = ACTION_LABELS["cancel"]
    if order.can_transition_to(OrderStatus.REFUNDED) and any(p.status == Payment.Status.CAPTURED for p in payments):
        actions["refund"] = ACTION_LABELS["refund"]
    return actions


def return_actions(order: Order) -> dict[int, dict[str, str]]:
    """{return id: {to_status: label}} for each of the order's returns (prefetched)."""
    return {
        rr.pk: {to: RETURN_ACTION_LABELS[to] for to in
                [s for s in RETURN_ACTION_LABELS if s in ReturnRequest.TRANSITIONS[rr.status]]}
        for rr in order.returns.all()
    }
