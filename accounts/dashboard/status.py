"""How an order's state reads to people: the progress bar, the headline, the timeline.

Pure functions over an order loaded with orders.selectors (lines, payments, shipments with
checkpoints, events and returns prefetched): no queries of their own.
"""
from dataclasses import dataclass, field
from datetime import date

from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _

from seller.templatetags.dashboard_tags import money
from orders.models import OrderEvent, OrderStatus, Payment, ReturnRequest, TrackingStatus

STEPS = [("placed", "Placed"), ("processing", "Processing"), ("shipped", "Shipped"), ("delivered", "Delivered")]
STEP_OF_STATUS = {
    OrderStatus.PENDING: 0,
    OrderStatus.PROCESSING: 1,
    OrderStatus.ON_HOLD: 1,
    OrderStatus.SHIPPED: 2,
    OrderStatus.COMPLETED: 3,
}

STATUS_PHRASES = {
    OrderStatus.PENDING: "Waiting for payment",
    OrderStatus.PROCESSING: "Order confirmed, being prepared",
    OrderStatus.ON_HOLD: "Put on hold",
    OrderStatus.SHIPPED: "Shipped",
    OrderStatus.COMPLETED: "Delivered, order complete",
    OrderStatus.CANCELLED: "Order cancelled",
    OrderStatus.REFUNDED: "Order refunded",
}
PAYMENT_PHRASES = {
    Payment.Status.PENDING: "Payment pending",
    Payment.Status.CAPTURED: "Payment received",
    Payment.Status.FAILED: "Payment failed",
    Payment.Status.REFUNDED: "Payment refunded",
}
RETURN_PHRASES = {
    ReturnRequest.Status.REQUESTED: "Return requested",
    ReturnRequest.Status.APPROVED: "Return approved",
    ReturnRequest.Status.RECEIVED: "Returned items received",
    ReturnRequest.Status.REFUNDED: "Return refunded",
    ReturnRequest.Status.REJECTED: "Return rejected",
}
TRACKING_LABELS = dict(TrackingStatus.choices)


@dataclass
class Progress:
    state: str  # normal, on_hold, delayed, cancelled, refunded
    headline: str
    detail: str = ""
    steps: list = field(default_factory=list)
    eta: date | None = None
    tone: str = "info"  # info, ok, warn, bad


def _latest_shipment(order):
    shipments = list(order.shipments.all())
    return shipments[0] if shipments else None  # ordered -shipped_at


def _reached_step(order) -> int:
    reached = STEP_OF_STATUS.get(order.status, 0)
    for event in order.events.all():
        if event.kind == OrderEvent.Kind.STATUS and event.to_status in STEP_OF_STATUS:
            reached = max(reached, STEP_OF_STATUS[event.to_status])
    return reached


def _delay(order, shipment) -> str:
    """Why the order is late, or "" when it is not."""
    if order.status in (OrderStatus.CANCELLED, OrderStatus.REFUNDED, OrderStatus.COMPLETED):
        return ""
    if order.is_backordered and order.status in (OrderStatus.PENDING, OrderStatus.PROCESSING, OrderStatus.ON_HOLD):
        when = f", now expected {order.backorder_expected:%A %-d %B}" if order.backorder_expected else ""
        return f"Some items are on backorder{when}."
    if shipment and shipment.status == TrackingStatus.EXCEPTION:
        latest = next(iter(shipment.tracking_events.all()), None)
        message = f": {latest.message}" if latest and latest.message else "."
        return f"The carrier reported a problem{message}"
    if shipment and shipment.status == TrackingStatus.OUT_FOR_DELIVERY:
        return ""  # the carrier expects it today: whatever the old estimate said, it is not "delayed" now
    if shipment and not shipment.is_final:
        for event in reversed(order.events.all()):
            old, new = event.data.get("old_eta"), event.data.get("new_eta")
            if old and new:
                old_d, new_d = parse_date(old), parse_date(new)
                if old_d and new_d and new_d > old_d:
                    return f"Delivery moved from {old_d:%A %-d %B} to {new_d:%A %-d %B}."
                break
    return ""


def order_progress(order) -> Progress:
    shipment = _latest_shipment(order)
    reached = _reached_step(order)
    current = STEP_OF_STATUS.get(order.status)
    steps = []
    for i, (key, label) in enumerate(STEPS):
        if current is not None and i == current and order.status != OrderStatus.COMPLETED:
            state = "current"
        elif i <= reached:
            state = "done"
        else:
            state = "todo"
        steps.append({"key": key, "label": label, "state": state})

    eta = (shipment.eta if shipment and shipment.eta else None) or order.estimated_delivery
    status = order.status
    if status == OrderStatus.CANCELLED:
        cancel = next((e for e in reversed(order.events.all())
                       if e.kind == OrderEvent.Kind.STATUS and e.to_status == OrderStatus.CANCELLED), None)
        detail = order.cancel_reason
        if cancel and cancel.data.get("refund_method"):
            detail += (f" A refund of {money(cancel.data['refund_amount'], order.currency)} to "
                       f"{cancel.data['refund_method']} is on its way ({cancel.data['refund_timeframe']}).")
        return Progress("cancelled", "Cancelled", detail.strip(), steps, None, "bad")
    if status == OrderStatus.REFUNDED:
        return Progress("refunded", "Refunded", "The payment for this order has been refunded.", steps, None, "info")

    delay = _delay(order, shipment)
    if status == OrderStatus.ON_HOLD:
        detail = order.hold_reason or "The shop is checking something before it can continue."
        return Progress("on_hold", "On hold", detail, steps, eta, "warn")
    if status == OrderStatus.COMPLETED:
        when = shipment.delivered_at if shipment and shipment.delivered_at else None
        # In the viewer's time zone (the current one), as the timeline shows it.
        detail = f"Delivered on {timezone.localtime(when):%A %-d %B}." if when else "Your order has been delivered."
        return Progress("normal", "Delivered", detail, steps, None, "ok")
    if status == OrderStatus.PENDING:
        payments = list(order.payments.all())
        if payments and payments[0].status == Payment.Status.FAILED:
            return Progress("delayed" if delay else "normal", "Payment failed",
                            "We couldn't take the payment. Your order is waiting for a successful payment.",
                            steps, eta, "bad")
        headline, detail = "Order received", "Waiting for the payment to be confirmed."
        if payments and payments[0].method == Payment.Method.COD:
            headline, detail = "Order received", "You'll pay on delivery. The shop will confirm your order shortly."
    elif status == OrderStatus.PROCESSING:
        headline, detail = "Being prepared", "The shop is packing your order."
    else:  # shipped
        tracking = shipment.status if shipment else TrackingStatus.LABEL_CREATED
        headline = {
            TrackingStatus.LABEL_CREATED: "Shipped",
            TrackingStatus.IN_TRANSIT: "On its way",
            TrackingStatus.OUT_FOR_DELIVERY: "Out for delivery",
            TrackingStatus.EXCEPTION: "Delivery problem",
            TrackingStatus.DELIVERED: "Delivered",
            TrackingStatus.RETURNED: "Returned to sender",
        }[tracking]
        detail = f"With {shipment.carrier_name}, tracking number {shipment.tracking_number}." if shipment else ""
        if tracking == TrackingStatus.RETURNED:
            detail = (f"{shipment.carrier_name} returned your parcel to the shop. The shop will send it again or "
                      "refund you, and you will hear from us either way.")
            return Progress("normal", headline, detail, steps, None, "warn")
    if delay:
        return Progress("delayed", f"{headline}: delayed", f"{delay} {detail}".strip(), steps, eta, "warn")
    return Progress("normal", headline, detail, steps, eta, "info")


def _who(event, audience: str, store_name: str) -> str:
    label = event.actor_label or "system"
    if audience == "seller":
        return label
    if label.endswith("(seller)"):
        return store_name
    if label.endswith("(customer)"):
        return "You"
    if label.endswith("(staff)") or label == "system":
        return ""
    return label  # carrier names


def _title(event) -> str:
    kind, to = event.kind, event.to_status
    if kind == OrderEvent.Kind.PLACED:
        return "Order placed"
    if kind == OrderEvent.Kind.STATUS:
        if to == OrderStatus.PROCESSING and event.from_status == OrderStatus.ON_HOLD:
            return "Hold released, being prepared again"
        return STATUS_PHRASES.get(to, to)
    if kind == OrderEvent.Kind.PAYMENT:
        return PAYMENT_PHRASES.get(to, f"Payment {to}")
    if kind == OrderEvent.Kind.SHIPMENT:
        if event.data.get("new_eta"):
            return "Delivery estimate changed"
        if to:
            return TRACKING_LABELS.get(to, to)
        return "Shipment created"
    if kind == OrderEvent.Kind.TRACKING:
        return f"Carrier update: {TRACKING_LABELS.get(to, to).lower()}"
    if kind == OrderEvent.Kind.BACKORDER:
        return "Items on backorder"
    if kind == OrderEvent.Kind.RETURN:
        number = event.data.get("number", "")
        return f"{RETURN_PHRASES.get(to, 'Return ' + to)} ({number})" if number else RETURN_PHRASES.get(to, to)
    return "Note"


def _detail(event) -> str:
    if event.kind == OrderEvent.Kind.BACKORDER and event.data.get("expected"):
        expected = parse_date(event.data["expected"])
        extra = f"Now expected {expected:%A %-d %B %Y}."
        return f"{extra} {event.note}".strip()
    if event.kind == OrderEvent.Kind.SHIPMENT and event.data.get("new_eta"):
        new = parse_date(event.data["new_eta"])
        old = parse_date(event.data["old_eta"]) if event.data.get("old_eta") else None
        return (f"From {old:%-d %b} to {new:%-d %b %Y}." if old else f"Expected {new:%-d %b %Y}.")
    return event.note


def timeline_entries(order, *, audience: str = "customer") -> list[dict]:
    """Newest first. For customers, sellers' own names show as the store and staff stay anonymous."""
    store_name = order.store.name
    entries = []
    for event in order.events.all():
        # A shipment's own status rows repeat the carrier checkpoint just above them for customers.
        if audience != "seller" and event.kind == OrderEvent.Kind.SHIPMENT and event.from_status and event.to_status:
            continue
        entries.append({
            "at": event.created_at,
            "kind": event.kind,
            "title": _title(event),
            "detail": _detail(event),
            "who": _who(event, audience, store_name),
            "tone": "bad" if event.to_status in ("cancelled", "failed", "exception", "rejected") else "",
        })
    entries.reverse()
    return entries


def customer_actions(order) -> dict[str, bool]:
    """What the customer may do now: pay an unpaid order; cancel while pending or processing; return after delivery."""
    open_returns = [r for r in order.returns.all() if r.status != ReturnRequest.Status.REJECTED]
    returned_line_ids = {line.pk for r in open_returns for line in r.lines.all()}
    returnable = [line for line in order.lines.all() if line.pk not in returned_line_ids]
    from orders.feedback import feedback_editable
    from orders.models import OrderFeedback

    payments = list(order.payments.all())
    try:
        feedback = order.feedback
    except OrderFeedback.DoesNotExist:
        feedback = None
    return {
        # Feedback: once the order is delivered; the customer may change it for a while.
        "review": order.status == OrderStatus.COMPLETED and feedback_editable(feedback),
        "feedback": ({"rating": feedback.rating, "comment": feedback.comment,
                      "editable": feedback_editable(feedback)} if feedback is not None else None),
        # Pay now: a pending order with nothing captured and no payment on its way (a declined card).
        "pay": order.status == OrderStatus.PENDING and not any(
            p.status in (Payment.Status.CAPTURED, Payment.Status.PENDING) for p in payments),
        "cancel": order.status in (OrderStatus.PENDING, OrderStatus.PROCESSING),
        "return": order.status == OrderStatus.COMPLETED and bool(returnable),
        "returnable_lines": returnable,
    }


NOTIFICATION_TONES = {
    "delivered": "ok", "sent": "ok", "queued": "", "sending": "",
    "bounced": "bad", "failed": "bad", "skipped": "muted", "suppressed": "muted",
    "superseded": "muted",
}


def mask_address(address: str, channel: str) -> str:
    """a.person@example.com -> a•••@example.com; +447700900123 -> •••0123; in-app ids -> 'your inbox'."""
    if channel == "inapp":
        return "inbox"
    if "@" in address:
        local, _, domain = address.partition("@")
        return f"{local[:1]}•••@{domain}"
    return f"•••{address[-4:]}" if len(address) > 4 else address


def notification_rows(notifications, *, audience: str) -> list[dict]:
    """Display rows for the notifications an order caused (customers see their addresses masked)."""
    from notifications.events import EVENTS

    rows = []
    for n in notifications:
        event = EVENTS.get(n.event)
        label = event.label if event else n.event
        if audience == "customer":  # "Order confirmation / new order": the customer's half
            label = label.split(" / ")[0]
        rows.append({
            "event": n.event,
            "label": label,
            "audience": n.audience,
            "channel": n.channel,
            "channel_label": n.get_channel_display(),
            "to": (n.recipient_address if audience == "seller" and n.channel != "inapp"
                   else mask_address(n.recipient_address, n.channel)),
            "status": n.status,
            "status_label": n.get_status_display(),
            "reason": n.status_reason or (n.last_error if n.status in ("failed", "bounced") else "")
            or (_("Sent instead of a message that did not arrive.") if n.fallback_of_id else "")
            or (_("Resent to the corrected address.") if n.corrected_from_id else ""),
            "fallback": bool(n.fallback_of_id), "corrected": bool(n.corrected_from_id),
            "at": n.delivered_at or n.sent_at or n.created_at,
            "held_until": n.send_after if n.status == "queued" else None,
            "attempts": n.attempts,
            "tone": NOTIFICATION_TONES.get(n.status, ""),
        })
    return rows
