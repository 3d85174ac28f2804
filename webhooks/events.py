"""The event types a seller's endpoint can subscribe to, and the JSON each one carries.

Payloads follow the Standard Webhooks recommendation: ``{"type", "timestamp", "data"}``.
"""
from datetime import UTC, datetime

WEBHOOK_EVENTS = {
    "order.created": "An order was placed",
    "order.status_changed": "An order changed status (processing, on hold, shipped, completed, cancelled, refunded)",
    "payment.status_changed": "A payment was captured, failed or refunded",
    "shipment.created": "A shipment was created (carrier and tracking number)",
    "shipment.status_changed": "A shipment moved on (in transit, out for delivery, delivered, exception)",
    "shipment.eta_changed": "A carrier changed a delivery estimate",
    "return.status_changed": "A return was requested, approved, received, refunded or rejected",
}
PING = "webhook.ping"
EVENT_CHOICES = list(WEBHOOK_EVENTS.items())


def order_data(order) -> dict:
    return {"number": order.number, "status": order.status, "currency": order.currency, "total": str(order.total),
            "placed_at": order.placed_at.isoformat() if order.placed_at else None,
            "estimated_delivery": order.estimated_delivery.isoformat() if order.estimated_delivery else None}


def shipment_data(shipment) -> dict:
    return {"id": shipment.pk, "carrier": shipment.carrier, "carrier_name": shipment.carrier_name,
            "tracking_number": shipment.tracking_number, "tracking_url": shipment.tracking_url,
            "status": shipment.status, "eta": shipment.eta.isoformat() if shipment.eta else None}


def envelope(event_type: str, data: dict, now: datetime | None = None) -> dict:
    now = now or datetime.now(tz=UTC)
    return {"type": event_type, "timestamp": now.astimezone(UTC).isoformat().replace("+00:00", "Z"), "data": data}
