"""Delivery statistics: the daily rollup (writes) and the report the statistics pages show (reads).

Why a rollup rebuilt by beat rather than counters bumped by the worker: a notification's outcome
changes after it is sent (the provider's delivered / bounced callback can come minutes or hours
later), so an increment at delivery-record time would have to be undone and redone in every
callback, and it would add a contended UPSERT (every message of a store on a channel hits the same
row) to the worker's hot path. Instead ``stats_rollup`` recomputes whole days from the outbox and
the attempts with three GROUP BY queries on the ``created_at`` index and replaces those days' rows
in one transaction: idempotent, always equal to a direct aggregation, and it costs the worker
nothing. Beat rebuilds the last ``STATS_ROLLUP_DAYS`` days every ``STATS_ROLLUP_EVERY_SECONDS``;
``manage.py stats_backfill`` rebuilds any range. Days are UTC days of the notification's creation.

The pages then read only the rollup: four GROUP BY queries over at most
days × stores × channels × events rows, whatever the number of notifications.
"""
import datetime
import math
from dataclasses import dataclass

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, F, Max, Q, Sum
from django.db.models.functions import Substr, TruncDate, TruncWeek
from django.utils import timezone

from .events import EVENTS, Channel
from .models import (
    LATENCY_BUCKETS_MS,
    DeliveryAttempt,
    Notification,
    NotificationFailureDaily,
    NotificationStatsDaily,
)

S = Notification.Status
SENT_STATES = [S.SENT, S.DELIVERED, S.BOUNCED]
NOT_SENT_STATES = [S.SKIPPED, S.SUPPRESSED, S.SUPERSEDED]
PENDING_STATES = [S.QUEUED, S.SENDING, S.IN_DOUBT]
COUNTS = ("total", "sent", "delivered", "bounced", "failed", "not_sent", "pending", "attempts")
LAT_FIELDS = tuple(f"lat_{i}" for i in range(len(LATENCY_BUCKETS_MS) + 1))
UTC = datetime.timezone.utc
TOP_REASONS = 10
MAX_RANGE_DAYS = 366
_LOCK_KEY = 7_150_015  # pg_advisory_xact_lock: one rollup at a time


# --- writes --------------------------------------------------------------------------------------

def _latency_buckets(prefix: str = "") -> dict:
    field = f"{prefix}latency_ms"
    buckets, low = {}, None
    for i, high in enumerate(LATENCY_BUCKETS_MS):
        cond = Q(**{f"{field}__lte": high}) if low is None else Q(**{f"{field}__gt": low, f"{field}__lte": high})
        buckets[f"lat_{i}"] = Count("id", filter=cond)
        low = high
    buckets[f"lat_{len(LATENCY_BUCKETS_MS)}"] = Count("id", filter=Q(**{f"{field}__gt": low}))
    return buckets


def failure_reason(status: str, last_error: str) -> str:
    """One line a seller can read: the provider's error, or what the status means if it gave none."""
    first = (last_error or "").strip().splitlines()[0].strip() if (last_error or "").strip() else ""
    if first:
        return first[:200]
    return "Bounced (no reason given)" if status == S.BOUNCED else "Failed (no reason given)"


def _day_bounds(start: datetime.date, end: datetime.date):
    return (datetime.datetime.combine(start, datetime.time.min, tzinfo=UTC),
            datetime.datetime.combine(end + datetime.timedelta(days=1), datetime.time.min, tzinfo=UTC))


def stats_rollup(*, start: datetime.date, end: datetime.date) -> int:
    """Rebuild the rollup rows of the UTC days ``start``..``end`` (inclusive); returns the row count."""
    low, high = _day_bounds(start, end)
    now = timezone.now()
    key = ("day", "store_id", "channel", "event")
    status_counts = {
        "total": Count("id"),
        "sent": Count("id", filter=Q(status__in=SENT_STATES)),
        "delivered": Count("id", filter=Q(status=S.DELIVERED)),
        "bounced": Count("id", filter=Q(status=S.BOUNCED)),
        "failed": Count("id", filter=Q(status=S.FAILED)),
        "not_sent": Count("id", filter=Q(status__in=NOT_SENT_STATES)),
        "pending": Count("id", filter=Q(status__in=PENDING_STATES)),
    }
    in_range = Notification.objects.filter(created_at__gte=low, created_at__lt=high).order_by()
    rows: dict[tuple, dict] = {}
    for row in (in_range.annotate(day=TruncDate("created_at", tzinfo=UTC))
                .values(*key).annotate(**status_counts)):
        rows[tuple(row[k] for k in key)] = {**row, "attempts": 0}
    attempts = (
        DeliveryAttempt.objects.filter(notification__created_at__gte=low, notification__created_at__lt=high)
        .order_by()
        .values(day=TruncDate("notification__created_at", tzinfo=UTC), n_store=F("notification__store_id"),
                n_channel=F("notification__channel"), n_event=F("notification__event"))
        .annotate(attempts=Count("id"), **_latency_buckets())
    )
    for row in attempts:
        target = rows.get((row["day"], row["n_store"], row["n_channel"], row["n_event"]))
        if target is not None:  # always there: an attempt's notification is counted above
            target.update({k: row[k] for k in ("attempts", *LAT_FIELDS)})
    failures: dict[tuple, int] = {}
    for row in (in_range.filter(status__in=[S.BOUNCED, S.FAILED])
                .values(*key[1:], "status", day=TruncDate("created_at", tzinfo=UTC),
                        error=Substr("last_error", 1, 300))
                .annotate(n=Count("id"))):
        reason_key = (row["day"], row["store_id"], row["channel"], row["event"],
                      failure_reason(row["status"], row["error"]))
        failures[reason_key] = failures.get(reason_key, 0) + row["n"]

    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_LOCK_KEY])
        NotificationStatsDaily.objects.filter(day__gte=start, day__lte=end).delete()
        NotificationFailureDaily.objects.filter(day__gte=start, day__lte=end).delete()
        NotificationStatsDaily.objects.bulk_create([
            NotificationStatsDaily(day=r["day"], store_id=r["store_id"], channel=r["channel"], event=r["event"],
                                   computed_at=now, **{k: r.get(k, 0) for k in (*COUNTS, *LAT_FIELDS)})
            for r in rows.values()
        ], batch_size=1000)
        NotificationFailureDaily.objects.bulk_create([
            NotificationFailureDaily(day=day, store_id=store_id, channel=channel, event=event, reason=reason, count=n)
            for (day, store_id, channel, event, reason), n in failures.items()
        ], batch_size=1000)
    return len(rows)


def stats_rollup_recent(*, days: int | None = None) -> int:
    """Beat: rebuild the last ``days`` UTC days (today included), where late receipts still land."""
    days = days or settings.STATS_ROLLUP_DAYS
    today = timezone.now().astimezone(UTC).date()
    return stats_rollup(start=today - datetime.timedelta(days=days - 1), end=today)


# --- reads ---------------------------------------------------------------------------------------

def percentile_bound(buckets: list[int], p: float) -> int | None:
    """The upper bound (ms) of the bucket holding the p-th percentile attempt; None when there are no
    attempts; ``-1`` when it is in the open last bucket (slower than the last bound)."""
    n = sum(buckets)
    if not n:
        return None
    rank, seen = max(1, math.ceil(p * n)), 0
    for i, count in enumerate(buckets):
        seen += count
        if seen >= rank:
            return LATENCY_BUCKETS_MS[i] if i < len(LATENCY_BUCKETS_MS) else -1
    return -1


def latency_label(bound: int | None) -> str:
    if bound is None:
        return "—"
    if bound == -1:
        return f"> {LATENCY_BUCKETS_MS[-1] // 1000} s"
    return f"≤ {bound} ms" if bound < 1000 else f"≤ {bound / 1000:g} s"


@dataclass
class StatsLine:
    """One line of the report (a period, a channel, an event, or the total)."""

    label: str
    key: str = ""
    total: int = 0
    sent: int = 0
    delivered: int = 0
    bounced: int = 0
    failed: int = 0
    not_sent: int = 0
    pending: int = 0
    attempts: int = 0
    buckets: list | None = None

    @classmethod
    def from_row(cls, label: str, key: str, row: dict | None) -> "StatsLine":
        row = row or {}
        buckets = [row.get(f) or 0 for f in LAT_FIELDS] if LAT_FIELDS[0] in row else None
        return cls(label=label, key=key, buckets=buckets, **{k: row.get(k) or 0 for k in COUNTS})

    @property
    def delivery_rate(self) -> float | None:
        """Delivered ÷ (accepted by a provider + failed for good): what reached people of what was tried."""
        tried = self.sent + self.failed
        return round(100 * self.delivered / tried, 1) if tried else None

    @property
    def p50(self) -> str:
        return latency_label(percentile_bound(self.buckets or [], 0.50))

    @property
    def p95(self) -> str:
        return latency_label(percentile_bound(self.buckets or [], 0.95))


def _sums(with_latency: bool) -> dict:
    sums = {k: Sum(k) for k in COUNTS}
    if with_latency:
        sums.update({k: Sum(k) for k in LAT_FIELDS})
    return sums


def _periods(start: datetime.date, end: datetime.date, bucket: str) -> list[datetime.date]:
    first = start - datetime.timedelta(days=start.weekday()) if bucket == "week" else start
    step = datetime.timedelta(days=7 if bucket == "week" else 1)
    periods, day = [], first
    while day <= end:
        periods.append(day)
        day += step
    return periods


def stats_report(*, store=None, start: datetime.date, end: datetime.date, channel: str = "", event: str = "",
                 bucket: str = "day") -> dict:
    """The statistics page's numbers for one store (or the whole platform with ``store=None``), in
    four queries on the rollup: per period, per channel, per event, top failure reasons."""
    base = NotificationStatsDaily.objects.filter(day__gte=start, day__lte=end)
    failures = NotificationFailureDaily.objects.filter(day__gte=start, day__lte=end)
    if store is not None:
        base, failures = base.filter(store=store), failures.filter(store=store)
    if channel:
        base, failures = base.filter(channel=channel), failures.filter(channel=channel)
    if event:
        base, failures = base.filter(event=event), failures.filter(event=event)
    base, failures = base.order_by(), failures.order_by()

    period_expr = TruncWeek("day") if bucket == "week" else F("day")
    by_period = {row["period"]: row for row in base.annotate(period=period_expr).values("period")
                 .annotate(**_sums(False))}
    by_period = {(p.date() if isinstance(p, datetime.datetime) else p): row for p, row in by_period.items()}
    series = [StatsLine.from_row(p.isoformat(), p.isoformat(), by_period.get(p)) for p in _periods(start, end, bucket)]

    channel_rows = {row["channel"]: row for row in base.values("channel")
                    .annotate(**_sums(True), computed=Max("computed_at"))}
    # Every channel the platform has, in its order, even those with nothing yet.
    channels = [StatsLine.from_row(label, value, channel_rows.get(value)) for value, label in Channel.choices
                if not channel or value == channel]
    for line in channels:
        line.buckets = line.buckets or [0] * len(LAT_FIELDS)
    total = StatsLine(label="Total", key="", buckets=[0] * len(LAT_FIELDS))
    for line in channels:
        for k in COUNTS:
            setattr(total, k, getattr(total, k) + getattr(line, k))
        total.buckets = [a + b for a, b in zip(total.buckets, line.buckets)]
    computed = [row["computed"] for row in channel_rows.values() if row["computed"]]

    events = [StatsLine.from_row(EVENTS[row["event"]].label if row["event"] in EVENTS else row["event"],
                                 row["event"], row)
              for row in base.values("event").annotate(**_sums(True)).order_by("-total", "event")]
    reasons = list(failures.values("reason").annotate(n=Sum("count")).order_by("-n", "reason")[:TOP_REASONS])

    return {
        "series": series, "channels": channels, "events": events, "total": total, "reasons": reasons,
        "computed_at": max(computed) if computed else None,
        "chart": {
            "periods": [line.key for line in series],
            "delivered": [line.delivered for line in series],
            "accepted": [line.sent - line.delivered - line.bounced for line in series],
            "bounced": [line.bounced for line in series],
            "failed": [line.failed for line in series],
            "channels": [line.label for line in channels],
            "channel_delivered": [line.delivered for line in channels],
            "channel_accepted": [line.sent - line.delivered - line.bounced for line in channels],
            "channel_bounced": [line.bounced for line in channels],
            "channel_failed": [line.failed for line in channels],
        },
    }
