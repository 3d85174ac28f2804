import datetime
from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.urls import reverse

hex_colour = RegexValidator(r"^#[0-9A-Fa-f]{6}$", "Use a hex colour like #1f6feb.")


class Store(models.Model):
    name = models.CharField(max_length=120)
    slug = models.SlugField(unique=True)
    # Branding of the store's customer messages (sellers brand, admins own templates).
    logo = models.ImageField(upload_to="store-logos/", blank=True)
    accent_colour = models.CharField(max_length=7, default="#1f6feb", validators=[hex_colour])
    sign_off = models.CharField(max_length=200, blank=True, default="Thanks for shopping with us!")
    sender_name = models.CharField(max_length=80, blank=True, help_text="Shown as the email From name.")
    support_email = models.EmailField(blank=True)
    return_address = models.TextField(blank=True, help_text="Where customers send returns (shown on approved returns).")
    # Restock recommendation: stock to keep beyond the lead time, in days of average sales.
    safety_stock_days = models.PositiveIntegerField(default=7, help_text="Days of sales kept as safety stock.")
    # Shipping deadline on the store's business calendar (orders.sla explains how hours count).
    country = models.CharField(max_length=10, default="GB-ENG",
                               help_text="Country, or country-region (GB-ENG, GB-SCT, US-CA): its public holidays "
                                         "close the store.")
    time_zone = models.CharField(max_length=64, default="Europe/London")
    working_days = models.CharField(max_length=7, default="12345",
                                    help_text="The days the store ships, as ISO weekday digits: 1 = Monday … 7 = Sunday.")
    opens_at = models.TimeField(default=datetime.time(8, 0), help_text="Start of the shipping day (local time).")
    closes_at = models.TimeField(default=datetime.time(20, 0), help_text="End of the shipping day (local time).")
    closed_dates = models.TextField(blank=True, help_text="Extra closure days (YYYY-MM-DD), one per line.")
    sla_ship_within_hours = models.PositiveSmallIntegerField(
        default=24, validators=[MinValueValidator(1), MaxValueValidator(720)],
        help_text="Ship within this many business hours of the order being ready to ship.")
    sla_escalate_after_hours = models.PositiveSmallIntegerField(
        default=8, validators=[MinValueValidator(1), MaxValueValidator(720)],
        help_text="Platform staff are told when a late order is still not shipped this many business hours later.")
    # The event types the store's enabled webhook endpoints want ("*": one wants every type), kept
    # by webhooks.services in the transaction of every endpoint change. An order change reads it
    # with the store it locks, so a store with no endpoint for an event costs no endpoint query.
    webhook_events = models.JSONField(default=list, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class Product(models.Model):
    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="products")
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=220)
    description = models.TextField(blank=True)
    price = models.DecimalField(max_digits=10, decimal_places=2, validators=[MinValueValidator(Decimal("0"))])
    sku = models.CharField(max_length=64)
    stock_on_hand = models.IntegerField(default=0, help_text="May go below zero only when backorders are allowed.")
    allow_backorder = models.BooleanField(default=False)
    low_stock_threshold = models.PositiveIntegerField(default=5)
    restock_lead_days = models.PositiveIntegerField(default=7, help_text="Days from reorder to stock on hand.")
    supplier_name = models.CharField(max_length=120, blank=True)
    supplier_email = models.EmailField(blank=True, help_text="Gets the low-stock alert and product updates.")
    # stock.low fires once when stock falls to the threshold; a restock above it arms it again.
    low_stock_armed = models.BooleanField(default=True)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["store", "sku"], name="product_sku_unique_per_store"),
            models.UniqueConstraint(fields=["store", "slug"], name="product_slug_unique_per_store"),
            models.CheckConstraint(
                condition=models.Q(stock_on_hand__gte=0) | models.Q(allow_backorder=True),
                name="product_stock_non_negative_unless_backorder",
            ),
        ]

    def __str__(self):
        return f"{self.name} ({self.sku})"

    def get_absolute_url(self):
        return reverse("storefront:product_detail", args=[self.store.slug, self.slug])

    @property
    def in_stock(self) -> bool:
        return self.stock_on_hand > 0

    @property
    def purchasable(self) -> bool:
        return self.active and (self.stock_on_hand > 0 or self.allow_backorder)

    @property
    def is_low(self) -> bool:
        return self.stock_on_hand <= self.low_stock_threshold


class BackInStockSubscription(models.Model):
    """“Tell me when it is back”. A guest's address counts only once confirmed (double opt-in);
    a signed-in customer's own address is confirmed at once. Notified once, oldest first."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="stock_subscriptions")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE)
    email = models.EmailField()
    # The page's language when they asked (a guest has no account to remember it).
    language = models.CharField(max_length=8, choices=settings.LANGUAGES, default="en")
    created_at = models.DateTimeField(auto_now_add=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    notified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["product", "email"], name="one_stock_alert_per_email")]
        indexes = [models.Index(fields=["product", "created_at"], name="stock_alert_waiting",
                                condition=models.Q(notified_at__isnull=True, confirmed_at__isnull=False))]

    def __str__(self):
        return f"{self.email} waits for {self.product_id}"


class ProductEvent(models.Model):
    """A product's timeline (like an order's OrderEvent): restocks, stock counts, threshold changes,
    low-stock alerts and recorded product updates. Its id is the identity of product events'
    notifications (event key ``<code>:pe<id>``)."""

    class Kind(models.TextChoices):
        RESTOCK = "restock", "Restocked"
        COUNT = "count", "Stock counted"
        SETTINGS = "settings", "Stock settings changed"
        LOW_STOCK = "low_stock", "Stock ran low"
        UPDATED = "updated", "Product updated"

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+")
    actor_label = models.CharField(max_length=120, blank=True)
    stock_before = models.IntegerField(null=True, blank=True)
    stock_after = models.IntegerField(null=True, blank=True)
    note = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["product", "-created_at"], name="product_event_recent")]

    def __str__(self):
        return f"{self.product_id} {self.kind} {self.stock_before}→{self.stock_after}"
