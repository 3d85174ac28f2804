import zoneinfo

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.contrib.auth.models import UserManager as AuthUserManager
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext as _
from phonenumber_field.modelfields import PhoneNumberField


def validate_time_zone(value):
    if value not in zoneinfo.available_timezones():
        raise ValidationError(_("“%(value)s” is not a known time zone (e.g. Europe/London).") % {"value": value})


class UserQuerySet(models.QuerySet):
    """Bulk writes drop the signed-in users' cached rows (accounts.backends) like save() does, so a
    deactivation or password change done with ``update()`` signs the user out on the next request."""

    def update(self, **kwargs):
        from .backends import forget_cached_users

        ids = list(self.values_list("pk", flat=True))
        rows = super().update(**kwargs)
        forget_cached_users(ids)
        return rows

    update.alters_data = True

    def bulk_update(self, objs, fields, batch_size=None):
        from .backends import forget_cached_users

        objs = list(objs)
        rows = super().bulk_update(objs, fields, batch_size=batch_size)
        forget_cached_users([obj.pk for obj in objs])
        return rows

    bulk_update.alters_data = True


class UserManager(AuthUserManager.from_queryset(UserQuerySet)):
    # Migrations keep Django's UserManager (same API): no migration for a queryset hook.
    def deconstruct(self):
        return False, "django.contrib.auth.models.UserManager", None, (), {}

    def __eq__(self, other):
        return isinstance(other, AuthUserManager) and self._constructor_args == other._constructor_args

    __hash__ = AuthUserManager.__hash__


class User(AbstractUser):
    """A customer, a seller (member of one store), or both. Profile fields live here."""

    objects = UserManager()

    email = models.EmailField("email address", unique=True)
    store = models.ForeignKey(
        "catalog.Store",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="sellers",
        help_text="Set for sellers: the one store this user works for.",
    )
    phone = PhoneNumberField(blank=True, help_text="E.164, e.g. +447700900123")
    # The number a code sent by SMS proved to be this user's (accounts.phone_verification); a
    # changed phone no longer matches it, so it is unverified again.
    phone_verified_number = models.CharField(max_length=20, blank=True)
    phone_verified_at = models.DateTimeField(null=True, blank=True)
    sms_opt_in = models.BooleanField(default=False)
    whatsapp_opt_in = models.BooleanField(default=False, help_text="Order updates by WhatsApp to the phone number.")
    language = models.CharField(max_length=8, choices=settings.LANGUAGES, default="en")
    time_zone = models.CharField(max_length=64, default="Europe/London", validators=[validate_time_zone])
    deleted_at = models.DateTimeField(null=True, blank=True, editable=False,
                                      help_text="Set when the customer deleted their account (anonymised).")

    class Meta:
        ordering = ["username"]

    @property
    def is_seller(self) -> bool:
        return self.store_id is not None

    @property
    def display_name(self) -> str:
        return self.get_full_name() or self.username


class ConsentRecord(models.Model):
    """Append-only record of marketing / SMS consent given or withdrawn (the legal basis)."""

    class Kind(models.TextChoices):
        MARKETING_EMAIL = "marketing_email", "Marketing email"
        MARKETING_SMS = "marketing_sms", "Marketing SMS"
        SMS_UPDATES = "sms_updates", "Order updates by SMS"
        WHATSAPP_UPDATES = "whatsapp_updates", "Order updates by WhatsApp"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE,
                             related_name="consents")
    email = models.EmailField(blank=True)
    kind = models.CharField(max_length=32, choices=Kind.choices)
    granted = models.BooleanField()
    source = models.CharField(max_length=64, help_text="Where it was given: checkout, preferences, STOP…")
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["user", "kind", "-created_at"])]

    def __str__(self):
        verb = "granted" if self.granted else "withdrawn"
        return f"{self.user or self.email}: {self.get_kind_display()} {verb}"


class LoyaltyTier(models.Model):
    """A loyalty tier, configured by staff in the admin: reached at ``threshold`` points."""

    name = models.CharField(max_length=60, unique=True)
    threshold = models.PositiveIntegerField(unique=True, help_text="Points needed to reach this tier.")
    benefits = models.TextField(help_text="What members of this tier get (shown to customers).")

    class Meta:
        ordering = ["threshold"]

    def __str__(self):
        return f"{self.name} ({self.threshold} points)"


class LoyaltyAccount(models.Model):
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="loyalty")
    points = models.PositiveIntegerField(default=0)
    tier = models.ForeignKey(LoyaltyTier, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                             help_text="The highest tier the points reach (empty: below the first tier).")
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return f"{self.user}: {self.points} pts ({self.tier.name if self.tier_id else 'no tier'})"


class LoyaltyEntry(models.Model):
    """The ledger: every change to a customer's points, with the order it came from. Its id is the
    identity of loyalty notifications (event key ``loyalty.<code>:le<id>``)."""

    class Kind(models.TextChoices):
        EARNED = "earned", "Earned"
        REVERSED = "reversed", "Reversed (refund)"
        ADJUSTED = "adjusted", "Adjusted by staff"

    account = models.ForeignKey(LoyaltyAccount, on_delete=models.CASCADE, related_name="entries")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    points = models.IntegerField(help_text="Positive when earned, negative when reversed.")
    balance = models.PositiveIntegerField(help_text="Points after this entry.")
    order = models.ForeignKey("orders.Order", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    reference = models.CharField(max_length=60, blank=True, help_text="Order or return number.")
    note = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "loyalty entries"
        constraints = [models.UniqueConstraint(fields=["account", "kind", "reference"],
                                               condition=~models.Q(kind="adjusted"),
                                               name="loyalty_entry_once_per_reference")]

    def __str__(self):
        return f"{self.account.user_id}: {self.points:+} ({self.reference})"


class LoginActivity(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="logins")
    created_at = models.DateTimeField(auto_now_add=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)
    succeeded = models.BooleanField(default=True)
    # The session this login opened ("sign out everywhere" ends them), and what it looked like.
    session_key = models.CharField(max_length=40, blank=True)
    device = models.CharField(max_length=120, blank=True, help_text="Browser and system, from the user agent.")
    network = models.CharField(max_length=64, blank=True, help_text="The IP's network (/24 or /48).")
    new_device = models.BooleanField(default=False, help_text="Device or network never seen for this account.")
    ended_at = models.DateTimeField(null=True, blank=True, help_text="Signed out everywhere.")

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "login activity"
        indexes = [models.Index(fields=["user", "-created_at"], name="login_activity_recent")]


class AccountEvent(models.Model):
    """An account's security timeline: password reset asked, suspicious sign-in, unusual order,
    signed out everywhere. Its id is the identity of account events' notifications
    (event key ``<code>:ae<id>``)."""

    class Kind(models.TextChoices):
        PASSWORD_RESET = "password_reset", "Password reset requested"
        PASSWORD_CHANGED = "password_changed", "Password changed"
        SUSPICIOUS_LOGIN = "suspicious_login", "Sign-in from a new device"
        FAILED_LOGINS = "failed_logins", "Repeated failed sign-ins"
        UNUSUAL_ORDER = "unusual_order", "Unusual order"
        SIGNED_OUT_EVERYWHERE = "signed_out", "Signed out everywhere"
        SIGNUP_CONFIRM = "signup_confirm", "New account waiting for email confirmation"
        SIGNUP_EXISTING = "signup_existing", "Sign-up tried with this email"
        PHONE_VERIFY = "phone_verify", "Phone verification code sent"
        PHONE_VERIFIED = "phone_verified", "Phone number verified"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="account_events")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    device = models.CharField(max_length=120, blank=True)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "-created_at"], name="account_event_recent")]

    def __str__(self):
        return f"{self.user_id}: {self.get_kind_display()}"


def export_storage():
    """Where "download my data" archives live: STORAGES["exports"] (a private directory, never
    served as media), else the default storage (tests: in memory)."""
    from django.core.files.storage import InvalidStorageError, default_storage, storages

    try:
        return storages["exports"]
    except InvalidStorageError:
        return default_storage


class DataExport(models.Model):
    """A customer's "download my data" archive (accounts.privacy): built by a task, emailed as a
    signed link that expires, then deleted from storage by the retention task."""

    class Status(models.TextChoices):
        PENDING = "pending", "Being prepared"
        READY = "ready", "Ready"
        FAILED = "failed", "Failed"
        EXPIRED = "expired", "Expired"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="data_exports")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    file = models.FileField(upload_to="exports/", storage=export_storage, blank=True)
    size_bytes = models.PositiveIntegerField(default=0)
    error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    ready_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"Data export #{self.pk} for {self.user_id} ({self.status})"
