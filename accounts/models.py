import zoneinfo

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.contrib.auth.models import UserManager as AuthUserManager
from django.core.exceptions import ValidationError
from django.db import models
from phonenumber_field.modelfields import PhoneNumberField


def validate_time_zone(value):
    if value not in zoneinfo.available_timezones():
        raise ValidationError(f"“{value}” is not a known time zone (e.g. Europe/London).")


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
    sms_opt_in = models.BooleanField(default=False)
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


class LoyaltyAccount(models.Model):
    class Tier(models.TextChoices):
        BRONZE = "bronze", "Bronze"
        SILVER = "silver", "Silver"
        GOLD = "gold", "Gold"

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="loyalty")
    points = models.PositiveIntegerField(default=0)
    tier = models.CharField(max_length=16, choices=Tier.choices, default=Tier.BRONZE)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return f"{self.user}: {self.points} pts ({self.get_tier_display()})"


class LoginActivity(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="logins")
    created_at = models.DateTimeField(auto_now_add=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)
    succeeded = models.BooleanField(default=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "login activity"


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
