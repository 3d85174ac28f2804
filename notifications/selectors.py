"""Reads for the dashboards, the inbox and the admin. Each returns a scoped queryset with a
fixed number of queries however many rows there are."""
from django.db.models import QuerySet

from .events import MANDATORY_CATEGORIES, MESSAGE_CHANNELS, Category
from .models import (
    CustomerPreference,
    InboxMessage,
    Notification,
    QuietHours,
    StoreMessageSetting,
    StoreNotificationOptions,
)


def notifications_for_order(order, *, audience: str | None = None) -> QuerySet[Notification]:
    """The notifications one order caused, newest first, with their attempts prefetched.

    Pass ``audience="customer"`` on the customer's status page (sellers' alerts are not theirs).
    """
    qs = (Notification.objects.filter(order=order)
          .only("id", "event", "audience", "channel", "category", "recipient_address", "status", "status_reason",
                "subject", "attempts", "last_error", "send_after", "created_at", "sent_at", "delivered_at",
                "order_id", "store_id", "recipient_id", "fallback_of_id", "corrected_from_id")
          .order_by("-created_at", "-id"))
    if audience:
        qs = qs.filter(audience=audience)
    return qs


def inbox_for_user(user) -> QuerySet[InboxMessage]:
    """The user's in-app messages, newest first."""
    return InboxMessage.objects.filter(user=user).order_by("-created_at", "-id")


def unread_count(user) -> int:
    if not getattr(user, "is_authenticated", False):
        return 0
    return InboxMessage.objects.filter(user=user, read_at__isnull=True).count()


def store_message_settings(store) -> dict[str, StoreMessageSetting]:
    """The store's personal note / discount code per customer event (only events that have one)."""
    return {s.event: s for s in StoreMessageSetting.objects.filter(store=store)}


def store_options(store) -> StoreNotificationOptions:
    """The store's switches for optional customer messages (an unsaved default when never set)."""
    try:
        return store.notification_options
    except StoreNotificationOptions.DoesNotExist:
        return StoreNotificationOptions(store=store)


def customer_preferences_matrix(user) -> list[dict]:
    """Rows for the customer's preferences page: one per category, ``channels`` maps channel →
    {"enabled": bool, "locked": bool}. Locked cells (transactional, security) cannot be switched off."""
    saved = {(p.category, p.channel): p.enabled for p in CustomerPreference.objects.filter(user=user)}
    # Marketing per channel is what the latest consent record says (checkout opt-in, this grid,
    # an unsubscribe link, STOP): the promotion audience reads the same records.
    from accounts.models import ConsentRecord

    consent_channel = {"marketing_email": "email", "marketing_sms": "sms"}
    for kind, granted in (ConsentRecord.objects.filter(user=user, kind__in=list(consent_channel))
                          .order_by("created_at", "id").values_list("kind", "granted")):
        saved[(Category.MARKETING, consent_channel[kind])] = granted  # the last one wins
    from .events import EVENTS
    from .services import category_default

    examples: dict[str, list[str]] = {}
    for event in EVENTS.values():
        if event.customer_channels:
            examples.setdefault(event.category, []).append(event.label)

    rows = []
    for category in (Category.TRANSACTIONAL, Category.SHIPPING_UPDATES, Category.ACCOUNT, Category.MARKETING,
                     Category.SECURITY):
        locked = category in MANDATORY_CATEGORIES
        rows.append({
            "category": category.value,
            "label": category.label,
            "locked": locked,
            # The messages this row switches (every category has real events behind it).
            "examples": examples.get(category.value, []),
            "channels": {
                ch.value: {"enabled": True if locked else saved.get((category, ch.value),
                                                                    category_default(category)),
                           "locked": locked}
                for ch in MESSAGE_CHANNELS
            },
        })
    return rows


def quiet_hours_for(user) -> QuietHours | None:
    try:
        return user.quiet_hours
    except QuietHours.DoesNotExist:
        return None


def seller_recipients(store):
    """Active sellers of a store (the users who get its seller alerts)."""
    from django.contrib.auth import get_user_model

    return get_user_model().objects.filter(store=store, is_active=True).order_by("id")



def push_settings_for(user) -> dict:
    """What the "turn on notifications in this browser" card needs."""
    from django.conf import settings

    from .channels.push import vapid_configured

    return {"enabled": vapid_configured(), "public_key": settings.VAPID_PUBLIC_KEY,
            "devices": user.push_subscriptions.count() if user.is_authenticated else 0}
