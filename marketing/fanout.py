"""The chunked fan-out engine: writes a large send's outbox rows a chunk at a time.

One ``FanOut`` row per send holds the engine's position. Each chunk is one short transaction that
locks the FanOut row, writes the chunk's rows (bulk, ON CONFLICT DO NOTHING against the outbox's
unique event_key × address × channel) and moves the cursor, so the cursor and the rows it covers
commit together: a worker killed mid-chunk rolls both back, and the next run starts where the
last committed chunk ended. Nothing is held in memory beyond one chunk, and no transaction spans
more than one chunk. Pause / cancel are seen at the next chunk.

Sources (``SOURCES``): a promotion's audience (SQL over a range of user ids, audience.py) and a
product's past buyers with marketing consent (product.updated, built through the product subject
kind, per email address).
"""
import logging
import time
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from .models import FanOut

log = logging.getLogger(__name__)

CHUNK_SIZE = 2000
# A run writes for at most this long, then hands over to a fresh task (a worker is never held by
# one send for an hour; a deploy or kill loses at most one uncommitted chunk).
RUN_BUDGET_SECONDS = 30.0
STALLED_AFTER_SECONDS = 120  # a running fan-out with no chunk for this long is restarted by beat


@dataclass
class Chunk:
    cursor: str
    scanned: int
    written: int
    done: bool
    dispatch: list = field(default_factory=list)  # ids to queue on commit (unpaced sources)


class PromotionSource:
    """Keyset over user ids: the chunk is the next ``size`` users after the cursor, whatever their
    consent (constant work per chunk); the SQL keeps only the audience."""

    def chunk(self, fanout: FanOut, size: int, now) -> Chunk:
        from accounts.models import User

        from .audience import insert_chunk
        from .models import Promotion

        promotion = Promotion.objects.get(pk=fanout.source_id)
        low = int(fanout.cursor or 0)
        ids = list(User.objects.filter(id__gt=low).order_by("id").values_list("id", flat=True)[:size])
        if not ids:
            return Chunk(str(low), 0, 0, True)
        written = 0
        for channel in promotion.channels:
            written += insert_chunk(promotion=promotion, channel=channel, low=low, high=ids[-1], now=now,
                                    parked_until=promotion.ends_at)
        return Chunk(str(ids[-1]), len(ids), written, len(ids) < size)

    def finished(self, fanout: FanOut) -> None:
        pass


class ProductUpdateSource:
    """Keyset over the buyers' email addresses (guests too: an order's email with a consent record)."""

    def chunk(self, fanout: FanOut, size: int, now) -> Chunk:
        from catalog.models import ProductEvent
        from notifications.models import Notification
        from notifications.recipients import buyer_recipients_chunk
        from notifications.subjects import ProductSubject, subject_kind

        from notifications.outbox import platform_channels

        event = ProductEvent.objects.select_related("product__store").get(pk=fanout.source_id)
        enabled, channels = platform_channels("product.updated")
        if not enabled or "email" not in channels.get("customer", []):
            return Chunk(fanout.cursor, 0, 0, True)
        recipients, last, scanned = buyer_recipients_chunk(event.product, after=fanout.cursor, size=size)
        code = "product.updated"
        kind = subject_kind(code)
        subject = ProductSubject(product=event.product, event=event,
                                 change={"what": (event.data or {}).get("what", ""), "note": event.note})
        rows = []
        if recipients:
            ref = kind.reference(subject)
            shared = kind.context(code, "customer", subject)
            rows = [Notification(
                event=code, event_key=fanout.key, audience=r.audience, recipient=r.user,
                recipient_address=r.address[:254], channel=r.channel, category="marketing",
                language=getattr(r.user, "language", "") or settings.LANGUAGE_CODE, store_id=ref.store_id,
                subject_type=ref.type, subject_id=ref.id, context=kind.personalise(shared, r, r.audience, subject),
                legal_basis=r.legal_basis[:200]) for r in recipients]
            Notification.objects.bulk_create(rows, ignore_conflicts=True)
        stored = list(Notification.objects.filter(event_key=fanout.key, status=Notification.Status.QUEUED,
                                                  recipient_address__in=[r.address for r in recipients])
                      .values_list("id", flat=True)) if recipients else []
        return Chunk(last or fanout.cursor, scanned, len(stored), scanned < size, dispatch=stored)

    def finished(self, fanout: FanOut) -> None:
        pass


SOURCES = {FanOut.Source.PROMOTION: PromotionSource(), FanOut.Source.PRODUCT_UPDATE: ProductUpdateSource()}


class Interrupted(Exception):
    """Raised by a test hook to simulate a worker killed in the middle of a chunk."""


def fanout_run(fanout_id: int, *, max_chunks: int | None = None, budget_seconds: float | None = None,
               chunk_size: int | None = None, _after_write=None) -> str:
    """Write chunks until the send is written, paused, cancelled, or this run's budget is spent.

    Returns the FanOut status, or "continue" when the budget ran out (the caller queues another
    run). ``max_chunks`` stops after that many chunks (tests: a worker stopped after chunk k).
    """
    from notifications.outbox import queue_on_commit

    size = chunk_size or getattr(settings, "NOTIFY_FANOUT_CHUNK", CHUNK_SIZE)
    budget = RUN_BUDGET_SECONDS if budget_seconds is None else budget_seconds
    started, done_chunks = time.monotonic(), 0
    while True:
        with transaction.atomic():
            fanout = FanOut.objects.select_for_update().get(pk=fanout_id)
            if fanout.status != FanOut.Status.RUNNING:
                return fanout.status
            now = timezone.now()
            source = SOURCES[fanout.source]
            chunk = source.chunk(fanout, size, now)
            if _after_write is not None:
                _after_write(fanout, chunk)  # may raise Interrupted: the chunk rolls back with its cursor
            fields = {"cursor": chunk.cursor, "scanned": fanout.scanned + chunk.scanned,
                      "written": fanout.written + chunk.written, "chunks": fanout.chunks + 1,
                      "heartbeat_at": now}
            if fanout.started_at is None:
                fields["started_at"] = now
            if chunk.done:
                fields.update(status=FanOut.Status.DONE, finished_at=now)
            FanOut.objects.filter(pk=fanout.pk).update(**fields)
            queue_on_commit(chunk.dispatch)
        done_chunks += 1
        if chunk.done:
            source.finished(fanout)
            return FanOut.Status.DONE
        if max_chunks is not None and done_chunks >= max_chunks:
            return "stopped"
        if time.monotonic() - started >= budget:
            return "continue"


def fanout_start(*, source: str, source_id: int, key: str, audience: int | None = None) -> FanOut:
    """Create the FanOut (once per source: starting again returns the existing one) and queue its
    first run when the surrounding transaction commits."""
    fanout, created = FanOut.objects.get_or_create(source=source, source_id=source_id,
                                                   defaults={"key": key[:200], "audience": audience})
    if created:
        kick_on_commit(fanout.pk)
    return fanout


def kick_on_commit(fanout_id: int) -> None:
    def kick():
        from .tasks import fanout_task

        try:
            fanout_task.delay(fanout_id)
        except Exception:  # broker away: beat's resume_stalled_fanouts starts it
            log.warning("Could not queue fan-out %s; the stalled-fan-out check will start it", fanout_id)

    transaction.on_commit(kick)


def stalled_fanouts(now=None):
    now = now or timezone.now()
    stale = now - timezone.timedelta(seconds=STALLED_AFTER_SECONDS)
    from django.db.models import Q

    return FanOut.objects.filter(status=FanOut.Status.RUNNING).filter(
        Q(heartbeat_at__lt=stale) | Q(heartbeat_at__isnull=True, id__gt=0))
