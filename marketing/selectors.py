"""Reads for promotions: the progress a person watches (counts, bar, rate)."""
import datetime

from django.db.models import Count
from django.utils import timezone

from .models import FanOut, Promotion

RATE_WINDOW_SECONDS = 60


def progress(promotion: Promotion, *, now=None) -> dict:
    """Counts for the progress page: audience, written, sent, delivered, bounced, failed, skipped,
    unsubscribed, the send rate over the last minute, and the bar's percentages. Two queries on
    the promotion rows' own index plus two small ones."""
    from accounts.models import ConsentRecord
    from notifications.models import Notification

    now = now or timezone.now()
    fanout = FanOut.objects.filter(source=FanOut.Source.PROMOTION, source_id=promotion.pk).first()
    rows = Notification.objects.filter(subject_type="promotion", subject_id=promotion.pk)
    by_status = dict(rows.values_list("status").annotate(n=Count("id")).order_by())
    recent = rows.filter(sent_at__gte=now - datetime.timedelta(seconds=RATE_WINDOW_SECONDS)).count()
    unsubscribed = ConsentRecord.objects.filter(granted=False, source=f"unsubscribe: promotion {promotion.pk}").count()
    S = Notification.Status
    written = fanout.written if fanout else 0
    audience = fanout.audience if fanout and fanout.audience is not None else None
    sent = sum(by_status.get(s, 0) for s in (S.SENT, S.DELIVERED, S.BOUNCED))
    done = sent + sum(by_status.get(s, 0) for s in (S.FAILED, S.SKIPPED, S.SUPPRESSED, S.SUPERSEDED))
    total = audience if audience else written
    pct = (lambda n: min(100, round(100 * n / total)) if total else 0)
    return {
        "status": promotion.get_status_display(), "status_code": promotion.status,
        "fanout_status": fanout.get_status_display() if fanout else "Not started",
        "audience": audience, "written": written, "sent": sent, "delivered": by_status.get(S.DELIVERED, 0),
        "bounced": by_status.get(S.BOUNCED, 0), "failed": by_status.get(S.FAILED, 0),
        "skipped": by_status.get(S.SKIPPED, 0) + by_status.get(S.SUPPRESSED, 0),
        "queued": by_status.get(S.QUEUED, 0) + by_status.get(S.SENDING, 0),
        "unsubscribed": unsubscribed, "rate": round(recent / RATE_WINDOW_SECONDS, 1),
        "written_pct": pct(written), "sent_pct": pct(sent), "done_pct": pct(done),
        "finished": promotion.status in (Promotion.Status.SENT, Promotion.Status.CANCELLED),
        "live": promotion.status in (Promotion.Status.SENDING, Promotion.Status.PAUSED, Promotion.Status.SCHEDULED),
    }


def store_promotions(store_id):
    return Promotion.objects.filter(store_id=store_id).order_by("-created_at", "-id")
