"""Reads for the API: every queryset here is scoped to the API key's store."""
import hmac
import re

from django.db.models import Prefetch

from catalog.models import Product
from notifications.models import Notification
from orders.models import Order, OrderEvent, Shipment, TrackingEvent

from .models import ApiKey
from .services import TOKEN_PREFIX, hash_token

TOKEN_RE = re.compile(r"^nsk_([0-9a-f]{12})_[A-Za-z0-9_-]{20,80}$")
ORDER_NUMBER_RE = re.compile(r"^NS-[0-9A-Z]{4}-[0-9A-Z]{4}$")


def api_key_for_token(token: str) -> ApiKey | None:
    """The active key whose secret is ``token``, or None (constant-time comparison of the hashes)."""
    match = TOKEN_RE.match(token or "")
    if not match or not token.startswith(TOKEN_PREFIX):
        return None
    key = ApiKey.objects.select_related("store").filter(prefix=match.group(1), revoked_at__isnull=True).first()
    if key is None or not hmac.compare_digest(key.key_hash, hash_token(token)):
        return None
    return key


def store_api_keys(store):
    return ApiKey.objects.filter(store=store).select_related("created_by").order_by("revoked_at", "-created_at")


def api_orders(*, store, status: str = "", placed_after=None, placed_before=None):
    qs = Order.objects.filter(store=store)
    if status:
        qs = qs.filter(status=status)
    if placed_after:
        qs = qs.filter(placed_at__gte=placed_after)
    if placed_before:
        qs = qs.filter(placed_at__lt=placed_before)
    return qs.prefetch_related("payments")


def api_order(*, store, number: str) -> Order:
    """One of the store's orders by number; Order.DoesNotExist for anything else (another store's too)."""
    if not ORDER_NUMBER_RE.match(number or ""):
        raise Order.DoesNotExist
    return (Order.objects.filter(store=store, number=number)
            .prefetch_related("lines", "payments",
                              Prefetch("shipments", queryset=Shipment.objects.prefetch_related(
                                  Prefetch("tracking_events", queryset=TrackingEvent.objects.order_by("occurred_at")))),
                              Prefetch("events", queryset=OrderEvent.objects.order_by("created_at", "id")))
            .get())


def api_shipment(*, store, shipment_id: int) -> Shipment:
    return Shipment.objects.select_related("order").get(pk=shipment_id, order__store=store)


def api_order_notifications(*, order: Order):
    return Notification.objects.filter(order=order).order_by("created_at", "id")


def api_products(*, store):
    return Product.objects.filter(store=store)


def api_product(*, store, product_id: int) -> Product:
    return Product.objects.get(pk=product_id, store=store)
