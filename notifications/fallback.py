"""Cross-channel fallback (SPEC section 8): a customer message that did not arrive goes once by
another channel the customer has, with that channel's consent.

- An email that hard-bounced (the address is now suppressed) falls back to SMS, else WhatsApp.
- An SMS or WhatsApp message the carrier reported undelivered / failed falls back to email.

Only customer messages of the categories in ``FALLBACK_CATEGORIES`` (never marketing, whose consent
is per channel, nor security codes and links, which prove one address). Only once: the fallback row
points at the failed one (``Notification.fallback_of``, unique), a fallback never falls back again,
and none is written when the customer already got this message on that channel.
"""
import logging

from django.db import IntegrityError, transaction
from django.utils import timezone

from .events import FALLBACK_CATEGORIES, FALLBACK_CHANNELS, Audience, Channel, held_by_quiet_hours
from .models import Notification, Suppression

log = logging.getLogger(__name__)
S = Notification.Status
REACHED = (S.QUEUED, S.SENDING, S.IN_DOUBT, S.SENT, S.DELIVERED)


def _candidates(n: Notification, channel: str):
    """Recipients on ``channel`` with an address and consent (the outbox's own rules)."""
    from .outbox import customer_recipients
    from .recipients import account_owner_recipients

    if n.order_id:
        return customer_recipients(n.order, [channel])
    if n.recipient_id:
        return account_owner_recipients(n.recipient, [channel], basis=n.legal_basis or "contract", event=n.event)
    return []


def fallback_reason(n: Notification) -> str:
    label = Channel(n.channel).label
    verb = "bounced" if n.status == S.BOUNCED else "failed"
    return f"Sent because the {label} {verb}."[:300]


def notification_fallback(n: Notification, *, hard: bool = True) -> Notification | None:
    """Write (once) and queue on commit the fallback of undelivered notification ``n``; None when
    there is none to send. ``hard``: for an email, the bounce was permanent (a soft bounce may still
    arrive, so it does not fall back). Runs inside the caller's transaction."""
    from .outbox import _blocked_by_preference, _customer_prefs, queue_on_commit, quiet_hours_end

    if (n.audience != Audience.CUSTOMER or n.category not in FALLBACK_CATEGORIES or n.fallback_of_id
            or n.channel not in FALLBACK_CHANNELS or (n.channel == Channel.EMAIL and not hard)):
        return None
    if Notification.objects.filter(fallback_of=n).exists():
        return None
    for channel in FALLBACK_CHANNELS[n.channel]:
        for r in _candidates(n, channel):
            if Notification.objects.filter(event_key=n.event_key, channel=channel, status__in=REACHED).exists():
                return None  # the customer already has this message that way
            if Suppression.objects.filter(channel=channel, address=r.address).exists():
                continue
            if _blocked_by_preference(n.category, channel, _customer_prefs(r.user)):
                continue
            row = Notification(
                event=n.event, event_key=f"{n.event_key}|fallback:{n.pk}"[:200], audience=n.audience,
                recipient=r.user, recipient_address=r.address[:254], channel=channel, category=n.category,
                language=n.language, order_id=n.order_id, store_id=n.store_id, subject_type=n.subject_type,
                subject_id=n.subject_id, context=n.context, legal_basis=r.legal_basis[:200], fallback_of=n,
                status_reason=fallback_reason(n))
            if held_by_quiet_hours(n.category, channel):
                held = quiet_hours_end(r.user, category=n.category, channel=channel,
                                       phone=r.address if channel != Channel.EMAIL else "")
                if held:
                    row.send_after = held
            try:
                with transaction.atomic():
                    row.save()
            except IntegrityError:  # a concurrent callback wrote it first
                return None
            if row.send_after is None or row.send_after <= timezone.now():
                queue_on_commit([row.pk])
            log.info("Notification %s (%s) did not arrive: fallback %s by %s", n.pk, n.channel, row.pk, channel)
            return row
    return None
