"""The outbox: turn one event into Notification rows inside the caller's transaction.

``notification_enqueue`` decides who gets what on which channel (platform settings, seller
toggles, store switches, customer preferences, suppression list, SMS allow-list and daily cap,
quiet hours), writes one row per (recipient, channel) with the rendered-from context, and asks
for delivery only after the transaction commits. A rolled-back change leaves no row and sends
nothing; the same change enqueued twice writes nothing new (unique event_key × address × channel).
"""
import datetime
import zoneinfo

import phonenumbers
from phonenumbers.timezone import time_zones_for_number as phone_time_zones

from django.conf import settings
from django.db import transaction
from django.db.models import Count
from django.utils import timezone, translation

from .context import Subject, build_context, for_recipient, load_subject
from .events import (
    DEFAULT_ON_CATEGORIES,
    DIGEST_EVENTS,
    MANDATORY_CATEGORIES,
    MARKETING_SMS_HOURS,
    SELLER_OPT_IN_CHANNELS,
    Audience,
    Category,
    Channel,
    get_event,
    held_by_quiet_hours,
)
from .recipients import Recipient, normalise_address, verified_phone
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
PHONE_CHANNELS = (Channel.SMS, Channel.WHATSAPP)


# --- who ---------------------------------------------------------------------------------------

_READ = object()


def platform_channels(event: str, row=_READ) -> tuple[bool, dict[str, list[str]]]:
    """(enabled, {audience: channels}) from the platform setting, or the catalogue defaults.
    ``row``: the PlatformEventSetting already read (None: there is none), else it is read here."""
    definition = get_event(event)
    if row is _READ:
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
    channels[Audience.STAFF] = list(definition.staff_channels)  # platform staff (SLA escalations)
    if definition.category == Category.SECURITY:
        # Security messages cannot be switched off and always go by email (SPEC section 2), except a
        # code that proves a phone number (account.phone_verify), which only means something by SMS.
        enabled = True
        if Channel.EMAIL in definition.customer_channels and Channel.EMAIL not in channels[Audience.CUSTOMER]:
            channels[Audience.CUSTOMER].insert(0, Channel.EMAIL)
    return enabled, channels


def customer_recipients(order, channels, push: bool | None = None) -> list[Recipient]:
    """``push``: whether the customer has a browser subscribed to push, if the caller read it
    (None: read here, when the event goes by push)."""
    user = order.customer if order.customer_id else None
    out = []
    language = order.language  # chosen at checkout: the language of every message about this order
    for channel in channels:
        if channel == Channel.EMAIL and order.email:
            out.append(Recipient(Audience.CUSTOMER, channel, normalise_address(channel, order.email), user,
                                 f"contract: order {order.number}", language=language))
        elif channel == Channel.SMS:
            if order.sms_opt_in and order.phone:
                out.append(Recipient(Audience.CUSTOMER, channel, order.phone, user,
                                     "consent: SMS updates ticked at checkout", language=language))
            elif user is not None and user.sms_opt_in and user.phone:
                out.append(Recipient(Audience.CUSTOMER, channel, str(user.phone), user,
                                     "consent: SMS updates switched on in the account", language=language))
        elif channel == Channel.INAPP and user is not None:
            out.append(Recipient(Audience.CUSTOMER, channel, f"user:{user.pk}", user,
                                 f"contract: order {order.number}", language=language))
        elif channel == Channel.WHATSAPP:
            if order.whatsapp_opt_in and order.phone:
                out.append(Recipient(Audience.CUSTOMER, channel, order.phone, user,
                                     "consent: WhatsApp updates ticked at checkout", language=language))
            elif user is not None and user.whatsapp_opt_in and user.phone:
                out.append(Recipient(Audience.CUSTOMER, channel, str(user.phone), user,
                                     "consent: WhatsApp updates switched on in the account", language=language))
        elif channel == Channel.PUSH and user is not None and (
                push if push is not None else bool(push_subscribed({user.pk}))):
            out.append(Recipient(Audience.CUSTOMER, channel, f"user:{user.pk}", user,
                                 "consent: browser notifications turned on", language=language))
    return out


def push_subscribed(user_ids: set) -> set:
    """The users among ``user_ids`` with at least one browser subscribed to push (one query)."""
    from .models import PushSubscription

    if not user_ids:
        return set()
    return set(PushSubscription.objects.filter(user_id__in=user_ids).order_by()
               .values_list("user_id", flat=True).distinct())


def seller_recipients(order, channels) -> list[Recipient]:
    from django.contrib.auth import get_user_model

    sellers = list(get_user_model().objects.filter(store_id=order.store_id, is_active=True).order_by("id"))
    pushable = push_subscribed({u.pk for u in sellers}) if Channel.PUSH in channels else set()
    out = []
    for user in sellers:
        for channel in channels:
            address = {Channel.EMAIL: user.email, Channel.SMS: verified_phone(user),
                       Channel.INAPP: f"user:{user.pk}",
                       Channel.PUSH: f"user:{user.pk}" if user.pk in pushable else ""}.get(Channel(channel), "")
            if address:
                out.append(Recipient(Audience.SELLER, channel, normalise_address(channel, address), user,
                                     "contract: seller terms (store alerts)"))
    return out


def seller_channels_enabled(store_id, event: str, channels: list[str]) -> list[str]:
    saved = dict(SellerNotificationSetting.objects.filter(store_id=store_id, event=event)
                 .values_list("channel", "enabled"))
    # SMS is offered to sellers but stays off until the store switches it on.
    return [c for c in channels if saved.get(c, c not in SELLER_OPT_IN_CHANNELS)]


def store_switch_on(subject: Subject, switch: str) -> bool:
    options = subject.store_options
    return options is None or bool(getattr(options, switch, True))


# --- when --------------------------------------------------------------------------------------

def _in_window(t: datetime.time, start: datetime.time, end: datetime.time) -> bool:
    if start <= end:
        return start <= t < end
    return t >= start or t < end  # crosses midnight, e.g. 21:00–08:00


def recipient_time_zone(user, phone: str = "") -> zoneinfo.ZoneInfo:
    """The recipient's own time zone: the account's, else (a guest) the one their phone number's
    country and area code pin down, else the shop's default."""
    name = getattr(user, "time_zone", "") or ""
    if not name and phone:
        try:
            zones = phone_time_zones(phonenumbers.parse(phone))
        except phonenumbers.NumberParseException:
            zones = ()
        if len(zones) == 1 and zones[0] != "Etc/Unknown":
            name = zones[0]
    try:
        return zoneinfo.ZoneInfo(name or DEFAULT_TIME_ZONE)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo(DEFAULT_TIME_ZONE)


def _quiet_windows(user, platform: PlatformSettings | None, category: str, channel: str) -> list[tuple]:
    windows = []
    own = None
    if user is not None:
        try:
            own = user.quiet_hours  # usually already loaded with the subject (context.load_subject)
        except QuietHours.DoesNotExist:
            own = None
    if own is not None:
        if own.enabled:
            windows.append((own.start, own.end))
    else:
        platform = platform or PlatformSettings.objects.filter(pk=1).first() or PlatformSettings()
        windows.append((platform.quiet_hours_start, platform.quiet_hours_end))
    if category == Category.MARKETING and channel == Channel.SMS:
        opens, closes = MARKETING_SMS_HOURS  # allowed 08:00–21:00, so held 21:00–08:00
        windows.append((closes, opens))
    return [(start, end) for start, end in windows if start != end]


def quiet_hours_end(user, now=None, platform: PlatformSettings | None = None, *, category: str = "",
                    channel: str = Channel.SMS, phone: str = "") -> datetime.datetime | None:
    """When a message held by quiet hours may go (UTC), or None if it may go now.

    ``user`` is None for a guest (the platform window, in the time zone of their phone number).
    Windows are read in the recipient's time zone; a marketing SMS also waits for 08:00–21:00
    local. Where windows overlap, the message waits until it is outside all of them.
    """
    now = now or timezone.now()
    windows = _quiet_windows(user, platform, category, channel)
    if not windows:
        return None
    tz = recipient_time_zone(user, phone)
    local, moved = now.astimezone(tz), False
    for _ in range(len(windows) + 1):
        ends = []
        for start, end in windows:
            if _in_window(local.time(), start, end):
                ends_at = datetime.datetime.combine(local.date(), end, tzinfo=tz)
                if ends_at <= local:
                    ends_at = datetime.datetime.combine(local.date() + datetime.timedelta(days=1), end, tzinfo=tz)
                ends.append(ends_at)
        if not ends:
            break
        local, moved = max(ends), True
    return local.astimezone(datetime.UTC) if moved else None


def held_reason(until: datetime.datetime, tz: zoneinfo.ZoneInfo) -> str:
    local = until.astimezone(tz)
    return f"Held for the recipient's quiet hours until {local:%H:%M} ({tz.key})."


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


def _sms_over_cap(number: str, platform: PlatformSettings | None, counts: dict | None = None,
                  numbers: list[str] = ()) -> bool:
    """Has ``number`` had the platform's daily SMS cap? ``counts`` (filled here) keeps what one
    change already counted: the numbers of all its SMS recipients (``numbers``) are counted in
    one query, not one per row."""
    cap = platform.sms_daily_cap if platform else 0
    if not cap:
        return False
    counts = {} if counts is None else counts
    if number not in counts:
        wanted = {number, *(n for n in numbers if n not in counts)}
        since = timezone.now() - datetime.timedelta(days=1)
        found = dict(Notification.objects.filter(channel=Channel.SMS, recipient_address__in=wanted,
                                                 created_at__gte=since,
                                                 status__in=["queued", "sending", "sent", "delivered"])
                     .values_list("recipient_address").annotate(n=Count("id")).order_by())
        counts.update({n: found.get(n, 0) for n in wanted})
    return counts[number] >= cap


def insert_rows(rows: list[Notification], **options) -> None:
    """``bulk_create`` the rows, each context sent as its own JSON parameter.

    On PostgreSQL Django inserts several rows as ``UNNEST`` of one array per column; for the
    contexts (~3 KB of JSON each) that means psycopg quoting every character of every context into
    one ``jsonb[]`` literal in Python, the costliest step of an order change. Given as a value
    expression, each context is one parameter quoted by libpq (plain ``VALUES`` rows)."""
    from django.db.models import JSONField, Value

    contexts = [row.context for row in rows]
    for row in rows:
        row.context = Value(row.context, output_field=JSONField())
    try:
        Notification.objects.bulk_create(rows, **options)
    finally:
        for row, context in zip(rows, contexts):
            row.context = context


def insert_rows_once(rows: list[Notification]) -> None:
    """INSERT … ON CONFLICT (event_key, recipient_address, channel) DO UPDATE (a no-op) RETURNING
    id: a row that already exists for this change is neither duplicated nor changed, and every row
    gets its id. On PostgreSQL the statement is written once per process and each row's values are
    prepared as the ORM prepares them (``get_db_prep_save``); building it with the ORM for every
    change cost more CPU than running it (bench/README.md). Elsewhere: ``bulk_create``."""
    from django.db import connection

    if connection.vendor != "postgresql":
        insert_rows(rows, update_conflicts=True, update_fields=["event_key"],
                    unique_fields=["event_key", "recipient_address", "channel"])
        return
    fields = [f for f in Notification._meta.concrete_fields if not f.primary_key]
    row_sql = "(" + ", ".join(["%s"] * len(fields)) + ")"
    params = []
    for row in rows:
        for f in fields:
            params.append(f.get_db_prep_save(f.pre_save(row, True), connection))
    sql = _INSERT_SQL.get(len(rows))
    if sql is None:
        names = ", ".join(f'"{f.column}"' for f in fields)
        sql = (f'INSERT INTO "{Notification._meta.db_table}" ({names}) VALUES {", ".join([row_sql] * len(rows))} '
               f'ON CONFLICT ("event_key", "recipient_address", "channel") DO UPDATE SET "event_key" = '
               f'EXCLUDED."event_key" RETURNING "id"')
        if len(rows) <= 32:  # the usual sizes (one change's rows); a bigger one is built each time
            _INSERT_SQL[len(rows)] = sql
    from notify_site.rows import prepared_cursor

    with prepared_cursor(connection) as cursor:
        cursor.execute(sql, params)
        ids = [r[0] for r in cursor.fetchall()]
    for row, pk in zip(rows, ids):
        row.pk = pk
        row._state.adding, row._state.db = False, connection.alias


_INSERT_SQL: dict[int, str] = {}


def recipient_language(r: Recipient, audience: str) -> str:
    """A customer reads their messages in the language they chose: for this order at checkout (a
    guest's too), else their account's. Sellers and suppliers get English (the dashboard's)."""
    if audience != Audience.CUSTOMER:
        return settings.LANGUAGE_CODE
    language = r.language or getattr(r.user, "language", "") or settings.LANGUAGE_CODE
    return language if language in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE


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
    kind = subject_kind(event)
    if subject is None:
        subject = load_subject(order, event, change=change)
    known = getattr(subject, "settings", None)  # an order's: read with it (change_settings)
    if known is not None and known.event == event:
        enabled, channels_by_audience = platform_channels(event, known.event_setting)
        platform = known.platform
    else:
        enabled, channels_by_audience = platform_channels(event)
        platform = None
    if not enabled:
        return []
    ref = kind.reference(subject)
    sms_counts: dict[str, int] = {}  # SMS sent per number in the last day, counted once per change
    rows: list[Notification] = []
    for audience in audiences or definition.audiences:
        channels = [c for c in channels_by_audience.get(audience, []) if c in Channel.values]
        if not channels or not kind.allowed(definition, audience, subject):
            continue
        recipients = kind.recipients(event, audience, channels, subject)
        if not recipients:
            continue
        category = definition.category_for(audience)
        # One shared context per language: money, dates and labels as each reader writes them.
        shared_by_language: dict = {}
        # The suppression list is checked when each row is claimed for delivery (one place, always
        # current), so it is not read here.
        prefs_cache: dict = {}
        sms_numbers = [r.address for r in recipients if r.channel == Channel.SMS]
        optional = category not in MANDATORY_CATEGORIES and category != Category.SELLER_ALERT
        for r in recipients:
            language = recipient_language(r, audience)
            with translation.override(language):
                if language not in shared_by_language:
                    shared_by_language[language] = kind.context(event, audience, subject)
                context = kind.personalise(shared_by_language[language], r, audience, subject)
            row = Notification(
                event=event, event_key=event_key[:200], audience=audience, recipient=r.user,
                recipient_address=r.address[:254], channel=r.channel, category=category,
                language=language, order_id=ref.order_id,
                store_id=ref.store_id, subject_type=ref.type, subject_id=ref.id,
                context=context, legal_basis=r.legal_basis,
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
                elif _sms_over_cap(r.address, platform, sms_counts, sms_numbers):
                    row.status, row.status_reason = (Notification.Status.SKIPPED,
                                                     f"Daily SMS cap ({platform.sms_daily_cap}) reached.")
            if row.status == Notification.Status.QUEUED and held_by_quiet_hours(category, r.channel):
                platform = platform or PlatformSettings.objects.filter(pk=1).first() or PlatformSettings()
                held_until = quiet_hours_end(r.user, platform=platform, category=category, channel=r.channel,
                                             phone=r.address if r.channel in PHONE_CHANNELS else "")
                if held_until:
                    row.send_after = held_until
                    row.status_reason = held_reason(held_until, recipient_time_zone(r.user, r.address))
            rows.append(row)
    if not rows:
        return []
    if event in DIGEST_EVENTS:
        # The store may take this seller alert as a digest: its rows wait, held, for the window.
        from .digest import hold_for_digest

        hold_for_digest(rows, event=event, store_id=ref.store_id)
    now = timezone.now()
    if not merge:
        # INSERT … ON CONFLICT (event_key, address, channel) DO UPDATE (a no-op) RETURNING id:
        # a row that already exists for this change is neither duplicated nor changed, and every
        # row comes back with its id in the same round trip.
        insert_rows_once(rows)
        queue_on_commit([r.pk for r in rows if r.status == Notification.Status.QUEUED
                         and (r.send_after is None or r.send_after <= now)])
        return rows
    insert_rows(rows, ignore_conflicts=True)
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
    # A seller alert held for its digest is still waiting too: the digest must say what is true.
    queued = list(Notification.objects.filter(order_id=order.pk, event=event, status__in=[
        Notification.Status.QUEUED, Notification.Status.HELD_FOR_DIGEST]).select_related("recipient"))
    if not queued:
        return 0
    by_audience = {}
    for n in queued:
        key = (n.audience, n.language)
        with translation.override(n.language or settings.LANGUAGE_CODE):
            if key not in by_audience:
                facts = dict(n.context.get("change", {}), **(change or {}))
                subject = load_subject(order, event, change=facts)
                by_audience[key] = (build_context(event, n.audience, subject), subject.order)
            shared, fresh_order = by_audience[key]
            n.context = for_recipient(shared, n.recipient, n.audience, fresh_order)
        n.save(update_fields=["context", "updated_at"])
    return len(queued)


BATCH_SIZE = 10
# After a failed publish, skip the broker for this long: the request that committed a change must
# not wait on a dead broker (the rows are in the outbox and the sweeper hands them over).
BROKER_BACKOFF_SECONDS = 5.0
_broker_down_until = 0.0


def dispatch(ids: list[int], *, retry: bool = True) -> int:
    """Hand notifications to Celery: one task per batch of ids (one event's rows travel together).
    ``retry=False``: one publish attempt, no reconnect loop (a request must not wait)."""
    from .tasks import deliver, deliver_batch

    ids = list(ids)
    options = {} if retry else {"retry": False}
    for start in range(0, len(ids), BATCH_SIZE):
        chunk = ids[start:start + BATCH_SIZE]
        if len(chunk) == 1:
            deliver.apply_async(args=[chunk[0]], **options)
        else:
            deliver_batch.apply_async(args=[chunk], **options)
    return len(ids)


def dispatch_quietly(ids: list[int]) -> int:
    """Publish without waiting on a broker that is away; returns how many were handed over (0 if
    the broker is down: they stay queued in the outbox and the sweeper hands them over later)."""
    import logging
    import time

    global _broker_down_until
    if not ids:
        return 0
    if time.monotonic() < _broker_down_until:
        return 0
    try:
        return dispatch(ids, retry=False)
    except Exception as exc:
        _broker_down_until = time.monotonic() + BROKER_BACKOFF_SECONDS
        logging.getLogger(__name__).warning("Broker unavailable (%s: %s); %d notification(s) wait in the outbox "
                                            "for the sweeper", type(exc).__name__, exc, len(ids))
        return 0


def queue_on_commit(ids: list[int]) -> None:
    """Hand notifications to Celery once the surrounding transaction has committed. If the broker
    is down the rows stay queued and the sweeper hands them over later: nothing is lost."""
    if not ids:
        return
    ids = list(ids)
    transaction.on_commit(lambda: dispatch_quietly(ids))


def notification_enqueue_account(*, event: str, event_key: str, user, context: dict,
                                 legal_basis: str) -> list[Notification]:
    """Write the outbox rows for an event about a customer's account (not an order): one row per
    channel of the event the customer can receive, queued on commit. Must run inside the
    transaction of the change; the same ``event_key`` enqueued twice writes nothing new.

    Account events are security messages (always sent; email goes even if the customer switched
    everything else off), so no preference or quiet hours apply; the suppression list still does,
    at claim time.
    """
    if getattr(settings, "NOTIFICATIONS_SUPPRESSED", False):
        return []
    definition = get_event(event)
    enabled, channels_by_audience = platform_channels(event)
    if not enabled:
        return []
    addresses = {Channel.EMAIL: normalise_address(Channel.EMAIL, user.email), Channel.INAPP: f"user:{user.pk}"}
    recipient = {"first_name": user.first_name or user.username, "audience": Audience.CUSTOMER}
    rows = [Notification(event=event, event_key=event_key[:200], audience=Audience.CUSTOMER, recipient=user,
                         recipient_address=addresses[channel][:254], channel=channel,
                         category=definition.category, language=user.language or settings.LANGUAGE_CODE,
                         context=dict(context, recipient=recipient), legal_basis=legal_basis[:200])
            for channel in channels_by_audience.get(Audience.CUSTOMER, []) if addresses.get(channel)]
    if not rows:
        return []
    Notification.objects.bulk_create(rows, update_conflicts=True, update_fields=["event_key"],
                                     unique_fields=["event_key", "recipient_address", "channel"])
    queue_on_commit([r.pk for r in rows if r.status == Notification.Status.QUEUED])
    return rows
