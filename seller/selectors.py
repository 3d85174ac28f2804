"""Reads for the seller dashboard: what may be done to an order now."""
from orders.models import Order, OrderStatus, Payment, ReturnRequest, TrackingStatus

from .services import amount_due

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
    if amount_due(order, payments) > 0:
        actions["mark_paid"] = ACTION_LABELS["mark_paid"]
    if order.can_transition_to(OrderStatus.ON_HOLD):
        actions["hold"] = ACTION_LABELS["hold"]
    shipments = list(order.shipments.all())  # prefetched, newest first
    came_back = status == OrderStatus.SHIPPED and bool(shipments) and shipments[0].status == TrackingStatus.RETURNED
    if order.can_transition_to(OrderStatus.SHIPPED):
        actions["ship"] = ACTION_LABELS["ship"]
    if came_back:
        # The parcel is back at the shop: send it again, refund, or cancel; there is nothing to deliver.
        actions["ship"] = "Reship (new shipment)"
    elif status == OrderStatus.SHIPPED:
        actions["deliver"] = ACTION_LABELS["deliver"]
    if status in (OrderStatus.PENDING, OrderStatus.PROCESSING, OrderStatus.ON_HOLD):
        actions["backorder"] = "Change backorder date" if order.is_backordered else ACTION_LABELS["backorder"]
    shipped_ok = status != OrderStatus.SHIPPED or came_back
    if order.can_transition_to(OrderStatus.CANCELLED) and shipped_ok:
        actions["cancel"] = ACTION_LABELS["cancel"]
    if order.can_transition_to(OrderStatus.REFUNDED) and shipped_ok and any(
            p.status == Payment.Status.CAPTURED for p in payments):
        actions["refund"] = ACTION_LABELS["refund"]
    return actions


def return_actions(order: Order) -> dict[int, dict[str, str]]:
    """{return id: {to_status: label}} for each of the order's returns (prefetched)."""
    return {
        rr.pk: {to: RETURN_ACTION_LABELS[to] for to in
                [s for s in RETURN_ACTION_LABELS if s in ReturnRequest.TRANSITIONS[rr.status]]}
        for rr in order.returns.all()
    }


def seller_alert_grid(store) -> list[dict]:
    """Rows for the seller's alert settings: one per seller-facing event, each channel either
    ``{"offered": False}`` (the platform doesn't send this alert on that channel, so there is
    nothing to switch) or ``{"offered": True, "enabled": bool}``.

    It mirrors what notifications.outbox does when it sends: the platform's channels for the
    event (PlatformEventSetting, else the catalogue default), minus the channels the store
    switched off. Two queries whatever the number of events.
    """
    from notifications.events import DIGEST_EVENTS, EVENTS, MESSAGE_CHANNELS, SELLER_OPT_IN_CHANNELS
    from notifications.models import PlatformEventSetting, SellerNotificationSetting

    platform = {row.event: row for row in PlatformEventSetting.objects.all()}
    stored = list(SellerNotificationSetting.objects.filter(store=store))
    saved = {(s.event, s.channel): s.enabled for s in stored}
    digests = {(s.event, s.channel): s.digest_minutes for s in stored}
    rows = []
    for code, event in EVENTS.items():
        if not event.seller_channels or code in DIGEST_EVENTS.values():
            continue  # a digest follows its alert's switches (notifications.digest)
        row = platform.get(code)
        if row is None:
            event_on, offered = True, set(event.seller_channels)
        else:
            event_on, offered = row.enabled, set(row.seller_channels)
        channels = {}
        for ch in MESSAGE_CHANNELS:
            if event_on and ch.value in offered:
                channels[ch.value] = {"offered": True,
                                      "enabled": saved.get((code, ch.value), ch.value not in SELLER_OPT_IN_CHANNELS)}
                if code in DIGEST_EVENTS:  # each alert, or one digest every N minutes
                    channels[ch.value]["digest"] = digests.get((code, ch.value), 0)
            else:
                channels[ch.value] = {"offered": False, "enabled": False}
        rows.append({"event": code, "label": event.label, "platform_off": not event_on, "channels": channels})
    return rows


def seller_alert_offered(event: str, channel: str) -> bool:
    """Whether the platform sends ``event`` to sellers on ``channel`` at all (what a toggle can change)."""
    from notifications.events import EVENTS
    from notifications.models import PlatformEventSetting

    definition = EVENTS.get(event)
    if definition is None or not definition.seller_channels:
        return False
    row = PlatformEventSetting.objects.filter(event=event).first()
    if row is None:
        return channel in definition.seller_channels
    return row.enabled and channel in row.seller_channels
