"""Writes to orders: every change validated, timed-lined and signalled here.

Each service runs in one transaction, locks the row it changes, appends an OrderEvent
and sends exactly one domain signal after the state change. Nothing else changes status.
"""
from dataclasses import dataclass
from datetime import date

from django.db import transaction
from django.utils import timezone

from . import signals
from .models import (
    ORDER_TRANSITIONS,
    TRACKING_FINAL,
    TRACKING_RANK,
    Order,
    OrderEvent,
    OrderStatus,
    Payment,
    ReturnRequest,
    Shipment,
    TrackingEvent,
    TrackingStatus,
)


class TransitionNotAllowed(Exception):
    """A forbidden status change. Nothing was saved."""

    def __init__(self, current: str, to: str, what: str = "order"):
        self.current, self.to = current, to
        allowed = ", ".join(sorted(ORDER_TRANSITIONS.get(current, ()))) if what == "order" else ""
        msg = f"Cannot move {what} from “{current}” to “{to}”."
        if what == "order":
            msg += f" Allowed from {current}: {allowed or 'nothing (final status)'}."
        super().__init__(msg)


def actor_label_for(actor) -> str:
    if actor is None:
        return "system"
    if isinstance(actor, str):
        return actor
    if getattr(actor, "is_staff", False) and not getattr(actor, "store_id", None):
        return f"{actor.display_name} (staff)"
    if getattr(actor, "store_id", None):
        return f"{actor.display_name} (seller)"
    return f"{actor.display_name} (customer)"


def _user_or_none(actor):
    return actor if actor is not None and not isinstance(actor, str) and actor.pk else None


def order_event_add(*, order: Order, kind: str, actor=None, from_status="", to_status="", note="",
                    data=None) -> OrderEvent:
    return OrderEvent.objects.create(
        order=order, kind=kind, actor=_user_or_none(actor), actor_label=actor_label_for(actor),
        from_status=from_status, to_status=to_status, note=note, data=data or {},
    )


def _lock(order: Order) -> Order:
    return Order.objects.select_for_update().get(pk=order.pk)


# What the messages about an order change read with the order: the store with its notification
# switches, the customer with their quiet hours (``notifications.context.load_subject``).
ORDER_RELATED_FOR_MESSAGES = ("store", "customer", "store__notification_options", "customer__quiet_hours")


def _lock_for_notifying(order: Order) -> Order:
    """Lock the order row (only that row: ``FOR UPDATE OF``) and load ORDER_RELATED_FOR_MESSAGES in
    the same query; the instance is marked so that load_subject uses it instead of reading again.

    The same as ``Order.objects.select_for_update(of=("self",)).select_related(*ORDER_RELATED_FOR_
    MESSAGES).get(pk=…)``, as SQL written once per process: building that query with the ORM cost
    more CPU than anything else in an order change (bench/README.md)."""
    from django.contrib.auth import get_user_model
    from django.db import connection

    from catalog.models import Store
    from notifications.models import QuietHours, StoreNotificationOptions
    from notify_site.rows import from_row, prepared_cursor

    models = (Order, Store, StoreNotificationOptions, get_user_model(), QuietHours)
    sql = _LOCK_SQL.get(connection.vendor)
    if sql is None:
        sql = _LOCK_SQL[connection.vendor] = _lock_sql(models, connection)
    with prepared_cursor(connection) as cursor:
        cursor.execute(sql, [order.pk])
        row = cursor.fetchone()
    if row is None:
        raise Order.DoesNotExist("Order matching query does not exist.")
    parts, start = [], 0
    for model in models:
        width = len(model._meta.concrete_fields)
        parts.append(from_row(model, row[start:start + width], connection))
        start += width
    locked, store, options, customer, quiet_hours = parts
    # Cached as select_related caches them: a missing reverse one-to-one is cached as absent.
    Order.store.field.set_cached_value(locked, store)
    Store.notification_options.related.set_cached_value(store, options)
    if options is not None:
        StoreNotificationOptions.store.field.set_cached_value(options, store)
    Order.customer.field.set_cached_value(locked, customer)
    if customer is not None:
        type(customer).quiet_hours.related.set_cached_value(customer, quiet_hours)
        if quiet_hours is not None:
            QuietHours.user.field.set_cached_value(quiet_hours, customer)
    locked._locked_for_notifying = True
    return locked


_LOCK_SQL: dict[str, str] = {}


def _lock_sql(models, connection) -> str:
    from notify_site.rows import columns

    order, store, options, user, quiet = models
    select = (columns(order, "o") + columns(store, "s") + columns(options, "n") + columns(user, "u")
              + columns(quiet, "q"))
    lock = ' FOR UPDATE OF o' if connection.features.has_select_for_update_of else (
        " FOR UPDATE" if connection.features.has_select_for_update else "")
    return (f'SELECT {", ".join(select)} FROM "{order._meta.db_table}" o '
            f'INNER JOIN "{store._meta.db_table}" s ON s."id" = o."store_id" '
            f'LEFT JOIN "{options._meta.db_table}" n ON n."store_id" = s."id" '
            f'LEFT JOIN "{user._meta.db_table}" u ON u."id" = o."customer_id" '
            f'LEFT JOIN "{quiet._meta.db_table}" q ON q."user_id" = u."id" '
            f'WHERE o."id" = %s{lock}')


def parcel_came_back(order: Order) -> bool:
    """The order's latest shipment was returned to sender (it can be reshipped, refunded or cancelled)."""
    latest = Shipment.objects.filter(order_id=order.pk).order_by("-shipped_at", "-id").first()
    return latest is not None and latest.status == TrackingStatus.RETURNED


@transaction.atomic
def order_transition(*, order: Order, to: str, actor=None, note: str = "", data: dict | None = None,
                     at_checkout: bool = False) -> Order:
    """Move an order to ``to``. Raises TransitionNotAllowed (saving nothing) if forbidden."""
    locked = _lock(order)
    _transition_locked(locked, to, actor=actor, note=note, data=data, at_checkout=at_checkout)
    # Keep the caller's instance in step with the database.
    order.status, order.hold_reason, order.cancel_reason = locked.status, locked.hold_reason, locked.cancel_reason
    order.ship_by, order.sla_due_at = locked.ship_by, locked.sla_due_at
    return locked


def _transition_locked(locked: Order, to: str, *, actor=None, note: str = "", data: dict | None = None,
                       at_checkout: bool = False, also_save: tuple = (), signal_extra: dict | None = None,
                       event: OrderEvent | None = None) -> None:
    """The transition itself, on an order the caller has locked in its own transaction (the
    services that change an order and then move it, e.g. ``shipment_create``, lock it once).
    ``also_save``: fields the caller changed on ``locked`` and wants in the same UPDATE;
    ``signal_extra``: objects the caller already holds, passed on to the receivers; ``event``: the
    timeline row of this move, if the caller already wrote it (with its own, in one INSERT)."""
    to = OrderStatus(to)
    current = locked.status
    if to not in ORDER_TRANSITIONS[current]:
        raise TransitionNotAllowed(current, to)
    if current == OrderStatus.SHIPPED and to != OrderStatus.COMPLETED and not parcel_came_back(locked):
        # Shipped orders are cancelled or refunded only when the parcel came back to the shop.
        raise TransitionNotAllowed(current, to)
    locked.status = to
    update_fields = ["status", "updated_at", *also_save]
    if to == OrderStatus.ON_HOLD:
        locked.hold_reason = note[:200]
        update_fields.append("hold_reason")
    if to == OrderStatus.CANCELLED:
        locked.cancel_reason = note[:200]
        update_fields.append("cancel_reason")
    if to == OrderStatus.PROCESSING and locked.ship_by is None:
        from .sla import sla_start  # ready to ship: the shipping deadline starts (orders.sla)

        update_fields += sla_start(locked)
    locked.save(update_fields=update_fields)
    if event is None:
        event = order_event_add(order=locked, kind=OrderEvent.Kind.STATUS, actor=actor, from_status=current,
                                to_status=to, note=note, data=data)
    signals.order_status_changed.send(
        sender=Order, order=locked, from_status=current, to_status=to, actor=actor, note=note,
        event=event, at_checkout=at_checkout, **(signal_extra or {}),
    )


@transaction.atomic
def payment_set_status(*, payment: Payment, to: str, actor=None, reason: str = "", reference: str = "",
                       refunded_amount=None) -> Payment:
    """Move a payment on. ``refunded_amount`` (refunds): the total given back so far; a full
    refund without it refunds the whole amount."""
    allowed = {
        Payment.Status.PENDING: {Payment.Status.CAPTURED, Payment.Status.FAILED},
        # A failed attempt stays failed: money that arrives later is a new Payment row.
        Payment.Status.FAILED: set(),
        Payment.Status.CAPTURED: {Payment.Status.REFUNDED, Payment.Status.PARTIALLY_REFUNDED},
        Payment.Status.PARTIALLY_REFUNDED: {Payment.Status.REFUNDED, Payment.Status.PARTIALLY_REFUNDED},
        Payment.Status.REFUNDED: set(),
    }
    locked = Payment.objects.select_for_update().get(pk=payment.pk)
    current = locked.status
    if to not in allowed[current]:
        raise TransitionNotAllowed(current, to, what="payment")
    locked.status = to
    if reason:
        locked.failure_reason = reason[:200]
    if reference:
        locked.reference = reference
    if to in (Payment.Status.REFUNDED, Payment.Status.PARTIALLY_REFUNDED):
        locked.refunded_amount = locked.amount if refunded_amount is None and to == Payment.Status.REFUNDED \
            else refunded_amount
    locked.save(update_fields=["status", "failure_reason", "reference", "refunded_amount", "updated_at"])
    event = order_event_add(order=locked.order, kind=OrderEvent.Kind.PAYMENT, actor=actor, from_status=current,
                            to_status=to, note=reason,
                            data={"payment_id": locked.pk, "method": locked.method, "amount": str(locked.amount)})
    signals.payment_status_changed.send(sender=Payment, payment=locked, order=locked.order, from_status=current,
                                        to_status=to, event=event)
    payment.status, payment.failure_reason, payment.reference = locked.status, locked.failure_reason, locked.reference
    return locked


@transaction.atomic
def order_mark_backordered(*, order: Order, expected: date | None, actor=None, lines=None, note: str = "") -> Order:
    locked = _lock(order)
    if locked.status not in (OrderStatus.PENDING, OrderStatus.PROCESSING, OrderStatus.ON_HOLD):
        raise TransitionNotAllowed(locked.status, "backordered")
    lines = list(lines if lines is not None else locked.lines.all())
    for line in lines:
        if not line.is_backordered:
            line.is_backordered = True
            line.save(update_fields=["is_backordered"])
    locked.is_backordered = True
    locked.backorder_expected = expected
    fields = ["is_backordered", "backorder_expected", "updated_at"]
    if expected is not None:
        # Delivery can't come before the stock: the estimate starts from the restock date.
        from .checkout import estimate_delivery

        moved = estimate_delivery(method=locked.shipping_method, start=expected)
        if locked.estimated_delivery is None or moved > locked.estimated_delivery:
            locked.estimated_delivery = moved
            fields.append("estimated_delivery")
    locked.save(update_fields=fields)
    event = order_event_add(order=locked, kind=OrderEvent.Kind.BACKORDER, actor=actor, note=note,
                            data={"expected": expected.isoformat() if expected else None,
                                  "line_ids": [line.pk for line in lines]})
    signals.order_backordered.send(sender=Order, order=locked, lines=lines, expected=expected, event=event)
    order.is_backordered, order.backorder_expected = True, expected
    order.estimated_delivery = locked.estimated_delivery
    return locked


@transaction.atomic
def shipment_create(*, order: Order, carrier: str, tracking_number: str, carrier_name: str = "",
                    tracking_url: str = "", eta: date | None = None, actor=None) -> Shipment:
    """Create a shipment and move the order to shipped (one timeline row each).

    A shipped order whose parcel came back (returned to sender) can be reshipped: a new shipment,
    the order stays shipped, and the customer is told it is on its way again."""
    # Locked once for the whole change (the move to shipped below reuses the lock), with what the
    # messages need about the order loaded in the same query (``context.load_subject`` reuses it).
    locked = _lock_for_notifying(order)
    reship = locked.status == OrderStatus.SHIPPED and parcel_came_back(locked)
    if not reship and OrderStatus.SHIPPED not in ORDER_TRANSITIONS[locked.status]:
        raise TransitionNotAllowed(locked.status, OrderStatus.SHIPPED)
    if not tracking_url:
        from .carriers import tracking_url_for
        tracking_url = tracking_url_for(carrier, tracking_number)
    shipment = Shipment.objects.create(order=locked, carrier=carrier, carrier_name=carrier_name or carrier.title(),
                                       tracking_number=tracking_number.strip(), tracking_url=tracking_url, eta=eta)
    eta_moved = bool(eta and eta != locked.estimated_delivery)
    if eta_moved:
        locked.estimated_delivery = eta
        if reship:  # no status change follows: save it now (else it rides on the status UPDATE)
            locked.save(update_fields=["estimated_delivery", "updated_at"])
    # Both timeline rows (the shipment, then the move to shipped) in one INSERT.
    events = [OrderEvent(order=locked, kind=OrderEvent.Kind.SHIPMENT, actor=_user_or_none(actor),
                         actor_label=actor_label_for(actor),
                         note=f"{'Reshipped: ' if reship else ''}{shipment.carrier_name} {shipment.tracking_number}",
                         data={"shipment_id": shipment.pk, "eta": eta.isoformat() if eta else None,
                               "reship": reship})]
    status_note = f"Shipped with {shipment.carrier_name}, tracking {shipment.tracking_number}"
    if not reship:
        events.append(OrderEvent(order=locked, kind=OrderEvent.Kind.STATUS, actor=_user_or_none(actor),
                                 actor_label=actor_label_for(actor), from_status=locked.status,
                                 to_status=OrderStatus.SHIPPED, note=status_note, data={"shipment_id": shipment.pk}))
    OrderEvent.objects.bulk_create(events)
    signals.shipment_created.send(sender=Shipment, shipment=shipment, order=locked, event=events[0], reship=reship)
    if reship:
        return shipment
    _transition_locked(locked, OrderStatus.SHIPPED, actor=actor, note=status_note, data={"shipment_id": shipment.pk},
                       also_save=("estimated_delivery",) if eta_moved else (),
                       signal_extra={"shipment": shipment}, event=events[1])
    order.status = locked.status
    return shipment


@dataclass
class TrackingUpdate:
    """A carrier checkpoint, normalised by an adapter in orders.carriers."""

    dedupe_key: str
    status: str
    occurred_at: "timezone.datetime"
    message: str = ""
    location: str = ""
    eta: date | None = None
    raw: dict | None = None
    # When the carrier stated ``eta`` (its event time); defaults to occurred_at. An ETA stated
    # earlier than the one we hold never overwrites it (replays and late retries).
    eta_as_of: "timezone.datetime | None" = None


def _tracking_moves_forward(current: str, to: str) -> bool:
    if current in TRACKING_FINAL or to == current:
        return False
    # An exception (failed attempt, weather, customs…) can interrupt any stage before the end.
    return to == TrackingStatus.EXCEPTION or TRACKING_RANK[to] >= TRACKING_RANK[current]


@transaction.atomic
def shipment_record_tracking(*, shipment: Shipment, update: TrackingUpdate, source: str = "webhook",
                             delay_reason: str = "", advance: bool = True) -> TrackingEvent | None:
    """Store one checkpoint once; move the shipment forward only; react to ETA changes.

    ``advance=False`` stores the checkpoint without moving the shipment: the older checkpoints of
    a backlog, so a batch raises one notification for where the parcel is now, not one per missed
    step. A replayed checkpoint changes nothing, except that its ETA still applies when the
    carrier stated it after the ETA we hold (an ETA revision without a new scan).
    Returns the stored TrackingEvent, or None when it was a replay.
    """
    locked = Shipment.objects.select_for_update().select_related("order").get(pk=shipment.pk)
    tracking_event, created = TrackingEvent.objects.get_or_create(
        shipment=locked, dedupe_key=update.dedupe_key[:128],
        defaults={"status": update.status, "occurred_at": update.occurred_at, "message": update.message[:300],
                  "location": update.location[:200], "source": source, "raw": update.raw or {}},
    )
    order = locked.order
    fields = []
    moves_forward = False
    if created:
        order_event_add(order=order, kind=OrderEvent.Kind.TRACKING, actor=locked.carrier_name or locked.carrier,
                        to_status=update.status, note=" · ".join(x for x in [update.message, update.location] if x),
                        data={"shipment_id": locked.pk, "tracking_event_id": tracking_event.pk,
                              "occurred_at": update.occurred_at.isoformat()})
        # Out-of-order delivery: only the newest checkpoint can move the shipment, and only forward.
        is_newer = locked.last_event_at is None or update.occurred_at >= locked.last_event_at
        moves_forward = advance and is_newer and _tracking_moves_forward(locked.status, update.status)
        if is_newer:
            locked.last_event_at = update.occurred_at
            fields.append("last_event_at")
        if moves_forward:
            from_status = locked.status
            locked.status = update.status
            fields.append("status")
            if update.status == TrackingStatus.DELIVERED:
                locked.delivered_at = update.occurred_at
                fields.append("delivered_at")
    old_eta = locked.eta
    eta_as_of = update.eta_as_of or update.occurred_at
    eta_is_current = locked.eta_updated_at is None or eta_as_of >= locked.eta_updated_at
    if update.eta and eta_is_current and locked.status not in TRACKING_FINAL:
        if update.eta != old_eta:
            locked.eta = update.eta
            fields.append("eta")
        if eta_as_of != locked.eta_updated_at:
            locked.eta_updated_at = eta_as_of
            fields.append("eta_updated_at")
    if fields:
        locked.save(update_fields=fields)

    if moves_forward:
        status_event = order_event_add(order=order, kind=OrderEvent.Kind.SHIPMENT, actor="carrier",
                                       from_status=from_status, to_status=locked.status, note=update.message,
                                       data={"shipment_id": locked.pk})
        signals.shipment_status_changed.send(sender=Shipment, shipment=locked, order=order, from_status=from_status,
                                             to_status=locked.status, tracking_event=tracking_event,
                                             event=status_event, reason=delay_reason or update.message)
        if locked.status == TrackingStatus.DELIVERED and order.status == OrderStatus.SHIPPED:
            order_transition(order=order, to=OrderStatus.COMPLETED, actor="carrier", note="Delivered")
    if "eta" in fields:
        reason = delay_reason or update.message
        eta_event = order_event_add(order=order, kind=OrderEvent.Kind.SHIPMENT, actor="carrier",
                                    note=f"ETA changed from {old_eta or 'none'} to {locked.eta}",
                                    data={"shipment_id": locked.pk, "old_eta": old_eta.isoformat() if old_eta else None,
                                          "new_eta": locked.eta.isoformat()})
        if locked.eta and (order.estimated_delivery is None or locked.eta != order.estimated_delivery):
            order.estimated_delivery = locked.eta
            order.save(update_fields=["estimated_delivery", "updated_at"])
        signals.shipment_eta_changed.send(sender=Shipment, shipment=locked, order=order, old_eta=old_eta,
                                          new_eta=locked.eta, reason=reason, event=eta_event)
    return tracking_event if created else None


@transaction.atomic
def return_set_status(*, return_request: ReturnRequest, to: str, actor=None, note: str = "") -> ReturnRequest:
    locked = ReturnRequest.objects.select_for_update().get(pk=return_request.pk)
    current = locked.status
    if to not in ReturnRequest.TRANSITIONS[current]:
        raise TransitionNotAllowed(current, to, what="return")
    if to == ReturnRequest.Status.APPROVED:
        address = (locked.order.store.return_address or "").strip()
        if not address:
            raise ValueError("Add your store's return address (Branding) before approving a return: "
                             "the customer needs to know where to send it.")
        locked.return_address = address
    locked.status = to
    if to == ReturnRequest.Status.REJECTED:
        locked.rejection_reason = note[:200]
    locked.save(update_fields=["status", "rejection_reason", "return_address", "updated_at"])
    event = order_event_add(order=locked.order, kind=OrderEvent.Kind.RETURN, actor=actor, from_status=current,
                            to_status=to, note=note, data={"return_id": locked.pk, "number": locked.number})
    signals.return_status_changed.send(sender=ReturnRequest, return_request=locked, order=locked.order,
                                       from_status=current, to_status=to, actor=actor, event=event)
    return_request.status = locked.status
    return locked


@transaction.atomic
def return_request_create(*, order: Order, lines, reason: str, actor=None) -> ReturnRequest:
    if order.status != OrderStatus.COMPLETED:
        raise TransitionNotAllowed(order.status, "return requested", what="order (returns open after delivery)")
    lines = list(lines)
    if not lines:
        raise ValueError("Choose at least one item to return.")
    rr = ReturnRequest.objects.create(order=order, reason=reason,
                                      refund_amount=sum((line.line_total for line in lines), start=0))
    rr.lines.set(lines)
    event = order_event_add(order=order, kind=OrderEvent.Kind.RETURN, actor=actor, to_status="requested",
                            note=reason, data={"return_id": rr.pk, "number": rr.number})
    signals.return_status_changed.send(sender=ReturnRequest, return_request=rr, order=order, from_status="",
                                       to_status=ReturnRequest.Status.REQUESTED, actor=actor, event=event)
    return rr
