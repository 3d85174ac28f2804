"""Orders, their lines, payments, shipments, tracking events, returns and the timeline.

No I/O and no side effects here: every change goes through ``orders.services``.
"""
import secrets

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.urls import reverse

# Crockford base32 without look-alikes: order numbers can't be guessed by counting.
NUMBER_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def new_order_number() -> str:
    body = "".join(secrets.choice(NUMBER_ALPHABET) for _ in range(8))
    return f"NS-{body[:4]}-{body[4:]}"


def new_return_number() -> str:
    return "RT-" + "".join(secrets.choice(NUMBER_ALPHABET) for _ in range(8))


class OrderStatus(models.TextChoices):
    PENDING = "pending", _("Pending payment")
    PROCESSING = "processing", _("Processing")
    ON_HOLD = "on_hold", _("On hold")
    SHIPPED = "shipped", _("Shipped")
    COMPLETED = "completed", _("Completed")
    CANCELLED = "cancelled", _("Cancelled")
    REFUNDED = "refunded", _("Refunded")


S = OrderStatus
# The one transition table (SPEC section 3). Anything not listed is forbidden.
ORDER_TRANSITIONS: dict[str, frozenset[str]] = {
    S.PENDING: frozenset({S.PROCESSING, S.ON_HOLD, S.CANCELLED}),
    S.PROCESSING: frozenset({S.SHIPPED, S.ON_HOLD, S.CANCELLED, S.REFUNDED}),
    S.ON_HOLD: frozenset({S.PROCESSING, S.CANCELLED, S.REFUNDED}),
    # Cancelled or refunded only when the parcel came back (orders.services.parcel_came_back).
    S.SHIPPED: frozenset({S.COMPLETED, S.CANCELLED, S.REFUNDED}),
    S.COMPLETED: frozenset({S.REFUNDED}),
    S.CANCELLED: frozenset({S.REFUNDED}),
    S.REFUNDED: frozenset(),
}


class Order(models.Model):
    class ShippingMethod(models.TextChoices):
        STANDARD = "standard", _("Standard (3–5 working days)")
        EXPRESS = "express", _("Express (1–2 working days)")

    number = models.CharField(max_length=16, unique=True, default=new_order_number, editable=False)
    # customer and store are indexed by the composite indexes in Meta that start with them: an
    # order's status change is not a HOT update, so each index takes a new entry on every change.
    customer = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="orders", db_index=False)
    email = models.EmailField(help_text="Where the customer's messages go (guests too).")
    phone = models.CharField(max_length=20, blank=True, help_text="E.164")
    sms_opt_in = models.BooleanField(default=False)
    # Chosen at checkout (preselected from the browser): every message about this order, a guest's too.
    language = models.CharField(max_length=8, choices=settings.LANGUAGES, default="en")
    whatsapp_opt_in = models.BooleanField(default=False)
    store = models.ForeignKey("catalog.Store", on_delete=models.PROTECT, related_name="orders", db_index=False)
    checkout_id = models.UUIDField(db_index=True, help_text="Orders placed in one checkout share this.")
    status = models.CharField(max_length=16, choices=OrderStatus.choices, default=OrderStatus.PENDING)

    currency = models.CharField(max_length=3, default="GBP")
    subtotal = models.DecimalField(max_digits=12, decimal_places=2)
    # A promotion code redeemed at checkout (marketing.Promotion.code): once per order; the
    # discount is taken off the eligible lines before shipping, and subtotal is before it.
    promo_code = models.CharField(max_length=32, blank=True)
    discount_total = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    shipping_total = models.DecimalField(max_digits=12, decimal_places=2)
    tax_total = models.DecimalField(max_digits=12, decimal_places=2)
    total = models.DecimalField(max_digits=12, decimal_places=2)

    shipping_name = models.CharField(max_length=120)
    shipping_line1 = models.CharField(max_length=200)
    shipping_line2 = models.CharField(max_length=200, blank=True)
    shipping_city = models.CharField(max_length=100)
    shipping_postcode = models.CharField(max_length=20)
    shipping_country = models.CharField(max_length=2, default="GB")
    shipping_method = models.CharField(max_length=16, choices=ShippingMethod.choices,
                                       default=ShippingMethod.STANDARD)
    estimated_delivery = models.DateField(null=True, blank=True)

    is_backordered = models.BooleanField(default=False)
    backorder_expected = models.DateField(null=True, blank=True)
    hold_reason = models.CharField(max_length=200, blank=True)
    cancel_reason = models.CharField(max_length=200, blank=True)
    customer_note = models.TextField(blank=True)

    placed_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Shipping deadline (orders.sla): set when the order is first ready to ship (processing).
    ship_by = models.DateTimeField(null=True, blank=True)
    sla_step = models.PositiveSmallIntegerField(default=0, help_text="0: on time; 1: sellers alerted; 2: staff alerted.")
    sla_due_at = models.DateTimeField(null=True, blank=True, help_text="When the next SLA alert is due.")

    class Meta:
        ordering = ["-placed_at"]
        indexes = [
            models.Index(fields=["store", "status", "-placed_at"], name="order_store_status_placed"),
            models.Index(fields=["store", "-placed_at"], name="order_store_placed"),
            models.Index(fields=["customer", "-placed_at"], name="order_customer_placed"),
            models.Index(fields=["email"], name="order_email"),
            # Seller list sorts (by total / customer name) within a store, with or without a status tab.
            models.Index(fields=["store", "total"], name="order_store_total"),
            models.Index(fields=["store", "status", "total"], name="order_store_status_total"),
            models.Index(fields=["store", "shipping_name"], name="order_store_name"),
            # The seller list's Late tab, and the beat scan for SLA alerts (orders.sla): only open
            # orders are in them, so shipped and cancelled ones cost nothing.
            models.Index(fields=["store", "ship_by"], name="order_store_late",
                         condition=models.Q(status__in=["processing", "on_hold"], ship_by__isnull=False)),
            models.Index(fields=["sla_due_at"], name="order_sla_due",
                         condition=models.Q(status__in=["processing", "on_hold"], sla_due_at__isnull=False)),
        ]

    def __str__(self):
        return self.number

    def get_absolute_url(self):
        return reverse("accounts:order_detail", args=[self.number])

    @property
    def is_late(self) -> bool:
        """Not shipped by its ship-by time (orders.sla); False once shipped or cancelled."""
        from django.utils import timezone

        return (self.ship_by is not None and self.status in (OrderStatus.PROCESSING, OrderStatus.ON_HOLD)
                and self.ship_by <= timezone.now())

    def can_transition_to(self, to: str) -> bool:
        return to in ORDER_TRANSITIONS.get(self.status, frozenset())

    @property
    def shipping_address_lines(self) -> list[str]:
        return [x for x in [self.shipping_name, self.shipping_line1, self.shipping_line2,
                            f"{self.shipping_city} {self.shipping_postcode}".strip(),
                            self.shipping_country] if x]


class OrderLine(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    product = models.ForeignKey("catalog.Product", null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="order_lines")
    # Snapshot: what the customer bought, whatever happens to the product later.
    product_name = models.CharField(max_length=200)
    sku = models.CharField(max_length=64)
    unit_price = models.DecimalField(max_digits=10, decimal_places=2)
    quantity = models.PositiveIntegerField()
    is_backordered = models.BooleanField(default=False)

    class Meta:
        ordering = ["id"]

    @property
    def line_total(self):
        return self.unit_price * self.quantity

    def __str__(self):
        return f"{self.quantity} × {self.product_name}"


class Payment(models.Model):
    class Method(models.TextChoices):
        CARD = "card", _("Card")
        COD = "cod", _("Cash on delivery")
        MANUAL = "manual", _("Received by the store")

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        CAPTURED = "captured", _("Captured")
        FAILED = "failed", _("Failed")
        PARTIALLY_REFUNDED = "partially_refunded", _("Partly refunded")
        REFUNDED = "refunded", _("Refunded")

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="payments")
    method = models.CharField(max_length=8, choices=Method.choices)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    refunded_amount = models.DecimalField(max_digits=12, decimal_places=2, default=0,
                                          help_text="Given back so far (returns, cancellation)")
    card_last4 = models.CharField(max_length=4, blank=True)
    reference = models.CharField(max_length=255, blank=True, help_text="Gateway reference")
    failure_reason = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.order.number} {self.get_method_display()} {self.status}"


class TrackingStatus(models.TextChoices):
    LABEL_CREATED = "label_created", _("Label created")
    IN_TRANSIT = "in_transit", _("In transit")
    OUT_FOR_DELIVERY = "out_for_delivery", _("Out for delivery")
    DELIVERED = "delivered", _("Delivered")
    EXCEPTION = "exception", _("Exception")
    RETURNED = "returned", _("Returned to sender")


# Progress order: a tracking update never moves a shipment to a lower rank
# (exception sits beside in transit: it can be followed by any forward status).
TRACKING_RANK = {
    TrackingStatus.LABEL_CREATED: 0,
    TrackingStatus.IN_TRANSIT: 1,
    TrackingStatus.EXCEPTION: 1,
    TrackingStatus.OUT_FOR_DELIVERY: 2,
    TrackingStatus.DELIVERED: 3,
    TrackingStatus.RETURNED: 3,
}
TRACKING_FINAL = frozenset({TrackingStatus.DELIVERED, TrackingStatus.RETURNED})


class Shipment(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="shipments")
    carrier = models.CharField(max_length=32, help_text="Carrier code, e.g. simulated, easypost, aftership")
    carrier_name = models.CharField(max_length=64, blank=True, help_text="Human name, e.g. Royal Mail")
    tracking_number = models.CharField(max_length=64)
    tracking_url = models.URLField(blank=True)
    status = models.CharField(max_length=20, choices=TrackingStatus.choices, default=TrackingStatus.LABEL_CREATED)
    eta = models.DateField(null=True, blank=True)
    eta_updated_at = models.DateTimeField(null=True, blank=True,
                                          help_text="When the carrier stated the current ETA (older statements never win)")
    shipped_at = models.DateTimeField(auto_now_add=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    last_event_at = models.DateTimeField(null=True, blank=True)
    last_polled_at = models.DateTimeField(null=True, blank=True)
    next_poll_at = models.DateTimeField(null=True, blank=True, db_index=True)

    class Meta:
        ordering = ["-shipped_at"]
        constraints = [
            models.UniqueConstraint(fields=["carrier", "tracking_number"], name="shipment_tracking_unique"),
        ]

    def __str__(self):
        return f"{self.carrier_name or self.carrier} {self.tracking_number}"

    @property
    def is_final(self) -> bool:
        return self.status in TRACKING_FINAL


class TrackingEvent(models.Model):
    """One carrier checkpoint, stored once (dedupe_key) whatever order it arrives in."""

    shipment = models.ForeignKey(Shipment, on_delete=models.CASCADE, related_name="tracking_events")
    dedupe_key = models.CharField(max_length=128, help_text="Carrier event id or checkpoint identity")
    status = models.CharField(max_length=20, choices=TrackingStatus.choices)
    occurred_at = models.DateTimeField()
    message = models.CharField(max_length=300, blank=True)
    location = models.CharField(max_length=200, blank=True)
    source = models.CharField(max_length=16, default="webhook", help_text="webhook, poll, simulated, manual")
    raw = models.JSONField(default=dict, blank=True)
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["occurred_at"]
        constraints = [
            models.UniqueConstraint(fields=["shipment", "dedupe_key"], name="tracking_event_once"),
        ]


class CarrierWebhookLog(models.Model):
    """One accepted (signed, well-formed) carrier webhook and what became of it.

    Requests with a bad signature or body are refused before anything is written (only logged).
    """

    class Outcome(models.TextChoices):
        PROCESSED = "processed", "Processed"
        DUPLICATE = "duplicate", "Duplicate (already processed)"
        UNKNOWN_TRACKING = "unknown_tracking", "Unknown tracking number"
        IGNORED = "ignored", "Ignored event type"

    carrier = models.CharField(max_length=32)
    event_id = models.CharField(max_length=128, blank=True, help_text="The carrier's id for this delivery")
    event_type = models.CharField(max_length=64, blank=True)
    tracking_numbers = models.CharField(max_length=300, blank=True)
    outcome = models.CharField(max_length=20, choices=Outcome.choices)
    checkpoints_stored = models.PositiveIntegerField(default=0)
    detail = models.CharField(max_length=300, blank=True)
    payload = models.JSONField(default=dict, blank=True)
    received_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-received_at"]
        indexes = [models.Index(fields=["carrier", "event_id"], name="carrier_webhook_event")]

    def __str__(self):
        return f"{self.carrier} {self.event_id or self.tracking_numbers} {self.outcome}"


class OrderEvent(models.Model):
    """The order's timeline: who did what, when, from which status to which."""

    class Kind(models.TextChoices):
        PLACED = "placed", "Order placed"
        STATUS = "status", "Status changed"
        PAYMENT = "payment", "Payment"
        SHIPMENT = "shipment", "Shipment"
        TRACKING = "tracking", "Tracking update"
        BACKORDER = "backorder", "Backorder"
        RETURN = "return", "Return"
        NOTE = "note", "Note"

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="events")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                              db_index=False)  # most rows have none: the partial index in Meta
    actor_label = models.CharField(max_length=120, blank=True, help_text="customer, seller name, system, carrier…")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    from_status = models.CharField(max_length=20, blank=True)
    to_status = models.CharField(max_length=20, blank=True)
    note = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["actor"], name="orderevent_actor", condition=models.Q(actor__isnull=False))]

    def __str__(self):
        return f"{self.order.number} {self.kind} {self.from_status}→{self.to_status}"


class ReturnRequest(models.Model):
    class Status(models.TextChoices):
        REQUESTED = "requested", _("Requested")
        APPROVED = "approved", _("Approved")
        RECEIVED = "received", _("Received")
        REFUNDED = "refunded", _("Refunded")
        REJECTED = "rejected", _("Rejected")

    TRANSITIONS = {
        Status.REQUESTED: frozenset({Status.APPROVED, Status.REJECTED}),
        Status.APPROVED: frozenset({Status.RECEIVED, Status.REJECTED}),
        Status.RECEIVED: frozenset({Status.REFUNDED, Status.REJECTED}),
        Status.REFUNDED: frozenset(),
        Status.REJECTED: frozenset(),
    }

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="returns")
    number = models.CharField(max_length=16, unique=True, default=new_return_number, editable=False)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.REQUESTED)
    reason = models.TextField()
    lines = models.ManyToManyField(OrderLine, related_name="returns")
    refund_amount = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    rejection_reason = models.CharField(max_length=200, blank=True)
    return_address = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return self.number


class OrderFeedback(models.Model):
    """The customer's rating and comment for a delivered order: one per order, editable for a while."""

    EDITABLE_DAYS = 14

    order = models.OneToOneField(Order, on_delete=models.CASCADE, related_name="feedback")
    rating = models.PositiveSmallIntegerField(choices=[(n, f"{n} / 5") for n in range(1, 6)])
    comment = models.TextField(blank=True, max_length=2000)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [models.CheckConstraint(condition=models.Q(rating__gte=1, rating__lte=5),
                                              name="feedback_rating_1_to_5")]

    def __str__(self):
        return f"{self.order.number}: {self.rating}/5"


class StripeEvent(models.Model):
    """One verified Stripe webhook event, stored once per Stripe event id (replays change nothing)."""

    class Outcome(models.TextChoices):
        PROCESSED = "processed", "Processed"
        UNCHANGED = "unchanged", "Nothing to change (late or repeated)"
        UNKNOWN_INTENT = "unknown_intent", "Unknown payment intent"
        IGNORED = "ignored", "Ignored event type"

    event_id = models.CharField(max_length=255, unique=True)
    event_type = models.CharField(max_length=64)
    payment_intent = models.CharField(max_length=255, blank=True, db_index=True)
    payment = models.ForeignKey(Payment, null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="stripe_events")
    # charge.refunded: the charge's cumulative amount_refunded (minor units), so a late event is a no-op.
    amount_refunded = models.BigIntegerField(null=True, blank=True)
    outcome = models.CharField(max_length=20, choices=Outcome.choices)
    detail = models.CharField(max_length=300, blank=True)
    created = models.DateTimeField(null=True, blank=True, help_text="When Stripe created the event")
    payload = models.JSONField(default=dict, blank=True)
    received_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-received_at"]

    def __str__(self):
        return f"{self.event_type} {self.event_id} {self.outcome}"


class AggregatorTracker(models.Model):
    """A shipment registered with a tracking aggregator (EasyPost or AfterShip), so its webhooks arrive
    for carriers we have no adapter for (Royal Mail, DPD, UPS, FedEx, USPS, DHL)."""

    class Status(models.TextChoices):
        PENDING = "pending", "Registering"
        REGISTERED = "registered", "Registered"
        FAILED = "failed", "Failed"

    shipment = models.OneToOneField(Shipment, on_delete=models.CASCADE, related_name="aggregator_tracker")
    provider = models.CharField(max_length=16, help_text="easypost or aftership")
    tracker_id = models.CharField(max_length=64, blank=True, help_text="The aggregator's id for the tracker")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING)
    error = models.CharField(max_length=300, blank=True)
    registered_at = models.DateTimeField(null=True, blank=True)
    last_polled_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.provider} {self.tracker_id or self.status}"


class OrderMessage(models.Model):
    """One message of the conversation about an order: a customer's question or the seller's message.

    Plain text only (no attachments, no HTML: shown escaped), written by orders.conversation.
    """

    class Author(models.TextChoices):
        CUSTOMER = "customer", "Customer"
        SELLER = "seller", "Seller"

    MAX_LENGTH = 2000

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="messages")
    author_kind = models.CharField(max_length=8, choices=Author.choices)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                               related_name="+", help_text="Empty for a guest (signed link)")
    author_name = models.CharField(max_length=120, help_text="As shown in the thread")
    body = models.TextField(max_length=MAX_LENGTH)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["order", "created_at"], name="order_message_thread")]

    def __str__(self):
        return f"{self.order.number} {self.author_kind} {self.created_at:%Y-%m-%d %H:%M}"
