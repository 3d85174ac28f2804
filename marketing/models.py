"""Promotions and the chunked fan-out that writes their outbox rows.

``FanOut`` is the engine's state for one large send (a promotion, a product update): where it has
got to (``cursor``, persisted in the same transaction as each chunk's rows), what it wrote, and
whether it may go on (running / paused / cancelled / done). The rows themselves are ordinary
``notifications.Notification`` rows, unique per change × address × channel, so a chunk that runs
twice writes nothing new.
"""
from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models


class FanOut(models.Model):
    class Status(models.TextChoices):
        RUNNING = "running", "Writing"
        PAUSED = "paused", "Paused"
        CANCELLED = "cancelled", "Cancelled"
        DONE = "done", "Written"

    class Source(models.TextChoices):
        PROMOTION = "promotion", "Promotion audience"
        PRODUCT_UPDATE = "product_update", "Past buyers of a product"

    key = models.CharField(max_length=200, unique=True, help_text="The event_key of every row it writes.")
    source = models.CharField(max_length=32, choices=Source.choices)
    source_id = models.PositiveBigIntegerField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.RUNNING)
    cursor = models.CharField(max_length=254, blank=True, default="",
                              help_text="Last audience key written (a user id or an address); resumes after it.")
    chunks = models.PositiveIntegerField(default=0)
    scanned = models.PositiveBigIntegerField(default=0, help_text="Audience candidates looked at.")
    written = models.PositiveBigIntegerField(default=0, help_text="Outbox rows written.")
    audience = models.PositiveBigIntegerField(null=True, blank=True, help_text="Counted at launch.")
    # The pacing pump's position per channel (the last row id it released).
    pumped = models.JSONField(default=dict, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True, help_text="Last chunk written.")
    error = models.TextField(blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["source", "source_id"], name="fanout_once_per_source")]

    def __str__(self):
        return f"{self.key} ({self.status}, {self.written} written)"


class Promotion(models.Model):
    """A discount with a code, announced to the customers who agreed to marketing (SPEC section 2
    ``promotion.launched``). ``store`` empty: a platform promotion (products of any store)."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        SCHEDULED = "scheduled", "Scheduled"
        SENDING = "sending", "Sending"
        PAUSED = "paused", "Paused"
        SENT = "sent", "Sent"
        CANCELLED = "cancelled", "Cancelled"

    title = models.CharField(max_length=120)
    store = models.ForeignKey("catalog.Store", null=True, blank=True, on_delete=models.CASCADE,
                              related_name="promotions")
    discount_percent = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(90)], help_text="1–90 % off eligible lines.")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    code = models.CharField(max_length=32, unique=True, help_text="Letters and digits, typed at checkout.")
    whole_store = models.BooleanField(default=False, help_text="Every product of the store is eligible.")
    products = models.ManyToManyField("catalog.Product", blank=True, related_name="promotions")
    channels = models.JSONField(default=list, help_text="email and/or sms")
    message = models.TextField(blank=True, max_length=500, help_text="A sentence or two for the message.")
    launch_at = models.DateTimeField(null=True, blank=True, help_text="Empty: send when launched.")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.DRAFT)
    # The message context every recipient shares, frozen at launch (rows hold no copy of it).
    context = models.JSONField(default=dict, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"{self.title} ({self.code})"

    @property
    def event_key(self) -> str:
        return f"promotion.launched:pr{self.pk}"

    def rate(self) -> Decimal:
        return Decimal(self.discount_percent) / Decimal(100)
