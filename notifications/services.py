"""Writes for notifications: the public service API.

Outbox (``notification_enqueue``) lives in outbox.py and delivery (``notification_deliver``,
``notification_resend``, ``outbox_sweep``, provider callbacks) in delivery.py; both are re-exported
here so callers only ever import ``notifications.services``. This module holds the settings,
preferences and inbox services.
"""
import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone, translation

from .events import (
    CONSENT_CATEGORIES,
    DEFAULT_ON_CATEGORIES,
    EVENTS,
    MANDATORY_CATEGORIES,
    SELLER_OPT_IN_CHANNELS,
    Category,
    Channel,
    get_event,
)
from .models import (
    CustomerPreference,
    InboxMessage,
    PlatformEventSetting,
    PlatformSettings,
    QuietHours,
    SellerNotificationSetting,
    StoreMessageSetting,
    StoreNotificationOptions,
)


def category_default(category: str) -> bool:
    """Whether a customer gets this category on a channel when they never chose."""
    return category in MANDATORY_CATEGORIES or category in DEFAULT_ON_CATEGORIES


def _channel(channel: str) -> str:
    if channel not in Channel.values:
        raise ValidationError(f"Unknown channel “{channel}”. Choose one of: {', '.join(Channel.values)}.")
    return channel


def _event(code: str):
    try:
        return get_event(code)
    except KeyError as exc:
        raise ValidationError(str(exc.args[0])) from None


# --- platform ---------------------------------------------------------------------------

def platform_settings_get() -> PlatformSettings:
    obj, _ = PlatformSettings.objects.get_or_create(pk=1)
    return obj


def platform_event_settings_ensure() -> int:
    """Create one PlatformEventSetting per catalogue event (catalogue defaults). Returns how many were new."""
    existing = set(PlatformEventSetting.objects.values_list("event", flat=True))
    new = [PlatformEventSetting(event=code, enabled=True, customer_channels=list(e.customer_channels),
                                seller_channels=list(e.seller_channels))
           for code, e in EVENTS.items() if code not in existing]
    PlatformEventSetting.objects.bulk_create(new, ignore_conflicts=True)
    return len(new)


def platform_event_set(*, event: str, enabled: bool, customer_channels=None,
                       seller_channels=None) -> PlatformEventSetting:
    definition = _event(event)
    values = {"enabled": bool(enabled)}
    for name, chosen, allowed_for in (("customer_channels", customer_channels, definition.customer_channels),
                                      ("seller_channels", seller_channels, definition.seller_channels)):
        if chosen is None:
            continue
        chosen = [_channel(c) for c in chosen]
        if chosen and not allowed_for:
            raise ValidationError(f"{event} has no {name.split('_')[0]} recipients.")
        values[name] = chosen
    obj, _ = PlatformEventSetting.objects.update_or_create(event=event, defaults=values)
    return obj


# --- sellers ----------------------------------------------------------------------------

def seller_can_receive_sms(user) -> bool:
    """A seller gets SMS alerts on a valid mobile number from their account that they verified
    with a code (accounts.phone_verification)."""
    import phonenumbers

    from accounts.phone_verification import phone_is_verified

    if not phone_is_verified(user):
        return False

    raw = str(getattr(user, "phone", "") or "")
    try:
        number = phonenumbers.parse(raw, settings.PHONENUMBER_DEFAULT_REGION)
    except phonenumbers.NumberParseException:
        return False
    return phonenumbers.is_valid_number(number) and phonenumbers.number_type(number) in (
        phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE)


def seller_setting_set(*, store, event: str, channel: str, enabled: bool, actor=None) -> SellerNotificationSetting:
    """Turn one seller-facing event on or off on one channel for the whole store.

    Switching SMS on needs the seller doing it (``actor``) to have a valid mobile number."""
    definition = _event(event)
    _channel(channel)
    if not definition.seller_channels:
        raise ValidationError(f"{event} is not sent to sellers, so there is nothing to switch.")
    if enabled and channel == Channel.SMS and actor is not None and not seller_can_receive_sms(actor):
        raise ValidationError("Add your mobile number (Account → Preferences) and verify it with the code we "
                              "send to switch on SMS alerts.")
    obj, _ = SellerNotificationSetting.objects.update_or_create(
        store=store, event=event, channel=channel, defaults={"enabled": bool(enabled)})
    return obj


def seller_digest_set(*, store, event: str, channel: str, minutes: int) -> SellerNotificationSetting:
    """Take one seller alert on one channel as a digest every ``minutes`` (15, 30, 60), or, with
    0, one message per alert again. Alerts already held keep their window (notifications.digest)."""
    from .events import DIGEST_EVENTS, DIGEST_MINUTES

    _event(event)
    _channel(channel)
    if event not in DIGEST_EVENTS:
        raise ValidationError(f"{event} cannot be taken as a digest.")
    try:
        minutes = int(minutes)
    except (TypeError, ValueError):
        minutes = -1
    if minutes not in (0, *DIGEST_MINUTES):
        raise ValidationError("Choose each order, or a digest every 15, 30 or 60 minutes.")
    obj, created = SellerNotificationSetting.objects.get_or_create(
        store=store, event=event, channel=channel,
        defaults={"digest_minutes": minutes, "enabled": channel not in SELLER_OPT_IN_CHANNELS})
    if not created and obj.digest_minutes != minutes:
        obj.digest_minutes = minutes
        obj.save(update_fields=["digest_minutes", "updated_at"])
    return obj


def store_message_set(*, store, event: str, personal_note: str = "", discount_code: str = "") -> StoreMessageSetting:
    """Set the personal note / discount code a store adds to one customer event's messages."""
    definition = _event(event)
    if not definition.customer_channels:
        raise ValidationError(f"{event} is not sent to customers.")
    personal_note, discount_code = (personal_note or "").strip(), (discount_code or "").strip()
    if len(personal_note) > 500:
        raise ValidationError("Keep the personal note under 500 characters.")
    if len(discount_code) > 40 or (discount_code and not discount_code.replace("-", "").replace("_", "").isalnum()):
        raise ValidationError("A discount code is up to 40 letters, digits, - or _.")
    obj, _ = StoreMessageSetting.objects.update_or_create(
        store=store, event=event, defaults={"personal_note": personal_note, "discount_code": discount_code})
    return obj


def store_options_set(*, store, shipping_updates: bool | None = None, review_request: bool | None = None,
                      review_url: str | None = None) -> StoreNotificationOptions:
    obj, _ = StoreNotificationOptions.objects.get_or_create(store=store)
    if shipping_updates is not None:
        obj.shipping_updates = bool(shipping_updates)
    if review_request is not None:
        obj.review_request = bool(review_request)
    if review_url is not None:
        obj.review_url = review_url.strip()
    obj.full_clean()
    obj.save()
    return obj


# --- customers --------------------------------------------------------------------------

CONSENT_KIND_FOR_CHANNEL = {Channel.EMAIL: "marketing_email", Channel.SMS: "marketing_sms"}


@transaction.atomic
def customer_preference_set(*, user, category: str, channel: str, enabled: bool, source: str = "preferences",
                            ip_address: str | None = None) -> CustomerPreference:
    """Switch an optional category on or off on one channel.

    Transactional and security messages cannot be switched off. Marketing on a channel records
    the consent (accounts.ConsentRecord) it relies on, and withdrawing it records that too.
    """
    _channel(channel)
    if category not in Category.values or category == Category.SELLER_ALERT:
        raise ValidationError(f"Unknown category “{category}”.")
    if category in MANDATORY_CATEGORIES:
        if not enabled:
            raise ValidationError(f"{Category(category).label}: these messages cannot be switched off.")
    if category in CONSENT_CATEGORIES and channel in CONSENT_KIND_FOR_CHANNEL:
        from accounts.models import ConsentRecord

        ConsentRecord.objects.create(user=user, email=user.email, kind=CONSENT_KIND_FOR_CHANNEL[channel],
                                     granted=bool(enabled), source=source[:64], ip_address=ip_address)
    obj, _ = CustomerPreference.objects.update_or_create(
        user=user, category=category, channel=channel, defaults={"enabled": bool(enabled)})
    return obj


def quiet_hours_set(*, user, enabled: bool, start: datetime.time | None = None,
                    end: datetime.time | None = None) -> QuietHours:
    if enabled and (start is None or end is None):
        raise ValidationError("Give both a start and an end time for quiet hours.")
    if enabled and start == end:
        raise ValidationError("Quiet hours need a start and end that differ.")
    defaults = {"enabled": bool(enabled)}
    if start is not None:
        defaults["start"] = start
    if end is not None:
        defaults["end"] = end
    obj, _ = QuietHours.objects.update_or_create(user=user, defaults=defaults)
    return obj


# --- inbox ------------------------------------------------------------------------------

def inbox_mark_read(*, user, message_id: int) -> InboxMessage:
    """Mark one of the user's own inbox messages read. Raises InboxMessage.DoesNotExist for others'."""
    message = InboxMessage.objects.get(pk=message_id, user=user)
    if message.read_at is None:
        message.read_at = timezone.now()
        message.save(update_fields=["read_at"])
    return message


def inbox_mark_all_read(*, user) -> int:
    return InboxMessage.objects.filter(user=user, read_at__isnull=True).update(read_at=timezone.now())




# --- templates --------------------------------------------------------------------------

def _template_sources(subject: str, text_body: str, html_body: str) -> dict:
    return {"subject": subject or "", "text": text_body or "", "html": html_body or ""}


def template_validate(*, event: str, audience: str, channel: str, subject: str = "", text_body: str = "",
                      html_body: str = "", language: str = "") -> None:
    """Raise ValidationError (per field) unless the sources render cleanly against sample data."""
    from .rendering import validate

    definition = _event(event)
    _channel(channel)
    if audience not in definition.audiences:
        raise ValidationError({"audience": f"{event} is not sent to {audience}s."})
    errors = validate(event=event, audience=audience, channel=channel,
                      sources=_template_sources(subject, text_body, html_body), language=language)
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def template_save(*, template, user=None, note: str = ""):
    """Validate and save a NotificationTemplate as a new version (history kept, restorable)."""
    from .models import NotificationTemplate, NotificationTemplateVersion
    from .rendering import DB_TEMPLATES

    template_validate(event=template.event, audience=template.audience, channel=template.channel,
                      subject=template.subject, text_body=template.text_body, html_body=template.html_body,
                      language=template.language)
    if template.pk:
        NotificationTemplate.objects.select_for_update().filter(pk=template.pk).first()
    last = template.versions.order_by("-version").values_list("version", flat=True).first() if template.pk else None
    template.version = (last or 0) + 1
    template.render_error, template.render_failed_at = "", None
    if user is not None and getattr(user, "pk", None):
        template.updated_by = user
    template.save()
    NotificationTemplateVersion.objects.create(template=template, version=template.version, subject=template.subject,
                                               text_body=template.text_body, html_body=template.html_body,
                                               created_by=template.updated_by, note=note[:200])
    transaction.on_commit(DB_TEMPLATES.invalidate)
    return template


def template_restore(*, template, version: int, user=None):
    """Make an earlier version current again (saved as a new version, so the restore is in the history)."""
    old = template.versions.filter(version=version).first()
    if old is None:
        raise ValidationError(f"Version {version} does not exist for this template.")
    template.subject, template.text_body, template.html_body = old.subject, old.text_body, old.html_body
    return template_save(template=template, user=user, note=f"Restored version {version}")


@transaction.atomic
def notification_send_test(*, user, event: str, audience: str, channel: str, subject: str = "",
                           text_body: str = "", html_body: str = "", language: str = "en"):
    """“Send test to me”: render the (possibly unsaved) sources with sample data and send them to
    ``user`` on ``channel`` through the normal pipeline (logged like any other send)."""
    import uuid

    from .context import sample_context
    from .models import Notification
    from .outbox import queue_on_commit
    from .rendering import PARTS, _engine_for, _finish, _render_parts

    template_validate(event=event, audience=audience, channel=channel, subject=subject, text_body=text_body,
                      html_body=html_body, language=language)
    address = {Channel.EMAIL: user.email, Channel.SMS: str(getattr(user, "phone", "") or ""),
               Channel.WHATSAPP: str(getattr(user, "phone", "") or ""),
               Channel.INAPP: f"user:{user.pk}", Channel.PUSH: f"user:{user.pk}"}[Channel(channel)]
    if not address:
        raise ValidationError(f"Your account has no {'phone number' if channel in (Channel.SMS, Channel.WHATSAPP) else 'email address'} "
                              "to send the test to.")
    sources = _template_sources(subject, text_body, html_body)
    compiled = {part: _engine_for(part).from_string(sources[part]) for part in PARTS[Channel(channel)]
                if sources[part]}
    with translation.override(language or settings.LANGUAGE_CODE):
        context = sample_context(event, audience)
        parts = _finish(_render_parts(compiled, channel, context))
    definition = get_event(event)
    notification = Notification.objects.create(
        event=event, event_key=f"test:{uuid.uuid4().hex}", audience=audience, recipient=user,
        recipient_address=address.lower() if channel == Channel.EMAIL else address, channel=channel,
        category=definition.category_for(audience), language=language, context=context,
        subject=("[TEST] " + parts.get("subject", ""))[:300] if parts.get("subject") else "",
        body_text=("[TEST] " if channel == Channel.SMS else "") + parts.get("text", ""),
        body_html=parts.get("html", ""), template_source="test send (unsaved form)",
        legal_basis="staff test send", status_reason="Test send from the template admin.")
    queue_on_commit([notification.pk])
    return notification

# --- browser push subscriptions -------------------------------------------------------------

def push_subscription_save(*, user, endpoint: str, p256dh: str, auth: str, user_agent: str = ""):
    """Record (or refresh) the Push API subscription of one browser for ``user``. An endpoint is
    one browser profile: subscribed again by another user (a shared computer), it moves to them."""
    import base64
    import binascii

    from django.core.validators import URLValidator

    from .models import PushSubscription

    endpoint = endpoint.strip()
    try:
        URLValidator(schemes=["https", "http"] if settings.NOTIFY_PUSH_ALLOW_HTTP else ["https"])(endpoint)
    except ValidationError:
        raise ValidationError("endpoint must be the https URL of a push service.") from None
    if len(endpoint) > 1000:
        raise ValidationError("endpoint is too long.")
    try:
        key = base64.urlsafe_b64decode(p256dh + "=" * (-len(p256dh) % 4))
        secret = base64.urlsafe_b64decode(auth + "=" * (-len(auth) % 4))
    except (binascii.Error, ValueError):
        raise ValidationError("keys.p256dh and keys.auth must be base64url.") from None
    if len(key) != 65 or key[0] != 4 or len(secret) != 16:
        raise ValidationError("keys.p256dh must be a P-256 public key and keys.auth a 16-byte secret.")
    sub, _ = PushSubscription.objects.update_or_create(
        endpoint=endpoint, defaults={"user": user, "p256dh": p256dh, "auth": auth, "user_agent": user_agent[:300]})
    return sub


def push_subscription_remove(*, user, endpoint: str) -> int:
    from .models import PushSubscription

    return PushSubscription.objects.filter(user=user, endpoint=endpoint.strip()).delete()[0]


# Outbox and delivery (re-exported: import them from here).
from .delivery import (  # noqa: E402
    attempt_record_provider_status,
    notification_deliver,
    notification_resend,
    outbox_sweep,
    sms_inbound_keyword,
    whatsapp_inbound_seen,
)
from .fallback import notification_fallback  # noqa: E402
from .outbox import notification_enqueue, notification_refresh_queued  # noqa: E402

__all__ = [
    "category_default", "platform_settings_get", "platform_event_settings_ensure", "platform_event_set",
    "seller_setting_set", "store_message_set", "store_options_set", "customer_preference_set",
    "quiet_hours_set", "inbox_mark_read", "inbox_mark_all_read", "notification_enqueue",
    "notification_deliver", "notification_resend", "outbox_sweep", "attempt_record_provider_status",
    "sms_inbound_keyword", "notification_refresh_queued", "template_validate", "template_save", "template_restore",
    "notification_send_test", "whatsapp_inbound_seen", "notification_fallback", "push_subscription_save",
    "push_subscription_remove",
]
