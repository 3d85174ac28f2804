"""One small function per domain signal: pick the event code, name the change, enqueue.

Every receiver runs inside the transaction of the order service that sent the signal, so the
outbox rows commit or roll back with the change. Event keys are built from the timeline row
(OrderEvent) the change wrote, which is unique per change.
"""
import datetime
from functools import partial

from django.conf import settings
from django.db import transaction
from django.dispatch import receiver
from django.utils import timezone, translation

from orders import signals
from orders.models import Order, OrderStatus, Payment, Shipment, TrackingStatus

from .context import _line, load_subject, when
from .context import day as _day
from .context import money as _money
from .events import Audience
from .models import Notification
from .outbox import notification_enqueue, notification_refresh_queued


# The facts a receiver names are written in English; each recipient's context turns them into
# their own language (context.localise_change), so a German shopper's checkout does not put
# German money into the seller's alert.
def money(amount, currency):
    with translation.override(settings.LANGUAGE_CODE):
        return _money(amount, currency)


def day(value):
    with translation.override(settings.LANGUAGE_CODE):
        return _day(value)


def _method(payment) -> str:
    with translation.override(settings.LANGUAGE_CODE):
        return payment.get_method_display()


def _key(code: str, event) -> str:
    return f"{code}:oe{event.pk}"


def actor_role(actor, order) -> str:
    """customer | seller | staff | system, for “who cancelled”."""
    if actor is None:
        return "system"
    if isinstance(actor, str):
        # "guest", "customer", or a label such as "Guest (customer)" (the signed status link).
        return "customer" if actor in ("guest", "customer") or actor.endswith("(customer)") else "system"
    if getattr(actor, "store_id", None) and actor.store_id == order.store_id:
        return "seller"
    if getattr(actor, "is_staff", False):
        return "staff"
    return "customer"


@receiver(signals.order_placed, dispatch_uid="notifications.order_placed")
def on_order_placed(sender, order, event, actor=None, **kwargs):
    notification_enqueue(event="order.placed", event_key=_key("order.placed", event), order=order,
                         change={"placed_by": event.actor_label})
    # The payment is taken after order_placed in the same checkout; once it commits, a card
    # payment still waiting for the gateway gets its own "payment pending" message.
    transaction.on_commit(partial(payment_pending_after_checkout, order_id=order.pk, placed_event_id=event.pk))


def payment_pending_after_checkout(*, order_id: int, placed_event_id: int) -> None:
    with transaction.atomic():
        order = Order.objects.filter(pk=order_id).first()
        payment = Payment.objects.filter(order_id=order_id).order_by("-created_at", "-id").first()
        if (order is not None and payment is not None and order.status == OrderStatus.PENDING
                and payment.method == Payment.Method.CARD and payment.status == Payment.Status.PENDING):
            notification_enqueue(event="order.payment_pending",
                                 event_key=f"order.payment_pending:placed{placed_event_id}", order=order,
                                 change={"amount": money(payment.amount, order.currency),
                                         "method": _method(payment)})


@receiver(signals.order_status_changed, dispatch_uid="notifications.order_status_changed")
def on_order_status_changed(sender, order, from_status, to_status, event, actor=None, note="", at_checkout=False,
                            **kwargs):
    if to_status == OrderStatus.PROCESSING:
        _tell_seller_ok_to_ship(order, from_status, event, actor)
        # At checkout the confirmation (still queued in this transaction) already says the
        # payment went through: refresh it rather than send a second message.
        if at_checkout and notification_refresh_queued(order=order, event="order.placed"):
            return
        notification_enqueue(event="order.processing", event_key=_key("order.processing", event), order=order,
                             change={"note": note})
    elif to_status == OrderStatus.ON_HOLD:
        notification_enqueue(event="order.on_hold", event_key=_key("order.on_hold", event), order=order,
                             change={"reason": note or order.hold_reason})
    elif to_status == OrderStatus.SHIPPED:
        shipment = kwargs.get("shipment")  # shipment_create passes the one it just made
        if shipment is None:
            shipment_id = (event.data or {}).get("shipment_id")
            shipments = Shipment.objects.filter(order_id=order.pk)
            shipment = (shipments.filter(pk=shipment_id).first() if shipment_id else None) or \
                shipments.order_by("-shipped_at", "-id").first()
        subject = load_subject(order, "order.shipped", shipment=shipment)
        notification_enqueue(event="order.shipped", event_key=_key("order.shipped", event), order=order,
                             subject=subject)
    elif to_status == OrderStatus.CANCELLED:
        notification_enqueue(event="order.cancelled", event_key=_key("order.cancelled", event), order=order,
                             change={"cancelled_by": (event.data or {}).get("cancelled_by") or actor_role(actor, order),
                                     "reason": note})
    elif to_status == OrderStatus.REFUNDED:
        notification_enqueue(event="order.refunded", event_key=_key("order.refunded", event), order=order,
                             change={"note": note})
    # completed: the carrier's "delivered" already told everyone.


def _tell_seller_ok_to_ship(order, from_status, event, actor) -> None:
    """The sellers who were told "payment failed: do not ship yet" now hear "paid, OK to ship"
    (a retried card, or a switch to cash on delivery). A seller confirming it themselves knows."""
    if from_status not in (OrderStatus.PENDING, OrderStatus.ON_HOLD) or actor_role(actor, order) == "seller":
        return
    told = Notification.objects.filter(order_id=order.pk, event="order.payment_failed",
                                       audience=Audience.SELLER).exists()
    if not told:
        return
    payment = (Payment.objects.filter(order_id=order.pk).exclude(status=Payment.Status.FAILED)
               .order_by("-created_at", "-id").first())
    change = {"amount": money(order.total, order.currency),
              "method": _method(payment) if payment else ""}
    notification_enqueue(event="order.payment_received", event_key=_key("order.payment_received", event),
                         order=order, change=change, audiences=(Audience.SELLER,))


def _failure_notice_audiences(order, *, at_checkout: bool) -> tuple:
    """Who hears about this failed payment: at most one failure notice per order per
    PAYMENT_FAILED_NOTICE_MINUTES for each audience (the timeline keeps every attempt).

    At checkout the customer's order confirmation, still queued in this transaction, is the one
    clear message (reserved, payment failed, how to pay, until when); only the seller gets the
    separate "do not ship yet" alert.
    """
    since = timezone.now() - datetime.timedelta(minutes=getattr(settings, "PAYMENT_FAILED_NOTICE_MINUTES", 60))
    recent = set(Notification.objects.filter(order_id=order.pk, created_at__gte=since,
                                             event="order.payment_failed").values_list("audience", "event"))
    # A confirmation counts as the failure notice only if it said the payment failed (a card
    # declined at checkout); one sent while the payment was pending (Stripe) said nothing of it.
    confirmed_failure = Notification.objects.filter(
        order_id=order.pk, created_at__gte=since, event="order.placed", audience=Audience.CUSTOMER,
        context__order__payment__status=Payment.Status.FAILED).exists()
    audiences = []
    if not at_checkout and (Audience.CUSTOMER, "order.payment_failed") not in recent and not confirmed_failure:
        audiences.append(Audience.CUSTOMER)
    if (Audience.SELLER, "order.payment_failed") not in recent:
        audiences.append(Audience.SELLER)
    return tuple(audiences)


@receiver(signals.payment_status_changed, dispatch_uid="notifications.payment_status_changed")
def on_payment_status_changed(sender, payment, order, from_status, to_status, event, **kwargs):
    at_checkout = notification_refresh_queued(order=order, event="order.placed") > 0
    change = {"amount": money(payment.amount, order.currency), "method": _method(payment)}
    if to_status == Payment.Status.FAILED:
        audiences = _failure_notice_audiences(order, at_checkout=at_checkout)
        if audiences:
            notification_enqueue(event="order.payment_failed", event_key=_key("order.payment_failed", event),
                                 order=order, change=change | {"reason": payment.failure_reason},
                                 audiences=audiences)
    elif to_status == Payment.Status.PENDING and payment.method == Payment.Method.CARD:
        notification_enqueue(event="order.payment_pending", event_key=_key("order.payment_pending", event),
                             order=order, change=change)


@receiver(signals.order_payment_reminder, dispatch_uid="notifications.order_payment_reminder")
def on_order_payment_reminder(sender, order, event, pay_by=None, **kwargs):
    notification_enqueue(event="order.payment_reminder", event_key=_key("order.payment_reminder", event),
                         order=order)


@receiver(signals.payment_refunded, dispatch_uid="notifications.payment_refunded")
def on_payment_refunded(sender, payment, order, amount, full, event, **kwargs):
    """A refund that did not move the order to refunded (partial, or the order can't be refunded)."""
    notification_enqueue(event="order.refunded", event_key=_key("order.refunded", event), order=order,
                         change={"note": event.note, "amount": money(amount, order.currency)})


@receiver(signals.order_backordered, dispatch_uid="notifications.order_backordered")
def on_order_backordered(sender, order, lines, expected, event, **kwargs):
    notification_refresh_queued(order=order, event="order.placed")
    notification_enqueue(event="order.backordered", event_key=_key("order.backordered", event), order=order,
                         change={"expected": day(expected), "items": [_line(line, order.currency) for line in lines],
                                 "note": event.note})


SHIPMENT_EVENT = {
    TrackingStatus.IN_TRANSIT: "shipment.in_transit",
    TrackingStatus.OUT_FOR_DELIVERY: "shipment.out_for_delivery",
    TrackingStatus.DELIVERED: "shipment.delivered",
    TrackingStatus.EXCEPTION: "order.delayed",
    TrackingStatus.RETURNED: "shipment.returned",
}


@receiver(signals.shipment_created, dispatch_uid="notifications.shipment_created")
def on_shipment_created(sender, shipment, order, event, reship=False, **kwargs):
    """A reship (the first parcel came back): "shipped" again with the new tracking. A first
    shipment is announced by the order's move to shipped instead."""
    if not reship:
        return
    subject = load_subject(order, "order.shipped", shipment=shipment)
    notification_enqueue(event="order.shipped", event_key=_key("order.shipped", event), order=order, subject=subject)


@receiver(signals.shipment_status_changed, dispatch_uid="notifications.shipment_status_changed")
def on_shipment_status_changed(sender, shipment, order, from_status, to_status, event, tracking_event=None,
                               reason="", **kwargs):
    code = SHIPMENT_EVENT.get(to_status)
    if code is None:
        return
    subject = load_subject(order, code, shipment=shipment, checkpoint=tracking_event)
    if code == "shipment.delivered":
        subject.change = {"review_invite": bool(subject.store_options.review_request)}
        key = _key(code, event)
    elif code == "order.delayed":
        carrier_says = reason or getattr(tracking_event, "message", "")
        subject.change = {"reason": carrier_says or "The carrier reported a problem",
                          "old_eta": "", "new_eta": day(shipment.eta)}
        # Same key as an ETA change from the same carrier update: one message carrying both.
        key = f"order.delayed:te{tracking_event.pk}" if tracking_event is not None else _key(code, event)
    else:
        key = _key(code, event)
    notification_enqueue(event=code, event_key=key, order=order, subject=subject)


@receiver(signals.shipment_eta_changed, dispatch_uid="notifications.shipment_eta_changed")
def on_shipment_eta_changed(sender, shipment, order, old_eta, new_eta, reason, event, **kwargs):
    if not (old_eta and new_eta and new_eta > old_eta):
        return  # a first estimate or an earlier one is not a delay
    if shipment.status in (TrackingStatus.OUT_FOR_DELIVERY, TrackingStatus.DELIVERED):
        return  # "out for delivery, expected today" already says when: never "delayed" next to it
    checkpoint = shipment.tracking_events.order_by("-id").first()
    same_update = checkpoint is not None and abs((event.created_at - checkpoint.received_at).total_seconds()) < 30
    key = f"order.delayed:te{checkpoint.pk}" if same_update else _key("order.delayed", event)
    subject = load_subject(order, "order.delayed", shipment=shipment, checkpoint=checkpoint if same_update else None,
                           change={"old_eta": day(old_eta), "new_eta": day(new_eta), "reason": reason})
    notification_enqueue(event="order.delayed", event_key=key, order=order, subject=subject, merge=True)


@receiver(signals.return_status_changed, dispatch_uid="notifications.return_status_changed")
def on_return_status_changed(sender, return_request, order, from_status, to_status, event, actor=None, **kwargs):
    code = f"return.{to_status}"
    subject = load_subject(order, code, return_request=return_request, change={"note": event.note})
    notification_enqueue(event=code, event_key=_key(code, event), order=order, subject=subject)


@receiver(signals.order_sla_missed, dispatch_uid="notifications.order_sla_missed")
def on_order_sla_missed(sender, order, step, event, ship_by, **kwargs):
    """A shipping deadline missed (orders.sla): step 1 tells the sellers, step 2 platform staff.
    The key is per order × step, whatever timeline row the step wrote: never twice."""
    from orders.sla import BusinessCalendar

    code = "order.sla_breached" if step == 1 else "order.sla_escalated"
    store = order.store
    zone = BusinessCalendar.for_store(store).time_zone
    notification_enqueue(event=code, event_key=f"{code}:o{order.pk}", order=order,
                         change={"ship_by": when(ship_by, zone.key), "sla_hours": store.sla_ship_within_hours,
                                 "escalate_hours": store.sla_escalate_after_hours})


# --- provider callbacks --------------------------------------------------------------------------

def _connect_anymail():
    from anymail.signals import tracking

    from .webhooks import on_anymail_tracking

    tracking.connect(on_anymail_tracking, dispatch_uid="notifications.anymail_tracking")


_connect_anymail()


@receiver(signals.order_message_posted, dispatch_uid="notifications.order_message_posted")
def on_order_message_posted(sender, message, order, **kwargs):
    """A customer's question alerts the store's sellers; a seller's message goes to the customer."""
    from orders.models import OrderMessage

    if message.author_kind == OrderMessage.Author.CUSTOMER:
        notification_enqueue(event="order.customer_question", event_key=f"order.customer_question:om{message.pk}",
                             order=order, change={"message": message.body, "author": message.author_name},
                             audiences=(Audience.SELLER,))
        return
    # A reply when the last message before it was the customer's.
    previous = (OrderMessage.objects.filter(order_id=order.pk, id__lt=message.pk).order_by("-id")
                .values_list("author_kind", flat=True).first())
    notification_enqueue(event="order.seller_message", event_key=f"order.seller_message:om{message.pk}",
                         order=order, change={"message": message.body, "author": order.store.name,
                                              "reply": previous == OrderMessage.Author.CUSTOMER},
                         audiences=(Audience.CUSTOMER,))
