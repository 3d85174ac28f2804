"""Digests: a store takes a seller alert (new orders, ``events.DIGEST_EVENTS``) on a channel as one
message every 15, 30 or 60 minutes instead of one message per order.

Nothing is lost and nothing goes twice because the digest is made of ordinary outbox rows:

* Each new order still writes its seller rows in the order's transaction (``notification_enqueue``).
  On a channel the store takes as a digest (``SellerNotificationSetting.digest_minutes``), the row is
  written *held*: status ``held_for_digest``, ``send_after`` = the end of its window. Windows are
  aligned on the clock in UTC (a 15-minute window ends at :00, :15, :30, :45), so the window's end
  is also its key. A held row is never delivered by itself (the claim and the sweeper only take
  ``queued`` rows).
* Beat (``notifications.digest_close_due``, every minute) takes each seller × channel × window whose
  end has passed and, in one transaction: locks its held rows, writes ONE digest row
  (event ``order.placed_digest``, key ``order.placed_digest:s<store>:<window end>``, unique per
  address × channel like every row) whose context lists each order with its total and link, moves
  the held rows to ``digested`` pointing at it, and queues it on commit. A second or concurrent run
  finds no held rows left (they are locked, then no longer held), so it writes nothing.
* An order whose transaction began before its window closed but committed after that window's
  digest went out is not lost: the next run finds it held and past due, and sends it in a digest of
  its own for that window (key suffixed with the first row's id).
* An empty period has no held rows, so it sends nothing.
* A store that switches the digest off (or changes its length) mid-window: rows already held keep
  their window and go out in its digest when it closes; new orders follow the new choice.
"""
import datetime
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from .events import DIGEST_EVENTS, Audience, Category, SubjectKind, get_event
from .models import Notification, SellerNotificationSetting

S = Notification.Status
CLOSE_BATCH = 200
# An SMS digest names this many orders, then "and N more" (the dashboard link lists them all).
SMS_ORDERS = 8
EPOCH = datetime.datetime(2000, 1, 1, tzinfo=datetime.UTC)


def window_end(now: datetime.datetime, minutes: int) -> datetime.datetime:
    """The end of the ``minutes``-long window that ``now`` falls in (aligned on the clock, UTC)."""
    step = datetime.timedelta(minutes=minutes)
    elapsed = now.astimezone(datetime.UTC) - EPOCH
    return EPOCH + (elapsed // step + 1) * step


def digest_minutes_for(store_id, event: str) -> dict[str, int]:
    """{channel: minutes} for the channels on which the store takes ``event`` as a digest."""
    if not store_id:
        return {}
    return dict(SellerNotificationSetting.objects.filter(store_id=store_id, event=event, digest_minutes__gt=0)
                .values_list("channel", "digest_minutes"))


def hold_for_digest(rows: list[Notification], *, event: str, store_id) -> None:
    """The hold decision (called by ``notification_enqueue`` before it writes the rows): the seller
    rows on a digest channel wait for the end of their window instead of going now."""
    sellers = [r for r in rows if r.audience == Audience.SELLER and r.status == S.QUEUED]
    if not sellers:
        return
    chosen = digest_minutes_for(store_id, event)
    if not chosen:
        return
    now = timezone.now()
    for row in sellers:
        minutes = chosen.get(row.channel)
        if minutes:
            row.status, row.send_after = S.HELD_FOR_DIGEST, window_end(now, minutes)
            row.status_reason = f"Held for the {minutes}-minute digest."


def _digest_key(event: str, store_id: int, ends: datetime.datetime) -> str:
    return f"{DIGEST_EVENTS[event]}:s{store_id}:{ends.astimezone(datetime.UTC):%Y%m%dT%H%MZ}"


def _path(name: str, *args) -> str:
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return ""


@dataclass
class DigestSubject:
    """One digest: the store, its held alerts (their stored contexts) and the window's end."""

    store: object
    items: list = field(default_factory=list)  # the held rows' contexts, oldest first
    ends_at: datetime.datetime | None = None


def _item(ctx: dict) -> dict:
    order = ctx.get("order") or {}
    links = ctx.get("links") or {}
    return {"number": order.get("number", ""), "total": order.get("total", ""),
            "placed_at": order.get("placed_at", ""), "item_count": order.get("item_count", 0),
            "customer": (ctx.get("customer") or {}).get("name", ""),
            "payment": (order.get("payment") or {}).get("status_label", ""), "link": links.get("dashboard", "")}


def digest_context(event: str, subject: DigestSubject) -> dict:
    """What a digest's templates see: the store, the window and each order (number, total, link)."""
    from .context import when

    definition = get_event(event)
    store = subject.store
    orders = [_item(ctx) for ctx in subject.items]
    orders_path = _path("seller:orders")
    return {
        "event": {"code": definition.code, "label": definition.label},
        "shop": {"name": settings.SHOP_NAME, "url": settings.SITE_URL + "/"},
        "store": {"name": store.name},
        "recipient": {"first_name": "", "audience": Audience.SELLER},
        "digest": {"count": len(orders), "ends_at": when(subject.ends_at), "more": max(0, len(orders) - SMS_ORDERS)},
        "orders": orders,
        "links": {"dashboard": settings.SITE_URL + orders_path if orders_path else "", "inbox": orders_path},
    }


def sample_digest_subject() -> DigestSubject:
    """Three sample orders (admin validation and preview)."""
    from catalog.models import Store

    from .context import sample_context

    one = sample_context("order.placed", Audience.SELLER)
    items = []
    for number, total in (("NS-SAMP-LE42", "£41.49"), ("NS-SAMP-LE43", "£12.00"), ("NS-SAMP-LE44", "£89.90")):
        link = one["links"]["dashboard"].replace(one["order"]["number"], number)
        ctx = dict(one, order=dict(one["order"], number=number, total=total), links=dict(one["links"], dashboard=link))
        items.append(ctx)
    return DigestSubject(store=Store(name="Sample Store", slug="sample-store"), items=items,
                         ends_at=datetime.datetime(2025, 5, 12, 9, 45, tzinfo=datetime.UTC))


def digest_send(*, store_id: int, address: str, channel: str, ends_at: datetime.datetime,
                now: datetime.datetime | None = None) -> Notification | None:
    """Close one seller × channel × window: one digest row for its held alerts, in one transaction."""
    from catalog.models import Store

    from .outbox import queue_on_commit

    now = now or timezone.now()
    with transaction.atomic():
        held = list(Notification.objects.select_for_update()
                    .filter(status=S.HELD_FOR_DIGEST, store_id=store_id, recipient_address=address, channel=channel,
                            send_after=ends_at).order_by("created_at", "id"))
        if not held:
            return None  # another run took them
        by_event: dict[str, list] = {}
        for row in held:
            by_event.setdefault(row.event, []).append(row)
        store = Store.objects.get(pk=store_id)
        made = None
        for event, rows in by_event.items():
            digest_event = DIGEST_EVENTS[event]
            key = _digest_key(event, store_id, ends_at)
            if Notification.objects.filter(event_key=key, recipient_address=address, channel=channel).exists():
                key = f"{key}:n{rows[0].pk}"  # committed after its window's digest went: a digest of its own
            first = rows[0]
            subject = DigestSubject(store=store, items=[r.context for r in rows], ends_at=ends_at)
            ctx = digest_context(digest_event, subject)
            ctx["recipient"] = {"first_name": (first.context.get("recipient") or {}).get("first_name", ""),
                                "audience": Audience.SELLER}
            if first.recipient is not None:  # the window's end in the seller's own time zone
                from .context import recipient_time_zone, when

                ctx["digest"]["ends_at"] = when(ends_at, recipient_time_zone(first.recipient, Audience.SELLER, None))
            made = Notification.objects.create(
                event=digest_event, event_key=key[:200], audience=Audience.SELLER, recipient_id=first.recipient_id,
                recipient_address=address, channel=channel, category=Category.SELLER_ALERT, language=first.language,
                store_id=store_id, subject_type=SubjectKind.STORE, subject_id=store_id, context=ctx,
                legal_basis=first.legal_basis)
            Notification.objects.filter(pk__in=[r.pk for r in rows], status=S.HELD_FOR_DIGEST).update(
                status=S.DIGESTED, digest=made, status_reason=f"Sent in the digest of {len(rows)} orders (#{made.pk}).",
                updated_at=now)
            queue_on_commit([made.pk])
    return made


def digest_close_due(*, now: datetime.datetime | None = None) -> dict:
    """Beat: one digest per seller × channel for every window that has ended. Idempotent."""
    now = now or timezone.now()
    groups = list(Notification.objects.filter(status=S.HELD_FOR_DIGEST, send_after__lte=now)
                  .order_by().values_list("store_id", "recipient_address", "channel", "send_after")
                  .distinct()[:CLOSE_BATCH])
    sent = sum(1 for store_id, address, channel, ends in groups
               if digest_send(store_id=store_id, address=address, channel=channel, ends_at=ends, now=now))
    return {"windows": len(groups), "digests": sent}
