"""Domain signals, sent by orders.services after the state change (inside its transaction).

Receivers (notifications.receivers) write outbox rows in the same transaction.
Every signal is sent with sender=<model class> and these keyword arguments:
"""
from django.dispatch import Signal

# order, event (OrderEvent), actor
order_placed = Signal()
# order, from_status, to_status, actor, note, event (OrderEvent), at_checkout (bool)
order_status_changed = Signal()
# payment, order, from_status, to_status, event
payment_status_changed = Signal()
# order, lines (list[OrderLine]), expected (date|None), event
order_backordered = Signal()
# shipment, order, event, reship (a new shipment was created; order_status_changed to shipped follows,
# except for a reship after a parcel came back: the order is already shipped)
shipment_created = Signal()
# shipment, order, from_status, to_status, tracking_event (TrackingEvent|None), event,
# reason (the carrier's message for this checkpoint, e.g. why an exception happened)
shipment_status_changed = Signal()
# shipment, order, old_eta, new_eta, reason, event
shipment_eta_changed = Signal()
# return_request, order, from_status, to_status, actor, event
return_status_changed = Signal()
# order, event (OrderEvent), pay_by (datetime): an unpaid order is reminded before it is cancelled
order_payment_reminder = Signal()
# payment, order, amount (Decimal refunded now), full (bool), event  (a refund that did not move the
# order to refunded: partial, or an order whose status cannot become refunded)
payment_refunded = Signal()
# order, step (orders.sla: 1 = sellers alerted, 2 = escalated to staff), event (OrderEvent), ship_by
order_sla_missed = Signal()
# message (OrderMessage), order: a customer's question or a seller's message about an order
order_message_posted = Signal()
