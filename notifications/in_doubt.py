"""Messages in doubt: the worker stopped (or the provider's answer was lost) between handing a
message to its provider and recording the answer, so nobody knows whether it went.

Each is resolved, never just failed and never blindly resent:
- in-app is exact: the inbox row and the "sent" state commit together, so no inbox row means it
  was never written, and it is written now;
- SMS asks the provider (``find_sent``: Twilio's Messages API filtered by recipient, matched on
  body and time); found means sent (recorded with the provider's id), not found means resent;
- email has no provider search in anymail, so transactional, security and seller messages are
  resent with the same Message-ID (mail clients collapse a repeated Message-ID into one
  message), and marketing in doubt is not resent (a missed offer is better than a doubled one).
What was done and why is written to the delivery log (a DeliveryAttempt by "resolver") and the
notification's status reason.
"""
import logging

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from .channels import ChannelError, get_channel
from .events import Category, Channel
from .models import DeliveryAttempt, InboxMessage, Notification
from .rendering import RenderError, render

log = logging.getLogger(__name__)
S = Notification.Status


def send_lease_seconds() -> int:
    """How long a claimed row may stay "sending" before it counts as in doubt. Every provider
    call times out well inside it (Twilio 10 s, anymail/SMTP EMAIL_TIMEOUT)."""
    return int(getattr(settings, "NOTIFY_SEND_LEASE_SECONDS", 30))


def rows_in_doubt(now, limit: int = 500) -> list[int]:
    lease = now - timezone.timedelta(seconds=send_lease_seconds())
    return list(Notification.objects.filter(Q(status=S.IN_DOUBT) | Q(status=S.SENDING, claimed_at__lt=lease))
                .order_by("id").values_list("id", flat=True)[:limit])


def _record(n: Notification, *, status: str, reason: str, attempt_status: str, note: str, provider_id: str = "",
            now=None, expected=None) -> bool:
    now = now or timezone.now()
    fields = {"status": status, "status_reason": reason[:300], "updated_at": now}
    if status == S.SENT:
        fields.update(sent_at=now, provider_message_id=provider_id[:200], last_error="", retry_at=None)
    elif status == S.QUEUED:
        fields.update(claimed_at=None, retry_at=None)
    with transaction.atomic():
        changed = Notification.objects.filter(pk=n.pk, status=expected or n.status).update(**fields)
        if changed:
            DeliveryAttempt.objects.create(notification_id=n.pk, number=n.attempts, status=attempt_status,
                                           provider="resolver", provider_message_id=provider_id[:200],
                                           error=note[:4000], transient=status == S.QUEUED)
    return bool(changed)


def _expected_sms_body(n: Notification) -> str:
    from .channels.sms import sms_normalise

    if n.body_text:
        return sms_normalise(n.body_text)
    try:
        rendered = render(event=n.event, audience=n.audience, channel=n.channel, language=n.language,
                          context=n.context)
    except RenderError:
        return ""
    return sms_normalise(rendered.text)


def resolve_in_doubt(n: Notification, *, now=None) -> str:
    """Decide one row in doubt. Returns what was done: sent | resent | failed | unknown."""
    now = now or timezone.now()
    since = n.claimed_at or n.updated_at
    if n.channel == Channel.INAPP:
        if InboxMessage.objects.filter(notification_id=n.pk).exists():
            _record(n, status=S.SENT, reason="Delivered to the inbox (checked after the worker stopped).",
                    attempt_status=DeliveryAttempt.Status.SENT, note="In doubt: the inbox row exists.", now=now)
            return "sent"
        _record(n, status=S.QUEUED, reason="The worker stopped before writing it to the inbox; sent again.",
                attempt_status=DeliveryAttempt.Status.FAILED,
                note="In doubt: no inbox row, so it was never delivered; queued again.", now=now)
        return "resent"
    backend = get_channel(n.channel)
    finder = getattr(backend, "find_sent", None)
    if finder is not None:
        try:
            found = finder(notification_id=n.pk, to=n.recipient_address, body=_expected_sms_body(n), since=since)
        except ChannelError as exc:
            log.warning("Cannot resolve notification %s yet: %s", n.pk, exc)
            return "unknown"  # asked again at the next sweep
        if found:
            _record(n, status=S.SENT, provider_id=found, attempt_status=DeliveryAttempt.Status.SENT,
                    reason=f"{backend.provider} shows it was sent ({found}), so it was not sent again.",
                    note=f"In doubt: found at {backend.provider} as {found}.", now=now)
            return "sent"
        _record(n, status=S.QUEUED, attempt_status=DeliveryAttempt.Status.FAILED,
                reason=f"{backend.provider} has no record of it, so it was sent again.",
                note=f"In doubt: not found at {backend.provider}; queued again.", now=now)
        return "resent"
    if n.category == Category.MARKETING:
        _record(n, status=S.FAILED, attempt_status=DeliveryAttempt.Status.FAILED,
                reason="Whether it went out is unknown; marketing is not resent.",
                note="In doubt: the provider cannot be asked; a marketing message is not resent.", now=now)
        return "failed"
    _record(n, status=S.QUEUED, attempt_status=DeliveryAttempt.Status.FAILED,
            reason="Whether it went out is unknown; sent again with the same Message-ID, so a mail client "
                   "shows one copy." if n.channel == Channel.EMAIL else
                   "Whether it went out is unknown and the provider cannot be asked; sent again.",
            note="In doubt: the provider cannot be searched; resent (same Message-ID for email).", now=now)
    return "resent"


def resolve_all_in_doubt(*, now=None, limit: int = 500) -> dict:
    """Resolve every row in doubt (sweeper). Resent rows are handed to the workers."""
    now = now or timezone.now()
    done = {"sent": 0, "resent": 0, "failed": 0, "unknown": 0}
    requeue = []
    for n in Notification.objects.filter(pk__in=rows_in_doubt(now, limit)).order_by("id"):
        outcome = resolve_in_doubt(n, now=now)
        done[outcome] += 1
        if outcome == "resent":
            requeue.append(n.pk)
    if requeue:
        from .outbox import dispatch_quietly

        dispatch_quietly(requeue)
    return done
