"""Shipping deadlines (SLA) on each store's business calendar, and the alerts when one is missed.

How business hours accumulate
-----------------------------
The clock runs only while the store is open for shipping: on its working days
(``Store.working_days``, ISO weekday digits, default ``12345`` = Monday–Friday), between
``Store.opens_at`` and ``Store.closes_at`` (default 08:00–20:00, twelve business hours a day), in
the store's time zone (``Store.time_zone``), and never on a public holiday of the store's country
(``Store.country``, e.g. ``GB-ENG`` or ``US``, from the ``holidays`` library) or an extra closure day (``Store.closed_dates``).
"N business hours from a moment" is the first moment by which N hours of open time have passed;
a moment outside open time starts counting at the next opening.

The issue's example, with the defaults: an order ready on Friday at 16:00 with a 24-hour SLA uses
Friday 16:00–20:00 (4 h), Monday 08:00–20:00 (12 h) and Tuesday 08:00–16:00 (8 h): it is due on
**Tuesday at 16:00**, not on Saturday at 16:00. If that Monday is a public holiday (Martin Luther
King Jr. Day for a US store), it is due on Wednesday at 16:00. Local wall-clock windows are turned
into real instants day by day, so a daylight-saving change inside a window counts real hours.

When the clock starts
---------------------
When the order is first ready to ship: its first move to processing (paid by card, or cash on
delivery confirmed); at checkout that is the moment it was placed. ``ship_by`` is fixed then: a
hold and release keeps it, and a store that changes its calendar changes the deadlines of orders
that become ready afterwards.

The steps
---------
1. At ``ship_by``, an order still processing or on hold is *late*: the store's sellers get
   ``order.sla_breached`` (a seller alert, switched per channel like the others); the seller list
   shows it under the "Late" tab with a badge.
2. ``Store.sla_escalate_after_hours`` business hours after ``ship_by`` (default 8), if still not
   shipped, platform staff get ``order.sla_escalated``.

Beat runs ``sla_sweep`` every few minutes (``orders.sla_sweep``). It only looks at open orders
whose next step is due (``Order.sla_due_at``, on a partial index of processing / on-hold orders),
so shipped and cancelled orders never alert. Each step locks the order, moves ``sla_step`` on,
writes a timeline note and sends ``order_sla_missed`` in one transaction; the outbox key is per
order × step, so a repeated or concurrent run never alerts twice.
"""
import datetime
import functools
import zoneinfo
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from . import signals
from .models import Order, OrderEvent, OrderStatus

OPEN_STATUSES = (OrderStatus.PROCESSING, OrderStatus.ON_HOLD)
BREACHED, ESCALATED = 1, 2
SLA_FLAG = "sla_step"
SWEEP_BATCH = 500
DEFAULT_TIME_ZONE = "Europe/London"
# No store is closed for this long: a calendar that never opens is a configuration error.
MAX_DAYS_AHEAD = 800


def split_region(code: str) -> tuple[str, str | None]:
    """"GB-ENG" -> ("GB", "ENG"); "US" -> ("US", None)."""
    country, _, region = (code or "").strip().upper().partition("-")
    return country, region or None


def region_supported(code: str) -> bool:
    import holidays

    country, region = split_region(code)
    regions = holidays.list_supported_countries().get(country)
    return regions is not None and (region is None or region in regions)


@functools.lru_cache(maxsize=256)
def public_holidays(code: str, year: int) -> frozenset:
    """The public holidays of a country (or "country-region", e.g. GB-ENG) in ``year``; an unknown
    code has none. A region matters: Easter Monday is a bank holiday in England, not in Scotland."""
    import holidays

    country, region = split_region(code)
    try:
        return frozenset(holidays.country_holidays(country, subdiv=region, years=year).keys())
    except (NotImplementedError, KeyError, AttributeError):
        return frozenset()


def parse_closed_dates(text: str) -> tuple[frozenset, list[str]]:
    """(dates, the pieces that are not YYYY-MM-DD) from one date per line (commas work too)."""
    dates, bad = set(), []
    for piece in (text or "").replace(",", "\n").split():
        try:
            dates.add(datetime.date.fromisoformat(piece.strip()))
        except ValueError:
            bad.append(piece.strip())
    return frozenset(dates), bad


@dataclass(frozen=True)
class BusinessCalendar:
    time_zone: zoneinfo.ZoneInfo
    working_days: frozenset  # ISO weekdays, 1 = Monday
    opens_at: datetime.time
    closes_at: datetime.time
    country: str = ""
    closed: frozenset = frozenset()

    @classmethod
    def for_store(cls, store) -> "BusinessCalendar":
        try:
            zone = zoneinfo.ZoneInfo(store.time_zone or DEFAULT_TIME_ZONE)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            zone = zoneinfo.ZoneInfo(DEFAULT_TIME_ZONE)
        days = frozenset(int(d) for d in (store.working_days or "") if d in "1234567")
        return cls(time_zone=zone, working_days=days, opens_at=store.opens_at, closes_at=store.closes_at,
                   country=store.country or "", closed=parse_closed_dates(store.closed_dates)[0])

    def is_open_day(self, day: datetime.date) -> bool:
        return (day.isoweekday() in self.working_days and day not in self.closed
                and day not in public_holidays(self.country, day.year))

    def _window(self, day: datetime.date) -> tuple[datetime.datetime, datetime.datetime]:
        opens = datetime.datetime.combine(day, self.opens_at, tzinfo=self.time_zone)
        closes = datetime.datetime.combine(day, self.closes_at, tzinfo=self.time_zone)
        return opens.astimezone(datetime.UTC), closes.astimezone(datetime.UTC)

    def add_business_hours(self, start: datetime.datetime, hours: float) -> datetime.datetime:
        """The moment ``hours`` of open time after ``start`` (UTC). See the module docstring."""
        remaining = datetime.timedelta(hours=hours)
        start = start.astimezone(datetime.UTC)
        day = start.astimezone(self.time_zone).date()
        for _ in range(MAX_DAYS_AHEAD):
            if self.is_open_day(day):
                opens, closes = self._window(day)
                begin = max(opens, start)
                if begin < closes:
                    if remaining <= closes - begin:
                        return begin + remaining
                    remaining -= closes - begin
            day += datetime.timedelta(days=1)
        raise ValueError("The store's calendar never opens: check its working days and hours.")


def sla_deadline(store, ready_at: datetime.datetime) -> datetime.datetime | None:
    """When an order ready to ship at ``ready_at`` must be shipped by (None: the calendar never opens)."""
    try:
        return BusinessCalendar.for_store(store).add_business_hours(ready_at, store.sla_ship_within_hours)
    except ValueError:
        return None


def sla_start(order: Order, *, at: datetime.datetime | None = None) -> list[str]:
    """Set the deadline of an order that has just become ready to ship (orders.services calls it
    on the first move to processing, inside its transaction). Returns the fields it changed."""
    if order.ship_by is not None:
        return []
    from catalog.models import Store

    store = Store.objects.only("time_zone", "working_days", "opens_at", "closes_at", "country", "closed_dates",
                               "sla_ship_within_hours").get(pk=order.store_id)
    order.ship_by = sla_deadline(store, at or timezone.now())
    order.sla_due_at = order.ship_by
    return ["ship_by", "sla_due_at"] if order.ship_by else []


def _step_note(step: int, order: Order, store) -> str:
    local = order.ship_by.astimezone(BusinessCalendar.for_store(store).time_zone)
    if step == BREACHED:
        return f"Not shipped by {local:%a %d %b %H:%M %Z}: the store's sellers were alerted."
    return (f"Still not shipped {store.sla_escalate_after_hours} business hours after {local:%a %d %b %H:%M %Z}: "
            f"platform staff were alerted.")


@transaction.atomic
def order_sla_advance(*, order_id: int, now: datetime.datetime | None = None) -> int:
    """Take every SLA step that is due for one order; returns how many were taken (0: nothing due,
    already done by another run, or the order was shipped or cancelled meanwhile)."""
    now = now or timezone.now()
    order = Order.objects.select_for_update().select_related("store").filter(pk=order_id).first()
    taken = 0
    while (order is not None and order.status in OPEN_STATUSES and order.sla_due_at is not None
           and order.sla_due_at <= now and order.sla_step < ESCALATED):
        step = order.sla_step + 1
        store = order.store
        if step == BREACHED:
            try:
                next_due = BusinessCalendar.for_store(store).add_business_hours(order.ship_by,
                                                                                store.sla_escalate_after_hours)
            except ValueError:
                next_due = None
        else:
            next_due = None
        order.sla_step, order.sla_due_at = step, next_due
        order.save(update_fields=["sla_step", "sla_due_at", "updated_at"])
        event = OrderEvent.objects.create(order=order, kind=OrderEvent.Kind.NOTE, actor_label="system",
                                          note=_step_note(step, order, store),
                                          data={SLA_FLAG: step, "ship_by": order.ship_by.isoformat()})
        signals.order_sla_missed.send(sender=Order, order=order, step=step, event=event, ship_by=order.ship_by)
        taken += 1
    return taken


def sla_due_orders(now: datetime.datetime):
    """Open orders whose next SLA step is due (on the ``order_sla_due`` partial index)."""
    return (Order.objects.filter(status__in=OPEN_STATUSES, sla_due_at__isnull=False, sla_due_at__lte=now)
            .order_by("sla_due_at", "id"))


def sla_sweep(*, now: datetime.datetime | None = None) -> dict:
    """Beat: alert the sellers of late orders, then staff. Idempotent; safe to run concurrently."""
    now = now or timezone.now()
    ids = list(sla_due_orders(now).values_list("id", flat=True)[:SWEEP_BATCH])
    steps = sum(order_sla_advance(order_id=pk, now=now) for pk in ids)
    return {"orders": len(ids), "steps": steps}
