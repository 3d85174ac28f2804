"""How an order's state reads to people: the progress bar, the headline, the timeline.

Pure functions over an order loaded with orders.selectors (lines, payments, shipments with
checkpoints, events and returns prefetched): no queries of their own.
"""
import re
from dataclasses import dataclass, field
from datetime import date

from django.utils import timezone
from django.utils.dateformat import format as date_format
from django.utils.dateparse import parse_date
from django.utils.translation import gettext, gettext_noop, ngettext
from django.utils.translation import gettext_lazy as _

from seller.templatetags.dashboard_tags import money
from orders.models import OrderEvent, OrderStatus, Payment, ReturnRequest, TrackingStatus
from orders.payments.hosted import can_pay_now

STEPS = [("placed", _("Placed")), ("processing", _("Processing")), ("shipped", _("Shipped")),
         ("delivered", _("Delivered"))]
STEP_OF_STATUS = {
    OrderStatus.PENDING: 0,
    OrderStatus.PROCESSING: 1,
    OrderStatus.ON_HOLD: 1,
    OrderStatus.SHIPPED: 2,
    OrderStatus.COMPLETED: 3,
}

STATUS_PHRASES = {
    OrderStatus.PENDING: _("Waiting for payment"),
    OrderStatus.PROCESSING: _("Order confirmed, being prepared"),
    OrderStatus.ON_HOLD: _("Put on hold"),
    OrderStatus.SHIPPED: _("Shipped"),
    OrderStatus.COMPLETED: _("Delivered, order complete"),
    OrderStatus.CANCELLED: _("Order cancelled"),
    OrderStatus.REFUNDED: _("Order refunded"),
}
PAYMENT_PHRASES = {
    Payment.Status.PENDING: _("Payment pending"),
    Payment.Status.CAPTURED: _("Payment received"),
    Payment.Status.FAILED: _("Payment failed"),
    Payment.Status.REFUNDED: _("Payment refunded"),
}
RETURN_PHRASES = {
    ReturnRequest.Status.REQUESTED: _("Return requested"),
    ReturnRequest.Status.APPROVED: _("Return approved"),
    ReturnRequest.Status.RECEIVED: _("Returned items received"),
    ReturnRequest.Status.REFUNDED: _("Return refunded"),
    ReturnRequest.Status.REJECTED: _("Return rejected"),
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
        if order.backorder_expected:
            return gettext("Some items are on backorder, now expected %(day)s.") % {
                "day": date_format(order.backorder_expected, "l j F")}
        return gettext("Some items are on backorder.")
    if shipment and shipment.status == TrackingStatus.EXCEPTION:
        latest = next(iter(shipment.tracking_events.all()), None)
        if latest and latest.message:
            return gettext("The carrier reported a problem: %(message)s") % {"message": latest.message}
        return gettext("The carrier reported a problem.")
    if shipment and shipment.status == TrackingStatus.OUT_FOR_DELIVERY:
        return ""  # the carrier expects it today: whatever the old estimate said, it is not "delayed" now
    if shipment and not shipment.is_final:
        for event in reversed(order.events.all()):
            old, new = event.data.get("old_eta"), event.data.get("new_eta")
            if old and new:
                old_d, new_d = parse_date(old), parse_date(new)
                if old_d and new_d and new_d > old_d:
                    return gettext("Delivery moved from %(old)s to %(new)s.") % {
                        "old": date_format(old_d, "l j F"), "new": date_format(new_d, "l j F")}
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
        steps.append({"key": key, "label": str(label), "state": state})

    eta = (shipment.eta if shipment and shipment.eta else None) or order.estimated_delivery
    status = order.status
    if status == OrderStatus.CANCELLED:
        cancel = next((e for e in reversed(order.events.all())
                       if e.kind == OrderEvent.Kind.STATUS and e.to_status == OrderStatus.CANCELLED), None)
        detail = order.cancel_reason
        if cancel and cancel.data.get("refund_method"):
            detail += " " + gettext("A refund of %(amount)s to %(method)s is on its way (%(timeframe)s).") % {
                "amount": money(cancel.data["refund_amount"], order.currency), "method": cancel.data["refund_method"],
                "timeframe": cancel.data["refund_timeframe"]}
        return Progress("cancelled", gettext("Cancelled"), detail.strip(), steps, None, "bad")
    if status == OrderStatus.REFUNDED:
        return Progress("refunded", gettext("Refunded"), gettext("The payment for this order has been refunded."), steps,
                        None, "info")

    delay = _delay(order, shipment)
    if status == OrderStatus.ON_HOLD:
        detail = order.hold_reason or gettext("The shop is checking something before it can continue.")
        return Progress("on_hold", gettext("On hold"), detail, steps, eta, "warn")
    if status == OrderStatus.COMPLETED:
        when = shipment.delivered_at if shipment and shipment.delivered_at else None
        # In the viewer's time zone (the current one), as the timeline shows it.
        detail = (gettext("Delivered on %(day)s.") % {"day": date_format(timezone.localtime(when), "l j F")} if when
                  else gettext("Your order has been delivered."))
        return Progress("normal", gettext("Delivered"), detail, steps, None, "ok")
    if status == OrderStatus.PENDING:
        payments = list(order.payments.all())
        if payments and payments[0].status == Payment.Status.FAILED:
            return Progress("delayed" if delay else "normal", gettext("Payment failed"),
                            gettext("We couldn't take the payment. Your order is waiting for a successful payment."),
                            steps, eta, "bad")
        headline, detail = gettext("Order received"), gettext("Waiting for the payment to be confirmed.")
        if payments and payments[0].method == Payment.Method.COD:
            headline, detail = gettext("Order received"), gettext(
                "You'll pay on delivery. The shop will confirm your order shortly.")
    elif status == OrderStatus.PROCESSING:
        headline, detail = gettext("Being prepared"), gettext("The shop is packing your order.")
    else:  # shipped
        tracking = shipment.status if shipment else TrackingStatus.LABEL_CREATED
        headline = {
            TrackingStatus.LABEL_CREATED: gettext("Shipped"),
            TrackingStatus.IN_TRANSIT: gettext("On its way"),
            TrackingStatus.OUT_FOR_DELIVERY: gettext("Out for delivery"),
            TrackingStatus.EXCEPTION: gettext("Delivery problem"),
            TrackingStatus.DELIVERED: gettext("Delivered"),
            TrackingStatus.RETURNED: gettext("Returned to sender"),
        }[tracking]
        detail = gettext("With %(carrier)s, tracking number %(number)s.") % {
            "carrier": shipment.carrier_name, "number": shipment.tracking_number} if shipment else ""
        if tracking == TrackingStatus.RETURNED:
            detail = gettext("%(carrier)s returned your parcel to the shop. The shop will send it again or refund you, "
                             "and you will hear from us either way.") % {"carrier": shipment.carrier_name}
            return Progress("normal", headline, detail, steps, None, "warn")
    if delay:
        return Progress("delayed", gettext("%(headline)s: delayed") % {"headline": headline}, f"{delay} {detail}".strip(),
                        steps, eta, "warn")
    return Progress("normal", headline, detail, steps, eta, "info")


def _who(event, audience: str, store_name: str) -> str:
    label = event.actor_label or "system"
    if audience == "seller":
        return label
    if label.endswith("(seller)"):
        return store_name
    if label.endswith("(customer)"):
        return gettext("You")
    if label.endswith("(staff)") or label == "system":
        return ""
    return gettext(label) if label in SYSTEM_ACTORS else label  # carrier names


def _title(event) -> str:
    kind, to = event.kind, event.to_status
    if kind == OrderEvent.Kind.PLACED:
        return gettext("Order placed")
    if kind == OrderEvent.Kind.STATUS:
        if to == OrderStatus.PROCESSING and event.from_status == OrderStatus.ON_HOLD:
            return gettext("Hold released, being prepared again")
        return STATUS_PHRASES.get(to, to)
    if kind == OrderEvent.Kind.PAYMENT:
        return PAYMENT_PHRASES.get(to, to)
    if kind == OrderEvent.Kind.SHIPMENT:
        if event.data.get("new_eta"):
            return gettext("Delivery estimate changed")
        if to:
            return TRACKING_LABELS.get(to, to)
        return gettext("Shipment created")
    if kind == OrderEvent.Kind.TRACKING:
        return gettext("Carrier update: %(status)s") % {"status": str(TRACKING_LABELS.get(to, to)).lower()}
    if kind == OrderEvent.Kind.BACKORDER:
        return gettext("Items on backorder")
    if kind == OrderEvent.Kind.RETURN:
        number = event.data.get("number", "")
        return f"{RETURN_PHRASES.get(to, 'Return ' + to)} ({number})" if number else RETURN_PHRASES.get(to, to)
    return gettext("Note")


# The timeline is the order's audit record, written in English; the fixed notes and actors the
# system writes are shown to customers in their language (a seller's or shopper's own words are not).
SYSTEM_NOTES = {n: n for n in (
    gettext_noop("Payment captured"), gettext_noop("Delivered"), gettext_noop("Payment confirmed by Stripe"),
    gettext_noop("Refunded in full through Stripe"),
    gettext_noop("Cash on delivery: payment is collected when the parcel arrives"),
    gettext_noop("Ordered past the stock on hand: ships when the restock arrives"))}
SYSTEM_ACTORS = {n: n for n in (gettext_noop("payment gateway"), gettext_noop("carrier"), gettext_noop("guest"))}
PLACED_NOTE = re.compile(r"^(\d+) item line\(s\), total ([\d.]+) ([A-Z]{3})$")


def _system_note(note: str) -> str:
    if note in SYSTEM_NOTES:
        return gettext(note)
    match = PLACED_NOTE.match(note or "")
    if match:
        lines = int(match.group(1))
        return ngettext("%(count)d item line, total %(total)s", "%(count)d item lines, total %(total)s", lines) % {
            "count": lines, "total": money(match.group(2), match.group(3))}
    return note


def _detail(event) -> str:
    if event.kind == OrderEvent.Kind.BACKORDER and event.data.get("expected"):
        expected = parse_date(event.data["expected"])
        extra = gettext("Now expected %(day)s.") % {"day": date_format(expected, "l j F Y")}
        return f"{extra} {_system_note(event.note)}".strip()
    if event.kind == OrderEvent.Kind.SHIPMENT and event.data.get("new_eta"):
        new = parse_date(event.data["new_eta"])
        old = parse_date(event.data["old_eta"]) if event.data.get("old_eta") else None
        if old:
            return gettext("From %(old)s to %(new)s.") % {"old": date_format(old, "j M"), "new": date_format(new, "j M Y")}
        return gettext("Expected %(day)s.") % {"day": date_format(new, "j M Y")}
    return _system_note(event.note)


def timeline_entries(order, *, audience: str = "customer") -> list[dict]:
    """Newest first. For customers, sellers' own names show as the store and staff stay anonymous."""
    store_name = order.store.name
    entries = []
    for event in order.events.all():
        # A shipment's own status rows repeat the carrier checkpoint just above them for customers.
        if audience != "seller" and event.kind == OrderEvent.Kind.SHIPMENT and event.from_status and event.to_status:
            continue
        if audience != "seller" and event.kind == OrderEvent.Kind.NOTE and "sla_step" in (event.data or {}):
            continue  # the store's late-order alerts (orders.sla) are between the store and the platform
        entries.append({
            "at": event.created_at,
            "kind": event.kind,
            "title": str(_title(event)),  # in the reader's language now, not when the template renders
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
        # With Stripe Checkout, also one still waiting on a payment page (a fresh page is opened).
        "pay": can_pay_now(order, payments),
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
