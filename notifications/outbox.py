"""The outbox: turn one event into Notification rows inside the caller's transaction.

``notification_enqueue`` decides who gets what on which channel (platform settings, seller
toggles, store switches, customer preferences, suppression list, SMS allow-list and daily cap,
quiet hours), writes one row per (recipient, channel) with the rendered-from context, and asks
for delivery only after the transaction commits. A rolled-back change leaves no row and sends
nothing; the same change enqueued twice writes nothing new (unique event_key × address × channel).
"""
import datetime
import zoneinfo

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from .context import Subject, build_context, for_recipient, load_subject
from .events import (
    DEFAULT_ON_CATEGORIES,
    MANDATORY_CATEGORIES,
    Audience,
    Category,
    Channel,
    get_event,
)
from .recipients import Recipient, normalise_address
from .subjects import subject_kind
from .models import (
    CustomerPreference,
    Notification,
    PlatformEventSetting,
    PlatformSettings,
    QuietHours,
    SellerNotificationSetting,
)

DEFAULT_TIME_ZONE = "Europe/London"


# --- who ---------------------------------------------------------------------------------------

def platform_channels(event: str) -> tuple[bool, dict[str, list[str]]]:
    """(enabled, {audience: channels}) from the platform setting, or the catalogue defaults."""
    definition = get_event(event)
    row = PlatformEventSetting.objects.filter(event=event).first()
    if row is None:
        enabled, channels = True, {Audience.CUSTOMER: list(definition.customer_channels),
                                   Audience.SELLER: list(definition.seller_channels)}
    else:
        enabled, channels = row.enabled, {
            Audience.CUSTOMER: [c for c in row.customer_channels if definition.customer_channels],
            Audience.SELLER: [c for c in row.seller_channels if definition.seller_channels],
        }
    # Suppliers are outside contacts: always the catalogue's channels (email).
    channels[Audience.SUPPLIER] = list(definition.supplier_channels)
    if definition.category == Category.SECURITY:
        # Security messages cannot be switched off and always go by email (SPEC section 2).
        enabled = True
        if Channel.EMAIL not in channels[Audience.CUSTOMER]:
            channels[Audience.CUSTOMER].insert(0, Channel.EMAIL)
    return enabled, channels


def customer_recipients(order, channels) -> list[Recipient]:
    user = order.customer if order.customer_id else None
    out = []
    for channel in channels:
        if channel == Channel.EMAIL and order.email:
            out.append(Recipient(Audience.CUSTOMER, channel, normalise_address(channel, order.email), user,
                                 f"contract: order {order.number}"))
        elif channel == Channel.SMS:
            if order.sms_opt_in and order.phone:
                out.append(Recipient(Audience.CUSTOMER, channel, order.phone, user,
                                     "consent: SMS updates ticked at checkout"))
            elif user is not None and user.sms_opt_in and user.phone:
                out.append(Recipient(Audience.CUSTOMER, channel, str(user.phone), user,
                                     "consent: SMS updates switched on in the account"))
        elif channel == Channel.INAPP and user is not None:
            out.append(Recipient(Audience.CUSTOMER, channel, f"user:{user.pk}", user,
                                 f"contract: order {order.number}"))
    return out


def seller_recipients(order, channels) -> list[Recipient]:
    from django.contrib.auth import get_user_model

    sellers = list(get_user_model().objects.filter(store_id=order.store_id, is_active=True).order_by("id"))
    out = []
    for user in sellers:
        for channel in channels:
            address = {Channel.EMAIL: user.email, Channel.SMS: str(user.phone or ""),
                       Channel.INAPP: f"user:{user.pk}"}[Channel(channel)]
            if address:
                out.append(Recipient(Audience.SELLER, channel, normalise_address(channel, address), user,
                                     "contract: seller terms (store alerts)"))
    return out


def seller_channels_enabled(store_id, event: str, channels: list[str]) -> list[str]:
    saved = dict(SellerNotificationSetting.objects.filter(store_id=store_id, event=event)
                 .values_list("channel", "enabled"))
    return [c for c in channels if saved.get(c, True)]


def store_switch_on(subject: Subject, switch: str) -> bool:
    options = subject.store_options
    return options is None or bool(getattr(options, switch, True))


# --- when --------------------------------------------------------------------------------------

def _in_window(t: datetime.time, start: datetime.time, end: datetime.time) -> bool:
    if start <= end:
        return start <= t < end
    return t >= start or t < end  # crosses midnight, e.g. 21:00–08:00


def quiet_hours_end(user, now=None, platform: PlatformSettings | None = None) -> datetime.datetime | None:
    """When an SMS to ``user`` (None for a guest) may go, if now is inside their quiet hours."""
    now = now or timezone.now()
    start, end = None, None
    if user is not None:
        try:
            own = user.quiet_hours  # usually already loaded with the order (context.load_subject)
        except QuietHours.DoesNotExist:
            own = None
        if own is not None:
            if not own.enabled:
                return None
            start, end = own.start, own.end
    if start is None:
        platform = platform or PlatformSettings.objects.filter(pk=1).first() or PlatformSettings()
        start, end = platform.quiet_hours_start, platform.quiet_hours_end
    if start == end:
        return None
    try:
        tz = zoneinfo.ZoneInfo(getattr(user, "time_zone", "") or DEFAULT_TIME_ZONE)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        tz = zoneinfo.ZoneInfo(DEFAULT_TIME_ZONE)
    local = now.astimezone(tz)
    if not _in_window(local.time(), start, end):
        return None
    ends = datetime.datetime.combine(local.date(), end, tzinfo=tz)
    if ends <= local:
        ends += datetime.timedelta(days=1)
    return ends.astimezone(datetime.UTC)


# --- the outbox --------------------------------------------------------------------------------

def _customer_prefs(user) -> dict:
    if user is None:
        return {}
    return {(p.category, p.channel): p.enabled for p in CustomerPreference.objects.filter(user=user)}


def _blocked_by_preference(category: str, channel: str, prefs: dict) -> str:
    if category in MANDATORY_CATEGORIES or category == Category.SELLER_ALERT:
        return ""
    enabled = prefs.get((category, channel), category in DEFAULT_ON_CATEGORIES)
    if not enabled:
        return f"The customer switched off {Category(category).label.lower()} by {Channel(channel).label}."
    return ""


def _sms_country_allowed(number: str, platform: PlatformSettings | None) -> bool:
    codes = [c.strip().lstrip("+") for c in (platform.sms_allowed_countries if platform else "").split(",")
             if c.strip()]
    return not codes or any(number.lstrip("+").startswith(code) for code in codes)


def _sms_over_cap(number: str, platform: PlatformSettings | None) -> bool:
    cap = platform.sms_daily_cap if platform else 0
    if not cap:
        return False
    since = timezone.now() - datetime.timedelta(days=1)
    sent = Notification.objects.filter(channel=Channel.SMS, recipient_address=number, created_at__gte=since,
                                       status__in=["queued", "sending", "sent", "delivered"]).count()
    return sent >= cap


def notification_enqueue(*, event: str, event_key: str, order=None, subject=None,
                         change: dict | None = None, merge: bool = False,
                         audiences: tuple | None = None) -> list[Notification]:
    """Write the outbox rows for one event and queue them on commit.

    What the event is about decides who gets it and what they read (``subjects.subject_kind``):
    an order (pass ``order``, or a loaded ``context.Subject``), a product (``subjects.ProductSubject``)
    or an account (``subjects.AccountSubject``). Must run inside the transaction of the change
    (the receivers do). ``merge=True`` refreshes the context of rows already queued under the same
    key (two signals about one carrier update). Returns the rows written or refreshed by this call.
    """
    if getattr(settings, "NOTIFICATIONS_SUPPRESSED", False):
        return []  # loading history (seed_demo): the timeline is real, nobody is told again
    definition = get_event(event)
    enabled, channels_by_audience = platform_channels(event)
    if not enabled:
        return []
    kind = subject_kind(event)
    if subject is None:
        subject = load_subject(order, event, change=change)
    ref = kind.reference(subject)
    platform = None
    rows: list[Notification] = []
    for audience in audiences or definition.audiences:
        channels = [c for c in channels_by_audience.get(audience, []) if c in Channel.values]
        if not channels or not kind.allowed(definition, audience, subject):
            continue
        recipients = kind.recipients(event, audience, channels, subject)
        if not recipients:
            continue
        category = definition.category_for(audience)
        shared = kind.context(event, audience, subject)
        # The suppression list is checked when each row is claimed for delivery (one place, always
        # current), so it is not read here.
        prefs_cache: dict = {}
        optional = category not in MANDATORY_CATEGORIES and category != Category.SELLER_ALERT
        for r in recipients:
            row = Notification(
                event=event, event_key=event_key[:200], audience=audience, recipient=r.user,
                recipient_address=r.address[:254], channel=r.channel, category=category,
                language=getattr(r.user, "language", "") or settings.LANGUAGE_CODE, order_id=ref.order_id,
                store_id=ref.store_id, subject_type=ref.type, subject_id=ref.id,
                context=kind.personalise(shared, r, audience, subject), legal_basis=r.legal_basis,
            )
            if optional and not r.preference_checked:
                uid = getattr(r.user, "pk", None)
                if uid not in prefs_cache:
                    prefs_cache[uid] = _customer_prefs(r.user)
                reason = _blocked_by_preference(category, r.channel, prefs_cache[uid])
                if reason:
                    row.status, row.status_reason = Notification.Status.SKIPPED, reason
            if row.status == Notification.Status.QUEUED and r.channel == Channel.SMS:
                platform = platform or PlatformSettings.objects.filter(pk=1).first() or PlatformSettings()
                if not _sms_country_allowed(r.address, platform):
                    row.status, row.status_reason = (Notification.Status.SKIPPED,
                                                     "SMS to this country is not enabled on the platform.")
                elif _sms_over_cap(r.address, platform):
                    row.status, row.status_reason = (Notification.Status.SKIPPED,
                                                     f"Daily SMS cap ({platform.sms_daily_cap}) reached.")
                elif not definition.urgent:
                    held_until = quiet_hours_end(r.user, platform=platform)
                    if held_until:
                        row.send_after = held_until
                        row.status_reason = "Held for the recipient's quiet hours."
            rows.append(row)
    if not rows:
        return []
    now = timezone.now()
    if not merge:
        # INSERT … ON CONFLICT (event_key, address, channel) DO UPDATE (a no-op) RETURNING id:
        # a row that already exists for this change is neither duplicated nor changed, and every
        # row comes back with its id in the same round trip.
        Notification.objects.bulk_create(rows, update_conflicts=True, update_fields=["event_key"],
                                         unique_fields=["event_key", "recipient_address", "channel"])
        queue_on_commit([r.pk for r in rows if r.status == Notification.Status.QUEUED
                         and (r.send_after is None or r.send_after <= now)])
        return rows
    Notification.objects.bulk_create(rows, ignore_conflicts=True)
    keys = {(r.recipient_address, r.channel) for r in rows}
    stored = [n for n in Notification.objects.filter(event_key=event_key[:200]).only(
        "id", "status", "send_after", "recipient_address", "channel", "context")
        if (n.recipient_address, n.channel) in keys]
    fresh = {(r.recipient_address, r.channel): r for r in rows}
    for n in stored:
        if n.status == Notification.Status.QUEUED and n.context != fresh[(n.recipient_address, n.channel)].context:
            n.context = fresh[(n.recipient_address, n.channel)].context
            n.save(update_fields=["context", "updated_at"])
    queue_on_commit([n.pk for n in stored if n.status == Notification.Status.QUEUED
                     and (n.send_after is None or n.send_after <= now)])
    return stored


def notification_refresh_queued(*, order, event: str, change: dict | None = None) -> int:
    """Rebuild the context of this order's still-queued ``event`` rows from the database (a later
    step of the same transaction changed what they should say, e.g. the payment at checkout)."""
    queued = list(Notification.objects.filter(order_id=order.pk, event=event, status=Notification.Status.QUEUED)
                  .select_related("recipient"))
    if not queued:
        return 0
    by_audience = {}
    for n in queued:
        if n.audience not in by_audience:
            facts = dict(n.context.get("change", {}), **(change or {}))
            subject = load_subject(order, event, change=facts)
            by_audience[n.audience] = (build_context(event, n.audience, subject), subject.order)
        shared, fresh_order = by_audience[n.audience]
        n.context = for_recipient(shared, n.recipient, n.audience, fresh_order)
        n.save(update_fields=["context", "updated_at"])
    return len(queued)


BATCH_SIZE = 10


def dispatch(ids: list[int]) -> int:
    """Hand notifications to Celery: one task per batch of ids (one event's rows travel together,
    so the worker claims and logs them with one commit each instead of one per row)."""
    from .tasks import deliver, deliver_batch

    ids = list(ids)
    for start in range(0, len(ids), BATCH_SIZE):
        chunk = ids[start:start + BATCH_SIZE]
        if len(chunk) == 1:
            deliver.delay(chunk[0])
        else:
            deliver_batch.delay(chunk)
    return len(ids)


def queue_on_commit(ids: list[int]) -> None:
    """Hand notifications to Celery once the surrounding transaction has committed. If the broker
    is down the rows stay queued and the sweeper hands them over later: nothing is lost."""
    if not ids:
        return

    def on_commit():
        try:
            dispatch(ids)
        except Exception:
            import logging

            logging.getLogger(__name__).exception("Could not queue notifications %s; the sweeper will", ids)

    transaction.on_commit(on_commit)
