"""What the API reads and writes. Outputs are plain shapes; inputs are validated before a service runs."""
from rest_framework import serializers

from catalog.models import Product
from notifications.models import Notification
from orders.carriers import CARRIER_CHOICES
from orders.models import Order, OrderEvent, OrderLine, OrderStatus, Payment, Shipment, TrackingEvent, TrackingStatus

MAX_STOCK = 1_000_000


class LineSerializer(serializers.ModelSerializer):
    line_total = serializers.DecimalField(max_digits=12, decimal_places=2, read_only=True)
    product_id = serializers.IntegerField(allow_null=True, read_only=True)

    class Meta:
        model = OrderLine
        fields = ["id", "product_id", "product_name", "sku", "unit_price", "quantity", "line_total", "is_backordered"]


class PaymentSerializer(serializers.ModelSerializer):
    class Meta:
        model = Payment
        fields = ["id", "method", "status", "amount", "card_last4", "reference", "failure_reason", "created_at",
                  "updated_at"]


class CheckpointSerializer(serializers.ModelSerializer):
    class Meta:
        model = TrackingEvent
        fields = ["id", "dedupe_key", "status", "occurred_at", "message", "location", "source"]


class ShipmentSerializer(serializers.ModelSerializer):
    checkpoints = CheckpointSerializer(source="tracking_events", many=True, read_only=True)

    class Meta:
        model = Shipment
        fields = ["id", "carrier", "carrier_name", "tracking_number", "tracking_url", "status", "eta", "shipped_at",
                  "delivered_at", "checkpoints"]


class TimelineSerializer(serializers.ModelSerializer):
    class Meta:
        model = OrderEvent
        fields = ["id", "created_at", "kind", "actor_label", "from_status", "to_status", "note"]


class OrderSummarySerializer(serializers.ModelSerializer):
    payment_status = serializers.SerializerMethodField()

    class Meta:
        model = Order
        fields = ["number", "status", "placed_at", "updated_at", "email", "shipping_name", "currency", "total",
                  "payment_status", "is_backordered", "estimated_delivery"]

    def get_payment_status(self, order) -> str | None:
        payments = list(order.payments.all())
        return payments[0].status if payments else None


class AddressSerializer(serializers.Serializer):
    name = serializers.CharField(source="shipping_name")
    line1 = serializers.CharField(source="shipping_line1")
    line2 = serializers.CharField(source="shipping_line2")
    city = serializers.CharField(source="shipping_city")
    postcode = serializers.CharField(source="shipping_postcode")
    country = serializers.CharField(source="shipping_country")


class OrderDetailSerializer(OrderSummarySerializer):
    shipping_address = AddressSerializer(source="*", read_only=True)
    lines = LineSerializer(many=True, read_only=True)
    payments = PaymentSerializer(many=True, read_only=True)
    shipments = ShipmentSerializer(many=True, read_only=True)
    timeline = TimelineSerializer(source="events", many=True, read_only=True)
    allowed_transitions = serializers.SerializerMethodField()

    class Meta(OrderSummarySerializer.Meta):
        fields = OrderSummarySerializer.Meta.fields + [
            "phone", "shipping_method", "shipping_address", "subtotal", "shipping_total", "tax_total", "hold_reason",
            "cancel_reason", "customer_note", "lines", "payments", "shipments", "timeline", "allowed_transitions"]

    def get_allowed_transitions(self, order) -> list[str]:
        from orders.models import ORDER_TRANSITIONS

        return sorted(ORDER_TRANSITIONS.get(order.status, ()))


class OrderFilterSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=OrderStatus.choices, required=False)
    placed_after = serializers.DateTimeField(required=False, help_text="Placed at or after (ISO 8601)")
    placed_before = serializers.DateTimeField(required=False, help_text="Placed before (ISO 8601)")


class StatusChangeSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=[c for c in OrderStatus.choices if c[0] != OrderStatus.SHIPPED],
                                     help_text="To ship, create a shipment instead.")
    note = serializers.CharField(required=False, allow_blank=True, max_length=500, default="")


class ShipmentCreateSerializer(serializers.Serializer):
    carrier = serializers.ChoiceField(choices=CARRIER_CHOICES)
    carrier_name = serializers.CharField(required=False, allow_blank=True, max_length=64, default="")
    tracking_number = serializers.RegexField(r"^[A-Za-z0-9][A-Za-z0-9 -]{2,62}[A-Za-z0-9]$", max_length=64)
    tracking_url = serializers.URLField(required=False, allow_blank=True, max_length=200, default="")
    eta = serializers.DateField(required=False, allow_null=True, default=None)


class CheckpointCreateSerializer(serializers.Serializer):
    id = serializers.CharField(max_length=128, help_text="Your id for this scan: the same id is stored once")
    status = serializers.ChoiceField(choices=TrackingStatus.choices)
    occurred_at = serializers.DateTimeField()
    message = serializers.CharField(required=False, allow_blank=True, max_length=300, default="")
    location = serializers.CharField(required=False, allow_blank=True, max_length=200, default="")
    eta = serializers.DateField(required=False, allow_null=True, default=None)


class CheckpointResultSerializer(serializers.Serializer):
    stored = serializers.BooleanField(help_text="False when this id was already stored (a replay)")
    shipment = ShipmentSerializer()


class NotificationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Notification
        fields = ["id", "event", "audience", "channel", "recipient_address", "status", "status_reason", "attempts",
                  "created_at", "sent_at", "delivered_at"]


class ProductSerializer(serializers.ModelSerializer):
    class Meta:
        model = Product
        fields = ["id", "name", "sku", "price", "stock_on_hand", "allow_backorder", "low_stock_threshold",
                  "restock_lead_days", "active", "updated_at"]


class StockSetSerializer(serializers.Serializer):
    stock_on_hand = serializers.IntegerField(min_value=-MAX_STOCK, max_value=MAX_STOCK)


class RestockSerializer(serializers.Serializer):
    quantity = serializers.IntegerField(min_value=1, max_value=MAX_STOCK)
