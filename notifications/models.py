"""Notification outbox, delivery log, in-app inbox, templates and every notification setting.

No I/O here; writes go through ``notifications.services``, reads through ``notifications.selectors``.
"""
import datetime

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from .events import EVENT_CHOICES, Audience, Category, Channel, SubjectKind


class Notification(models.Model):
    """One message to one recipient on one channel: the outbox row.

    Written in the same transaction as the change that causes it (an order's, a product's or an
    account's: ``subject_type`` / ``subject_id``), unique on
    (event_key, recipient_address, channel) so the same change never notifies twice, and handed
    to Celery only after commit. ``status`` moves queued → sending → sent → delivered/bounced, or
    to failed after the last retry; skipped (a preference said no), suppressed (address on the
    suppression list) and superseded (held by quiet hours while what it reports moved on) rows are
    never sent, and say why in ``status_reason``.
    ``context`` is the plain dict the templates saw; subject/body_* what was actually sent.
    """

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        SENDING = "sending", "Sending"
        IN_DOUBT = "in_doubt", "Checking with provider"
        SENT = "sent", "Sent"
        DELIVERED = "delivered", "Delivered"
        BOUNCED = "bounced", "Bounced"
        FAILED = "failed", "Failed"
        SKIPPED = "skipped", "Skipped"
        SUPPRESSED = "suppressed", "Suppressed"
        SUPERSEDED = "superseded", "Superseded"
        # A seller alert waiting for its digest window to close (notifications.digest): never sent
        # by itself; ``send_after`` is the window's end. Then "digested", with ``digest`` set.
        HELD_FOR_DIGEST = "held_for_digest", "Held for a digest"
        DIGESTED = "digested", "Sent in a digest"

    FINAL_FAILURES = (Status.BOUNCED, Status.FAILED)

    event = models.CharField(max_length=64, choices=EVENT_CHOICES)
    event_key = models.CharField(max_length=200, help_text="Identity of the change that caused it.")
    audience = models.CharField(max_length=16, choices=Audience.choices)
    # Indexed by notification_recipient_created (recipient first), as ``store`` by notification_store_created.
    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                  related_name="notifications", help_text="Empty for guests.", db_index=False)
    recipient_address = models.CharField(max_length=254, help_text="Email, E.164 number, or user id (in-app).")
    channel = models.CharField(max_length=16, choices=Channel.choices)
    category = models.CharField(max_length=32, choices=Category.choices)
    language = models.CharField(max_length=8, default="en")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    status_reason = models.CharField(max_length=300, blank=True,
                                     help_text="Why it was skipped, suppressed, held or failed.")
    order = models.ForeignKey("orders.Order", null=True, blank=True, on_delete=models.CASCADE,
                              related_name="notifications")
    store = models.ForeignKey("catalog.Store", null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="notifications", db_index=False)
    # What the event is about, for every kind (order events also keep ``order`` above).
    subject_type = models.CharField(max_length=16, choices=SubjectKind.choices, default=SubjectKind.ORDER)
    subject_id = models.PositiveBigIntegerField(null=True, blank=True)
    context = models.JSONField(default=dict, blank=True)
    subject = models.CharField(max_length=300, blank=True)
    body_text = models.TextField(blank=True)
    body_html = models.TextField(blank=True)
    template_source = models.CharField(max_length=120, blank=True,
                                       help_text="Which template rendered it, e.g. “database v3” or “file default”.")
    template_fallback = models.BooleanField(default=False,
                                            help_text="The chosen template failed to render; a fallback was used.")
    legal_basis = models.CharField(max_length=200, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    resends = models.PositiveIntegerField(default=0, help_text="Resends asked for by staff or the customer: each "
                                          "is a new email Message-ID; a resend of a message in doubt keeps it.")
    last_error = models.TextField(blank=True)
    # Provider callbacks find the attempt (DeliveryAttempt.provider_message_id is indexed).
    provider_message_id = models.CharField(max_length=200, blank=True)
    send_after = models.DateTimeField(null=True, blank=True,
                                      help_text="Held until then (SMS quiet hours in the recipient's time zone).")
    retry_at = models.DateTimeField(null=True, blank=True, help_text="Next retry after a transient error.")
    claimed_at = models.DateTimeField(null=True, blank=True)
    digest = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="digested_rows", db_index=False,
                               help_text="The digest message that carried this held alert.")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    # SPEC section 8: a message that could not be delivered may fall back once to another channel
    # (``fallback_of``: the failed row; at most one fallback each), and the customer may fix the
    # address and resend it (``corrected_from``: the failed row the new one replaces).
    fallback_of = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="fallbacks", db_index=False, help_text="The undelivered message this one replaces "
                                    "on another channel.")
    corrected_from = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL,
                                       related_name="corrections", db_index=False, help_text="The undelivered message the customer "
                                       "resent to a corrected address.")
    sent_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["event_key", "recipient_address", "channel"],
                                    name="notification_once_per_recipient_channel"),
            models.UniqueConstraint(fields=["fallback_of"], condition=models.Q(fallback_of__isnull=False),
                                    name="notification_one_fallback"),
        ]
        # Every delivery updates its row twice (claim, result), and neither update can be HOT (status
        # is indexed), so every index here takes a new entry three times per message: the sweeper's
        # and the SMS cap's are partial, covering only the rows they look for; the self links
        # (digest, fallback, correction) are partial on "set", which almost no row is (the unique
        # notification_one_fallback serves fallback_of); recipient and store have no index of their
        # own beside the (…, -created_at) ones that start with them.
        indexes = [
            models.Index(fields=["digest"], name="notification_digest",
                         condition=models.Q(digest__isnull=False)),
            models.Index(fields=["corrected_from"], name="notification_corrected_from",
                         condition=models.Q(corrected_from__isnull=False)),
            models.Index(fields=["status", "updated_at"], name="notification_status_updated",
                         condition=models.Q(status__in=["queued", "sending"])),
            models.Index(fields=["recipient", "-created_at"], name="notification_recipient_created"),
            models.Index(fields=["store", "-created_at"], name="notification_store_created"),
            models.Index(fields=["subject_type", "subject_id"], name="notification_subject",
                         condition=~models.Q(subject_type="order")),
            models.Index(fields=["recipient_address", "created_at"], name="notification_sms_recent",
                         condition=models.Q(channel="sms")),
            models.Index(fields=["send_after"], name="notification_digest_due",
                         condition=models.Q(status="held_for_digest")),
            # A promotion's rows only: the pacing pump (queued rows in id order per channel) and the
            # progress counts (status per channel) read this index alone.
            models.Index(fields=["subject_id", "channel", "status", "id"], name="notification_promotion",
                         condition=models.Q(subject_type="promotion")),
        ]

    def __str__(self):
        return f"{self.event} → {self.recipient_address} ({self.channel}, {self.status})"

    @property
    def is_failure(self) -> bool:
        return self.status in self.FINAL_FAILURES


class DeliveryAttempt(models.Model):
    """One try at handing a notification to a provider (successful or not), plus what the
    provider told us later through its callback (delivered / bounced / failed)."""

    class Status(models.TextChoices):
        SENT = "sent", "Accepted by provider"
        DELIVERED = "delivered", "Delivered"
        BOUNCED = "bounced", "Bounced"
        FAILED = "failed", "Failed"

    notification = models.ForeignKey(Notification, on_delete=models.CASCADE, related_name="delivery_attempts")
    number = models.PositiveIntegerField(default=1, help_text="1 for the first try of this delivery run.")
    status = models.CharField(max_length=16, choices=Status.choices)
    provider = models.CharField(max_length=64)
    # Provider callbacks look attempts up by it (equality only: no LIKE index beside it).
    provider_message_id = models.CharField(max_length=200, blank=True)
    latency_ms = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    transient = models.BooleanField(default=False, help_text="The error was temporary and a retry was scheduled.")
    sms_segments = models.PositiveSmallIntegerField(null=True, blank=True)
    sms_encoding = models.CharField(max_length=8, blank=True, help_text="GSM-7 or UCS-2")
    provider_status = models.CharField(max_length=64, blank=True, help_text="Last status from the callback.")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["provider_message_id"], name="attempt_provider_message")]

    def __str__(self):
        return f"#{self.notification_id} try {self.number}: {self.status}"


class InboxMessage(models.Model):
    """An in-app message in a user's inbox (the bell in both dashboards). Unread while read_at is empty."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="inbox_messages",
                             db_index=False)  # inbox_user_read starts with it
    notification = models.OneToOneField(Notification, null=True, blank=True, on_delete=models.SET_NULL,
                                        related_name="inbox_message")
    title = models.CharField(max_length=300)
    body = models.TextField(blank=True)
    url = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "read_at"], name="inbox_user_read")]

    def __str__(self):
        return f"{self.user}: {self.title}"

    @property
    def is_read(self) -> bool:
        return self.read_at is not None


class NotificationTemplate(models.Model):
    """A database override of a shipped default template, per event × audience × channel × language.

    Email uses subject + text_body + html_body; SMS uses text_body; in-app uses subject (title) +
    text_body. Where no active row exists the file default under templates/notifications/ is used.
    Every save is validated by rendering against sample data and adds a ``NotificationTemplateVersion``.
    """

    event = models.CharField(max_length=64, choices=EVENT_CHOICES)
    audience = models.CharField(max_length=16, choices=Audience.choices, default=Audience.CUSTOMER)
    channel = models.CharField(max_length=16, choices=Channel.choices)
    language = models.CharField(max_length=8, choices=settings.LANGUAGES, default="en")
    subject = models.CharField(max_length=300, blank=True, help_text="Email subject or in-app title.")
    text_body = models.TextField(blank=True, help_text="Plain-text email body, SMS body, or in-app body.")
    html_body = models.TextField(blank=True, help_text="HTML email body (CSS is inlined at send time).")
    active = models.BooleanField(default=True)
    version = models.PositiveIntegerField(default=0)
    render_error = models.TextField(blank=True, help_text="Set when it failed to render at send time.")
    render_failed_at = models.DateTimeField(null=True, blank=True)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["event", "audience", "channel", "language"]
        constraints = [
            models.UniqueConstraint(fields=["event", "audience", "channel", "language"],
                                    name="one_template_per_event_audience_channel_language"),
        ]

    def __str__(self):
        return f"{self.event} / {self.audience} / {self.channel} / {self.language}"


class NotificationTemplateVersion(models.Model):
    """A saved state of a NotificationTemplate (the history shown in the admin, restorable)."""

    template = models.ForeignKey(NotificationTemplate, on_delete=models.CASCADE, related_name="versions")
    version = models.PositiveIntegerField()
    subject = models.CharField(max_length=300, blank=True)
    text_body = models.TextField(blank=True)
    html_body = models.TextField(blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    note = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-version"]
        constraints = [models.UniqueConstraint(fields=["template", "version"], name="template_version_unique")]

    def __str__(self):
        return f"{self.template} v{self.version}"


class PlatformSettings(models.Model):
    """Platform-wide notification settings (a single row, pk=1): default SMS quiet hours, retry
    policy, SMS country allow-list and per-recipient daily SMS cap."""

    quiet_hours_start = models.TimeField(default=datetime.time(21, 0))
    quiet_hours_end = models.TimeField(default=datetime.time(8, 0))
    max_attempts = models.PositiveSmallIntegerField(default=5, help_text="Tries per delivery, 1–8.",
                                                    validators=[MinValueValidator(1), MaxValueValidator(8)])
    sms_allowed_countries = models.CharField(max_length=200, blank=True, default="",
                                             help_text="Comma-separated calling codes allowed for SMS, "
                                                       "e.g. “44,33,49”. Empty: all.")
    sms_daily_cap = models.PositiveIntegerField(default=10, help_text="Most SMS per number per day. 0: no cap.")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = verbose_name_plural = "platform notification settings"

    def __str__(self):
        return "Platform notification settings"


class PlatformEventSetting(models.Model):
    """Platform switch per event: on/off and the default channels for customers and sellers
    (a subset of email / sms / inapp). Missing rows mean the catalogue defaults in events.py."""

    event = models.CharField(max_length=64, choices=EVENT_CHOICES, unique=True)
    enabled = models.BooleanField(default=True)
    customer_channels = models.JSONField(default=list, blank=True)
    seller_channels = models.JSONField(default=list, blank=True)
    whatsapp_content_sid = models.CharField(
        max_length=64, blank=True, help_text="Approved WhatsApp content template (HX…) for business-initiated "
        "messages of this event; empty: NOTIFY_WHATSAPP_CONTENT_SIDS. Variables 1–3: first name, reference "
        "(order number…), link.")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["event"]

    def __str__(self):
        return f"{self.event} ({'on' if self.enabled else 'off'})"


class SellerNotificationSetting(models.Model):
    """A store's choice for one seller-facing event on one channel (no row: the platform default)."""

    store = models.ForeignKey("catalog.Store", on_delete=models.CASCADE, related_name="notification_settings")
    event = models.CharField(max_length=64, choices=EVENT_CHOICES)
    channel = models.CharField(max_length=16, choices=Channel.choices)
    enabled = models.BooleanField(default=True)
    # 0: one message per alert; 15 / 30 / 60: one digest per that many minutes (events.DIGEST_EVENTS).
    digest_minutes = models.PositiveSmallIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["store", "event", "channel"],
                                               name="seller_setting_unique")]

    def __str__(self):
        return f"{self.store}: {self.event} by {self.channel} {'on' if self.enabled else 'off'}"


class StoreMessageSetting(models.Model):
    """A store's personal note and optional discount code added to one customer event's messages."""

    store = models.ForeignKey("catalog.Store", on_delete=models.CASCADE, related_name="message_settings")
    event = models.CharField(max_length=64, choices=EVENT_CHOICES)
    personal_note = models.TextField(blank=True, max_length=500)
    discount_code = models.CharField(max_length=40, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["store", "event"], name="store_message_unique")]

    def __str__(self):
        return f"{self.store}: {self.event}"


class StoreNotificationOptions(models.Model):
    """Per-store switches for optional customer messages (no row: both on)."""

    store = models.OneToOneField("catalog.Store", on_delete=models.CASCADE, related_name="notification_options")
    shipping_updates = models.BooleanField(default=True, help_text="Send in-transit and out-for-delivery updates.")
    review_request = models.BooleanField(default=True, help_text="Invite a review in the delivered message.")
    review_url = models.URLField(blank=True, help_text="Where reviews go; empty: the order status page.")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "store notification options"

    def __str__(self):
        return f"{self.store} options"


class CustomerPreference(models.Model):
    """A customer's choice for one category on one channel. No row: the category default
    (transactional/security always on, shipping updates and account on, marketing off)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_prefs")
    category = models.CharField(max_length=32, choices=Category.choices)
    channel = models.CharField(max_length=16, choices=Channel.choices)
    enabled = models.BooleanField()
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "category", "channel"],
                                               name="customer_preference_unique")]

    def __str__(self):
        return f"{self.user}: {self.category} by {self.channel} {'on' if self.enabled else 'off'}"


class QuietHours(models.Model):
    """A user's own SMS quiet hours (in their time zone, accounts.User.time_zone); no row: the
    platform default window. ``enabled=False`` means SMS may arrive at any time."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="quiet_hours")
    enabled = models.BooleanField(default=True)
    start = models.TimeField(default=datetime.time(21, 0))
    end = models.TimeField(default=datetime.time(8, 0))

    class Meta:
        verbose_name_plural = "quiet hours"

    def __str__(self):
        return f"{self.user}: {self.start:%H:%M}–{self.end:%H:%M}" if self.enabled else f"{self.user}: off"


class Suppression(models.Model):
    """An address nothing is sent to on a channel: hard bounce, spam complaint, SMS STOP."""

    class Reason(models.TextChoices):
        BOUNCE = "bounce", "Hard bounce"
        COMPLAINT = "complaint", "Spam complaint"
        STOP = "stop", "Replied STOP"
        MANUAL = "manual", "Added by staff"

    channel = models.CharField(max_length=16, choices=Channel.choices)
    address = models.CharField(max_length=254)
    reason = models.CharField(max_length=16, choices=Reason.choices)
    detail = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [models.UniqueConstraint(fields=["channel", "address"], name="suppression_unique")]

    def __str__(self):
        return f"{self.address} ({self.channel}): {self.get_reason_display()}"


# Provider latency histogram: upper bounds (ms) of the fixed buckets kept in the statistics rollup,
# the last bucket (lat_12) holding everything slower. Fixed bounds let days be merged by adding
# counts, so p50/p95 over any date range come from the rollup alone (to the bucket's bound).
LATENCY_BUCKETS_MS = (50, 100, 200, 300, 500, 750, 1000, 1500, 2000, 3000, 5000, 10000)


class NotificationStatsDaily(models.Model):
    """The delivery statistics rollup: one row per UTC day (of the notification's creation) ×
    store × channel × event, rebuilt by ``notifications.stats.stats_rollup`` (beat, the last few
    days; ``manage.py stats_backfill`` for older ones). The statistics pages read only this table
    and NotificationFailureDaily, never the outbox.

    ``sent`` counts every message a provider accepted (sent, delivered or bounced later);
    ``failed`` the ones that failed for good; ``not_sent`` skipped, suppressed or superseded rows;
    ``pending`` the ones still queued, sending or in doubt. ``attempts`` and ``lat_*`` describe the
    provider calls (every DeliveryAttempt) of those notifications.
    """

    day = models.DateField()
    store = models.ForeignKey("catalog.Store", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    channel = models.CharField(max_length=16, choices=Channel.choices)
    event = models.CharField(max_length=64)  # no choices: the rollup must not need a migration per new event
    total = models.PositiveIntegerField(default=0)
    sent = models.PositiveIntegerField(default=0)
    delivered = models.PositiveIntegerField(default=0)
    bounced = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    not_sent = models.PositiveIntegerField(default=0)
    pending = models.PositiveIntegerField(default=0)
    attempts = models.PositiveIntegerField(default=0)
    lat_0 = models.PositiveIntegerField(default=0, help_text="Attempts that took ≤ 50 ms")
    lat_1 = models.PositiveIntegerField(default=0, help_text="≤ 100 ms")
    lat_2 = models.PositiveIntegerField(default=0, help_text="≤ 200 ms")
    lat_3 = models.PositiveIntegerField(default=0, help_text="≤ 300 ms")
    lat_4 = models.PositiveIntegerField(default=0, help_text="≤ 500 ms")
    lat_5 = models.PositiveIntegerField(default=0, help_text="≤ 750 ms")
    lat_6 = models.PositiveIntegerField(default=0, help_text="≤ 1 s")
    lat_7 = models.PositiveIntegerField(default=0, help_text="≤ 1.5 s")
    lat_8 = models.PositiveIntegerField(default=0, help_text="≤ 2 s")
    lat_9 = models.PositiveIntegerField(default=0, help_text="≤ 3 s")
    lat_10 = models.PositiveIntegerField(default=0, help_text="≤ 5 s")
    lat_11 = models.PositiveIntegerField(default=0, help_text="≤ 10 s")
    lat_12 = models.PositiveIntegerField(default=0, help_text="> 10 s")
    computed_at = models.DateTimeField()

    class Meta:
        verbose_name = verbose_name_plural = "notification statistics (daily)"
        constraints = [
            models.UniqueConstraint(fields=["day", "store", "channel", "event"], name="stats_daily_store_unique",
                                    condition=models.Q(store__isnull=False)),
            models.UniqueConstraint(fields=["day", "channel", "event"], name="stats_daily_platform_unique",
                                    condition=models.Q(store__isnull=True)),
        ]
        indexes = [models.Index(fields=["store", "day"], name="stats_daily_store_day"),
                   models.Index(fields=["day"], name="stats_daily_day")]

    def __str__(self):
        return f"{self.day} {self.store_id} {self.channel} {self.event}: {self.total}"


class NotificationFailureDaily(models.Model):
    """How often each failure reason (bounced or failed for good) occurred, per day × store × channel × event."""

    day = models.DateField()
    store = models.ForeignKey("catalog.Store", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    channel = models.CharField(max_length=16, choices=Channel.choices)
    event = models.CharField(max_length=64)
    reason = models.CharField(max_length=200)
    count = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = verbose_name_plural = "notification failure reasons (daily)"
        indexes = [models.Index(fields=["store", "day"], name="failure_daily_store_day"),
                   models.Index(fields=["day"], name="failure_daily_day")]

    def __str__(self):
        return f"{self.day} {self.store_id} {self.channel}: {self.reason} × {self.count}"


class PushSubscription(models.Model):
    """One browser (device) a user turned notifications on in: the Push API subscription.

    The push channel sends to every subscription of the recipient; one the push service answers
    404/410 for has expired (the browser dropped it) and is deleted."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="push_subscriptions")
    endpoint = models.URLField(max_length=1000, unique=True)
    p256dh = models.CharField(max_length=200, help_text="The browser's P-256 public key (base64url).")
    auth = models.CharField(max_length=100, help_text="The browser's authentication secret (base64url).")
    user_agent = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"{self.user}: {self.user_agent[:40] or self.endpoint[:40]}"


class WhatsAppSession(models.Model):
    """When a number last wrote to us on WhatsApp: for 24 hours after it, free-form session
    messages may go; outside that window only approved content templates."""

    address = models.CharField(max_length=20, unique=True, help_text="E.164, without the whatsapp: prefix.")
    last_inbound_at = models.DateTimeField()

    def __str__(self):
        return f"{self.address}: last wrote {self.last_inbound_at:%Y-%m-%d %H:%M}"


class AddressCorrection(models.Model):
    """A customer's corrected email or phone for an undelivered message (the order status page).

    A new email waits for its confirmation link (``confirmed_at``); a phone number is checked as
    E.164 and goes at once. ``resent`` is the new notification to the corrected address."""

    notification = models.ForeignKey(Notification, on_delete=models.CASCADE, related_name="address_corrections")
    channel = models.CharField(max_length=16, choices=Channel.choices)
    new_address = models.CharField(max_length=254)
    created_at = models.DateTimeField(auto_now_add=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    resent = models.OneToOneField(Notification, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"#{self.notification_id} → {self.new_address}"
