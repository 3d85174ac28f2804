"""Domain signals -> one webhook outbox row per subscribed endpoint (in the change's transaction)."""
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from orders import signals

from .events import order_data, shipment_data
from .models import WebhookEndpoint
from .services import store_webhook_events_refresh, webhook_enqueue


@receiver(post_save, sender=WebhookEndpoint, dispatch_uid="webhooks.endpoint_saved")
@receiver(post_delete, sender=WebhookEndpoint, dispatch_uid="webhooks.endpoint_deleted")
def on_endpoint_changed(sender, instance, **kwargs):
    """Every save or delete of an endpoint (forms, admin, API, a store deleted) rewrites the
    store's list of wanted event types in the same transaction (``Store.webhook_events``)."""
    store_webhook_events_refresh(instance.store_id)


def _key(event_type, event) -> str:
    return f"webhook:{event_type}:oe{event.pk}"


@receiver(signals.order_placed, dispatch_uid="webhooks.order_placed")
def on_order_placed(sender, order, event, **kwargs):
    def data():
        lines = [{"sku": line.sku, "name": line.product_name, "quantity": line.quantity,
                  "unit_price": str(line.unit_price)} for line in order.lines.all()]
        return {"order": order_data(order) | {"lines": lines}}
    webhook_enqueue(store_id=order.store_id, event_type="order.created", event_key=_key("order.created", event),
                    order=order, data=data)


@receiver(signals.order_status_changed, dispatch_uid="webhooks.order_status_changed")
def on_order_status_changed(sender, order, from_status, to_status, event, note="", **kwargs):
    webhook_enqueue(store_id=order.store_id, event_type="order.status_changed",
                    event_key=_key("order.status_changed", event), order=order,
                    data=lambda: {"order": order_data(order), "from_status": from_status, "to_status": to_status,
                          "note": note, "actor": event.actor_label})


@receiver(signals.payment_status_changed, dispatch_uid="webhooks.payment_status_changed")
def on_payment_status_changed(sender, payment, order, from_status, to_status, event, **kwargs):
    webhook_enqueue(store_id=order.store_id, event_type="payment.status_changed",
                    event_key=_key("payment.status_changed", event), order=order,
                    data=lambda: {"order": order_data(order), "payment": {"id": payment.pk, "method": payment.method,
                                                                  "amount": str(payment.amount),
                                                                  "reason": payment.failure_reason},
                          "from_status": from_status, "to_status": to_status})


@receiver(signals.shipment_created, dispatch_uid="webhooks.shipment_created")
def on_shipment_created(sender, shipment, order, event, **kwargs):
    webhook_enqueue(store_id=order.store_id, event_type="shipment.created",
                    event_key=_key("shipment.created", event), order=order,
                    data=lambda: {"order": order_data(order), "shipment": shipment_data(shipment)})


@receiver(signals.shipment_status_changed, dispatch_uid="webhooks.shipment_status_changed")
def on_shipment_status_changed(sender, shipment, order, from_status, to_status, event, tracking_event=None,
                               **kwargs):
    checkpoint = None
    if tracking_event is not None:
        checkpoint = {"status": tracking_event.status, "message": tracking_event.message,
                      "location": tracking_event.location, "occurred_at": tracking_event.occurred_at.isoformat()}
    webhook_enqueue(store_id=order.store_id, event_type="shipment.status_changed",
                    event_key=_key("shipment.status_changed", event), order=order,
                    data=lambda: {"order": order_data(order), "shipment": shipment_data(shipment),
                          "from_status": from_status, "to_status": to_status, "checkpoint": checkpoint})


@receiver(signals.shipment_eta_changed, dispatch_uid="webhooks.shipment_eta_changed")
def on_shipment_eta_changed(sender, shipment, order, old_eta, new_eta, reason, event, **kwargs):
    webhook_enqueue(store_id=order.store_id, event_type="shipment.eta_changed",
                    event_key=_key("shipment.eta_changed", event), order=order,
                    data=lambda: {"order": order_data(order), "shipment": shipment_data(shipment),
                          "old_eta": old_eta.isoformat() if old_eta else None,
                          "new_eta": new_eta.isoformat() if new_eta else None, "reason": reason})


@receiver(signals.return_status_changed, dispatch_uid="webhooks.return_status_changed")
def on_return_status_changed(sender, return_request, order, from_status, to_status, event, **kwargs):
    webhook_enqueue(store_id=order.store_id, event_type="return.status_changed",
                    event_key=_key("return.status_changed", event), order=order,
                    data=lambda: {"order": order_data(order), "return": {"number": return_request.number,
                                                                 "refund_amount": str(return_request.refund_amount)},
                          "from_status": from_status, "to_status": to_status})
