"""What delivery asks a promotion row just before it is sent (notifications.delivery calls
``prepare_claimed`` for rows whose subject is a promotion).

A row may only go while its promotion is sending and has not ended, while the customer's latest
consent for that channel is still a grant (an unsubscribe since the row was written wins), and,
for a marketing SMS, outside the recipient's quiet hours and 08:00–21:00 local. Otherwise it is
held (paused, quiet hours) or skipped (cancelled, ended, unsubscribed) and says why.
"""
import datetime
import time


from notifications.events import Category, Channel

from .audience import CONSENT_KIND
from .context import for_row

_CACHE: dict[int, tuple[float, object]] = {}
CACHE_SECONDS = 2.0  # a pause or cancel is seen by every worker within this long
PAUSED_RECHECK = datetime.timedelta(seconds=60)


def _promotion(pk: int):
    from .models import Promotion

    hit = _CACHE.get(pk)
    if hit and time.monotonic() - hit[0] < CACHE_SECONDS:
        return hit[1]
    promotion = Promotion.objects.filter(pk=pk).only("id", "status", "ends_at", "context").first()
    _CACHE[pk] = (time.monotonic(), promotion)
    return promotion


def consent_granted(user_id, channel: str) -> bool:
    from accounts.models import ConsentRecord

    if not user_id or channel not in CONSENT_KIND:
        return False
    latest = (ConsentRecord.objects.filter(user_id=user_id, kind=CONSENT_KIND[channel])
              .order_by("-created_at", "-id").values_list("granted", flat=True).first())
    return bool(latest)


def prepare_claimed(n, now) -> dict | None:
    """None: send it (``n.context`` is now the full context). Else the fields to store instead."""
    from notifications.models import Notification
    from notifications.outbox import held_reason, quiet_hours_end, recipient_time_zone

    from .models import Promotion

    S = Notification.Status
    # record_batch (PostgreSQL) always sets these: say them, or they would be NULL.
    undo = {"attempts": max(0, n.attempts - 1), "updated_at": now, "last_error": "", "retry_at": None}
    promotion = _promotion(n.subject_id)
    if promotion is None or promotion.status == Promotion.Status.CANCELLED:
        return dict(undo, status=S.SKIPPED, status_reason="Not sent: the promotion was cancelled.")
    if promotion.ends_at <= now:
        return dict(undo, status=S.SKIPPED, status_reason="Not sent: the promotion ended before its turn came.")
    if promotion.status == Promotion.Status.PAUSED:
        return dict(undo, status=S.QUEUED, send_after=now + PAUSED_RECHECK,
                    status_reason="Held: the promotion is paused.")
    # The pump checked consent for its whole tick just before release; a row held since (pause,
    # quiet hours: it has a reason) or an SMS is checked again here, one by one.
    if (n.status_reason or n.channel != Channel.EMAIL) and not consent_granted(n.recipient_id, n.channel):
        return dict(undo, status=S.SKIPPED, status_reason="Not sent: the customer withdrew marketing consent.")
    own = n.context or {}
    user = None
    if n.channel == Channel.SMS:
        user = n.recipient
        until = quiet_hours_end(user, now, category=Category.MARKETING, channel=Channel.SMS,
                                phone=n.recipient_address)
        if until:
            return dict(undo, status=S.QUEUED, send_after=until,
                        status_reason=held_reason(until, recipient_time_zone(user, n.recipient_address)))
    first_name = own.get("first_name")
    if first_name is None:
        user = user or n.recipient
        first_name = (user.first_name or user.username) if user is not None else ""
    n.context = for_row(promotion.context, first_name=first_name, address=n.recipient_address,
                        channel=n.channel, promotion_id=promotion.pk)
    return None
