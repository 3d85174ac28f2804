"""Delivery: one outbox row → rendered → handed to its channel → one DeliveryAttempt per try.

At most once per row: a row is *claimed* with one conditional UPDATE (queued → sending) before
the provider is called, so a duplicate task run, a redelivered message or the sweeper finds
nothing to do. No database transaction is open while a provider is called.
"""
import logging
import random
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from notify_site.rows import from_row, prepared_cursor
from ops.logs import bind as log_context

from .bookkeeping import record_batch, record_ctes
from .channels import ChannelError, OutgoingMessage, get_channel
from .events import EVENTS, Audience, Channel, SubjectKind, get_event
from .models import DeliveryAttempt, Notification, NotificationTemplate, PlatformSettings, Suppression
from .rendering import Rendered, RenderError, render

log = logging.getLogger(__name__)
S = Notification.Status

# Retry policy: exponential backoff with jitter, every countdown far below the broker's
# visibility timeout (3600 s), so a waiting retry is never redelivered as a duplicate.
RETRY_BASE_SECONDS = 10
RETRY_MAX_SECONDS = 600
SWEEP_AFTER_SECONDS = 60
SWEEP_BATCH = 500


def retry_countdown(retries: int) -> float:
    """Seconds before try number ``retries + 2``: 10, 20, 40… (±25 % jitter), capped at 10 minutes."""
    base = min(RETRY_MAX_SECONDS, RETRY_BASE_SECONDS * 2 ** retries)
    return round(min(RETRY_MAX_SECONDS, base * random.uniform(0.75, 1.25)), 1)


def max_attempts() -> int:
    row = PlatformSettings.objects.filter(pk=1).only("max_attempts").first()
    return max(1, min(8, row.max_attempts if row else 5))


@dataclass
class Outcome:
    result: str  # sent | failed | retry | in_doubt | skipped | suppressed | superseded | held | noop | missing
    countdown: float = 0.0
    error: str = ""


def _stored(n: Notification) -> Rendered | None:
    if n.subject or n.body_text:
        return Rendered(subject=n.subject, text=n.body_text, html=n.body_html, source=n.template_source,
                        fallback=n.template_fallback)
    return None


def _flag_templates(rendered_failures, now):
    for template_id, error in rendered_failures:
        if template_id:
            NotificationTemplate.objects.filter(pk=template_id).update(render_error=error[:2000],
                                                                       render_failed_at=now)


def _message(n: Notification, rendered: Rendered) -> OutgoingMessage:
    ctx = n.context or {}
    store = ctx.get("store") or {}
    if n.audience == Audience.CUSTOMER and store.get("sender_name"):
        from_name = f"{store['sender_name']} via {settings.SHOP_NAME}"
    else:
        from_name = settings.SHOP_NAME
    links = ctx.get("links") or {}
    return OutgoingMessage(
        notification_id=n.pk, channel=n.channel, to=n.recipient_address, subject=rendered.subject,
        text=rendered.text, html=rendered.html, category=n.category, event=n.event, from_name=from_name,
        reply_to=store.get("support_email", "") if n.audience == Audience.CUSTOMER else "",
        user_id=n.recipient_id, url=links.get("inbox", ""), unsubscribe_url=links.get("unsubscribe", ""),
        message_ref=f"notification-{n.pk}.{n.resends}",
        # WhatsApp content templates take their variables from the context.
        metadata={"context": ctx} if n.channel == Channel.WHATSAPP else {},
    )


class _Recorder:
    """Writes what each try did. In a batch on PostgreSQL it holds a row's result until the next
    row is claimed and puts both in one statement (the result's CTEs, then the claim): one round
    trip and one commit fewer per row, and still only one row of the batch is ever "sending".
    ``flush`` writes a result still held (the last row's; always run, also on an error)."""

    def __init__(self, combine: bool):
        self.combine = combine
        self.held: tuple[str, list] | None = None
        self.held_rows: dict | None = None

    def __call__(self, *, attempts, deferred, updates):
        self.flush()
        ctes = record_ctes(attempts=attempts, deferred=deferred, updates=updates) if self.combine else None
        if ctes is None:
            record_batch(attempts=attempts, deferred=deferred, updates=updates)
        else:
            self.held, self.held_rows = ctes, {"attempts": attempts, "deferred": deferred, "updates": updates}

    def take(self) -> tuple[tuple[str, list] | None, dict | None]:
        held, rows = self.held, self.held_rows
        self.held = self.held_rows = None
        return held, rows

    def flush(self):
        held, rows = self.take()
        if rows is not None:
            record_batch(**rows)


def _claim(notification_ids: list[int], now, recorder: "_Recorder | None" = None) -> list[Notification]:
    """The claim: one conditional UPDATE … RETURNING moves due, unsuppressed rows from queued to
    sending and loads them. Each row is claimed by exactly one run; a duplicate run gets nothing.
    A result the ``recorder`` holds (the previous row's) is written by the same statement first."""
    from django.db import connection

    table, supp = Notification._meta.db_table, Suppression._meta.db_table
    columns = ", ".join(f'"{f.column}"' for f in Notification._meta.concrete_fields)
    placeholders = ", ".join(["%s"] * len(notification_ids))
    sql = (f'UPDATE "{table}" SET "status" = %s, "claimed_at" = %s, "attempts" = "attempts" + 1, '
           f'"updated_at" = %s WHERE "id" IN ({placeholders}) AND "status" = %s '
           f'AND ("send_after" IS NULL OR "send_after" <= %s) AND ("retry_at" IS NULL OR "retry_at" <= %s) '
           f'AND NOT EXISTS (SELECT 1 FROM "{supp}" s WHERE s."channel" = "{table}"."channel" '
           f'AND s."address" = "{table}"."recipient_address") RETURNING {columns}')
    at = connection.ops.adapt_datetimefield_value(now)
    params = [S.SENDING, at, at, *notification_ids, S.QUEUED, at, at]
    held, held_rows = recorder.take() if recorder is not None else (None, None)
    if held is not None:
        sql, params = held[0] + " " + sql, held[1] + params
    try:
        with prepared_cursor(connection) as cursor:
            cursor.execute(sql, params)
            fetched = cursor.fetchall()
    except Exception:
        if held_rows is not None:
            record_batch(**held_rows)  # the previous row's result must not go down with this claim
        raise
    return sorted((from_row(Notification, row, connection) for row in fetched), key=lambda n: n.pk)



def _why_not_claimed(notification_id: int, now) -> Outcome:
    row = Notification.objects.filter(pk=notification_id).values(
        "status", "send_after", "retry_at", "channel", "recipient_address").first()
    if row is None:
        return Outcome("missing")
    if row["status"] != S.QUEUED:
        return Outcome("noop")
    if row["send_after"] and row["send_after"] > now:
        return Outcome("held")  # the sweeper hands it over when the quiet hours end
    if row["retry_at"] and row["retry_at"] > now:
        return Outcome("held")  # an early (redelivered) copy of a retry: the backoff is not over
    if Suppression.objects.filter(channel=row["channel"], address=row["recipient_address"]).exists():
        Notification.objects.filter(pk=notification_id, status=S.QUEUED).update(
            status=S.SUPPRESSED, status_reason="Address on the suppression list.", updated_at=now)
        return Outcome("suppressed")
    return Outcome("noop")


def superseded_reason(n: Notification) -> str:
    """Why a message that waited out the recipient's quiet hours should no longer go, or "".

    It is stale when a later message about the same order already went (or was decided) on the
    same channel to the same address, or when the parcel it reports has moved on since: an "out for
    delivery" SMS held overnight for a parcel delivered at 23:10 is not sent at 08:00.
    """
    if not n.order_id:
        return ""
    newer = (Notification.objects.filter(order_id=n.order_id, channel=n.channel,
                                         recipient_address=n.recipient_address, id__gt=n.pk)
             .order_by("-id").values("event", "created_at").first())
    if newer is not None:
        label = get_event(newer["event"]).label.split(" / ")[0].lower() if newer["event"] in EVENTS else newer["event"]
        return f"Not sent: a later update ({label}) replaced it while it waited for the quiet hours to end."
    reported = ((n.context or {}).get("shipment") or {})
    if reported.get("status") and reported.get("tracking_number"):
        from orders.models import Shipment, TrackingStatus

        now_status = (Shipment.objects.filter(order_id=n.order_id, tracking_number=reported["tracking_number"])
                      .values_list("status", flat=True).first())
        if now_status and now_status != reported["status"]:
            label = dict(TrackingStatus.choices).get(now_status, now_status).lower()
            return f"Not sent: the parcel is now {label}, so this update was out of date when the quiet hours ended."
    return ""


def _send_one(n: Notification, now):
    """Render (or reuse what an earlier try rendered) and hand to the channel. No database writes
    except the in-app channel's own inbox row and a flag on a template that failed to render."""
    rendered = _stored(n)
    if rendered is None:
        try:
            rendered = render(event=n.event, audience=n.audience, channel=n.channel, language=n.language,
                              context=n.context)
        except RenderError as exc:
            return None, None, exc, 0
        if rendered.failures:
            _flag_templates(rendered.failures, now)
    started = time.perf_counter()
    try:
        result, error = get_channel(n.channel).send(_message(n, rendered)), None
    except ChannelError as exc:
        result, error = None, exc
    except Exception as exc:  # a bug or an unexpected library error: log it, treat as transient
        log.exception("Channel %s crashed on notification %s", n.channel, n.pk)
        result, error = None, ChannelError(f"{type(exc).__name__}: {exc}", transient=True)
    return rendered, result, error, int((time.perf_counter() - started) * 1000)


def _result_rows(n: Notification, rendered, result, error, latency: int, retries: int, done):
    """What one try did, as (attempt rows, state update, outcome) for bookkeeping.record_batch."""
    if rendered is None:  # no template could render it: nothing was sent
        return [], (n.pk, S.SENDING, {
            "status": S.FAILED, "last_error": f"No template could render this message: {error}"[:4000],
            "status_reason": "Template error", "updated_at": done}), Outcome("failed", error=str(error))
    content = {"subject": rendered.subject[:300], "body_text": rendered.text, "body_html": rendered.html,
               "template_source": rendered.source[:120], "template_fallback": rendered.fallback}
    if error is None:
        attempt = DeliveryAttempt(
            notification_id=n.pk, number=n.attempts, status=DeliveryAttempt.Status.SENT,
            provider=result.provider, provider_message_id=result.message_id[:200], latency_ms=latency,
            sms_segments=result.sms_segments, sms_encoding=result.sms_encoding,
            provider_status=result.provider_status[:64])
        return [attempt], (n.pk, None, {
            "status": S.SENT, "sent_at": done, "provider_message_id": result.message_id[:200], "last_error": "",
            "status_reason": "", "retry_at": None, "updated_at": done, **content}), Outcome("sent")
    if getattr(error, "ambiguous", False):
        # The request reached the provider but its answer did not reach us: it may have been sent.
        # Never a blind retry; in_doubt.resolve_in_doubt asks the provider or resends safely.
        attempt = DeliveryAttempt(
            notification_id=n.pk, number=n.attempts, status=DeliveryAttempt.Status.FAILED,
            provider=error.provider or n.channel, latency_ms=latency, error=f"Outcome unknown: {error}"[:4000])
        return [attempt], (n.pk, S.SENDING, {
            "status": S.IN_DOUBT, "last_error": str(error)[:4000], "updated_at": done,
            "status_reason": "The provider's answer was lost; checking whether it was sent.", **content}), \
            Outcome("in_doubt", error=str(error))
    retries = max(retries, n.attempts - 1)  # tries of this row before this one (a sweeper hand-over too)
    # A channel with its own retry_schedule (webhooks: about a day) counts the row's tries.
    schedule = getattr(get_channel(n.channel), "retry_schedule", None)
    limit = max_attempts() if error.transient else 1
    will_retry = error.transient and (n.attempts <= len(schedule) if schedule else retries + 1 < limit)
    attempt = DeliveryAttempt(
        notification_id=n.pk, number=n.attempts, status=DeliveryAttempt.Status.FAILED,
        provider=error.provider or n.channel, latency_ms=latency, error=str(error)[:4000], transient=will_retry)
    if will_retry:
        countdown = schedule[n.attempts - 1] if schedule else retry_countdown(retries)
        retry_at = done + timezone.timedelta(seconds=countdown)
        return [attempt], (n.pk, S.SENDING, {
            "status": S.QUEUED, "last_error": str(error)[:4000],
            **({"send_after": retry_at} if schedule else {}),
            "retry_at": retry_at, "updated_at": done,
            "status_reason": f"Retrying after a temporary error (try {retries + 1} failed).", **content}), \
            Outcome("retry", countdown=countdown, error=str(error))
    return [attempt], (n.pk, S.SENDING, {
        "status": S.FAILED, "last_error": str(error)[:4000], "updated_at": done,
        "status_reason": "Gave up after {} tr{}.".format(retries + 1, "y" if retries == 0 else "ies")
        if error.transient else "Permanent provider error.", **content}), Outcome("failed", error=str(error))


def _deliver_one(pk: int, retries: int, recorder: _Recorder) -> Outcome:
    now = timezone.now()
    claimed = _claim([pk], now, recorder)
    if not claimed:
        return _why_not_claimed(pk, now)
    n = claimed[0]
    order_number = ((n.context or {}).get("order") or {}).get("number")
    with log_context(notification_id=n.pk, order_number=order_number):
        return _deliver_claimed(n, now, retries, recorder)


def _deliver_claimed(n: Notification, now, retries: int, record=record_batch) -> Outcome:
    if n.subject_type == SubjectKind.PROMOTION:
        # A promotion row holds a pointer to its promotion's shared context; may it go now?
        from marketing.delivery import prepare_claimed

        instead = prepare_claimed(n, now)
        if instead is not None:
            record(attempts=[], deferred=[], updates=[(n.pk, S.SENDING, instead)])
            return Outcome("held" if instead["status"] == S.QUEUED else "skipped")
    # It waited out quiet hours: is it still true? (A webhook's send_after is its retry time.)
    if n.send_after is not None and n.channel != Channel.WEBHOOK:
        reason = superseded_reason(n)
        if reason:
            record(attempts=[], deferred=[], updates=[(n.pk, S.SENDING, {
                "status": S.SUPERSEDED, "status_reason": reason[:300], "last_error": "", "retry_at": None,
                "attempts": max(0, n.attempts - 1), "updated_at": now})])
            return Outcome("superseded")
    rendered, result, error, latency = _send_one(n, now)
    attempts, update, outcome = _result_rows(n, rendered, result, error, latency, retries, timezone.now())
    deferred = result.deferred_rows if result is not None and error is None else []
    record(attempts=attempts, deferred=deferred, updates=[update])
    return outcome


def notification_deliver_many(*, notification_ids: list[int], retries: int = 0) -> dict[int, Outcome]:
    """Send queued notifications (typically the rows of one event). ``retries``: tries of this
    run that came before. Returns an Outcome per id.

    One row at a time: claimed (queued → sending, one conditional UPDATE), handed to its channel
    outside any transaction, and recorded (attempt + state, and the in-app inbox row) as soon as
    the provider answers: in a batch on PostgreSQL by the statement that claims the next row (see
    ``_Recorder``). A worker killed mid-batch therefore leaves at most the one message it was
    handing over in doubt (status "sending" past its lease), which the sweeper resolves
    (in_doubt.py); rows it had not reached are still queued.
    """
    ids = sorted({int(pk) for pk in notification_ids})
    recorder = _Recorder(combine=len(ids) > 1)
    outcomes = {}
    try:
        for pk in ids:
            outcomes[pk] = _deliver_one(pk, retries, recorder)
    finally:
        recorder.flush()
    return outcomes


def notification_deliver(*, notification_id: int, retries: int = 0) -> Outcome:
    """Send one queued notification (see ``notification_deliver_many``)."""
    return notification_deliver_many(notification_ids=[notification_id], retries=retries)[int(notification_id)]


def notification_resend(*, notification: Notification, actor=None) -> Notification:
    """Send an existing notification again (a new DeliveryAttempt; never a second Notification).

    Renders again with today's template. Refused while it is still queued or being sent.
    """
    with transaction.atomic():
        locked = Notification.objects.select_for_update().get(pk=notification.pk)
        if locked.status in (S.QUEUED, S.SENDING, S.IN_DOUBT, S.HELD_FOR_DIGEST):
            raise ValidationError(f"Notification #{locked.pk} is still {locked.get_status_display().lower()}; "
                                  "wait for it to finish before resending.")
        who = getattr(actor, "get_username", lambda: str(actor or "system"))()
        # A webhook's body is its frozen payload (same webhook-id and body on a resend); others re-render.
        content = ({"attempts": 0} if locked.channel == Channel.WEBHOOK else
                   {"subject": "", "body_text": "", "body_html": "", "template_source": "", "template_fallback": False})
        Notification.objects.filter(pk=locked.pk).update(
            status=S.QUEUED, status_reason=f"Resend requested by {who}.", send_after=None, retry_at=None,
            resends=F("resends") + 1, claimed_at=None, updated_at=timezone.now(), **content)
        from .outbox import queue_on_commit

        queue_on_commit([locked.pk])
    notification.refresh_from_db()
    return notification


def outbox_sweep(*, now=None, budget_seconds: float = 40.0) -> dict:
    """Beat task body (its own queue, every 20 s): hand over rows left queued (broker down at
    commit, quiet hours over, retry due), in pages of SWEEP_BATCH until none is left or the time
    budget is spent, so a backlog of thousands drains in about a minute; and resolve rows in doubt
    (in_doubt.py) instead of failing them."""
    from .in_doubt import resolve_all_in_doubt
    from .outbox import dispatch

    now = now or timezone.now()
    started = time.monotonic()
    stale = now - timezone.timedelta(seconds=getattr(settings, "NOTIFY_SWEEP_AFTER_SECONDS", SWEEP_AFTER_SECONDS))
    requeued, last_id = 0, 0
    while time.monotonic() - started < budget_seconds:
        due = list(Notification.objects.filter(status=S.QUEUED, updated_at__lt=stale, id__gt=last_id)
                   .filter(Q(send_after__isnull=True) | Q(send_after__lte=now))
                   .filter(Q(retry_at__isnull=True) | Q(retry_at__lte=now))
                   .order_by("id").values_list("id", flat=True)[:SWEEP_BATCH])
        if not due:
            break
        last_id = due[-1]
        try:
            dispatch(due)
        except Exception:
            log.exception("Sweeper could not queue notifications (broker down?)")
            break
        # Touch them once handed over, so the next sweep leaves them alone while workers catch up.
        Notification.objects.filter(pk__in=due, status=S.QUEUED).update(updated_at=now)
        requeued += len(due)
    resolved = resolve_all_in_doubt(now=now)
    return {"requeued": requeued, "in_doubt": resolved}


# --- provider callbacks -----------------------------------------------------------------------

ATTEMPT_FOR_NOTIFICATION = {
    DeliveryAttempt.Status.DELIVERED: S.DELIVERED,
    DeliveryAttempt.Status.BOUNCED: S.BOUNCED,
    DeliveryAttempt.Status.FAILED: S.FAILED,
}


def attempt_record_provider_status(*, provider_message_id: str, status: str, provider_status: str = "",
                                   error: str = "", suppress: str = "",
                                   progress: dict | None = None) -> DeliveryAttempt | None:
    """A provider told us what became of a message: move its attempt and notification on.

    ``status``: sent | delivered | bounced | failed. ``suppress``: a Suppression reason to add the
    address to the suppression list (hard bounce, complaint, STOP). Unknown ids return None.
    A final state is never moved back by a late, out-of-order callback; with ``progress`` (provider
    status -> how far along it is) a callback older than the one recorded changes nothing at all.
    """
    if not provider_message_id:
        return None
    attempt = (DeliveryAttempt.objects.select_related("notification")
               .filter(provider_message_id=provider_message_id).order_by("-id").first())
    if attempt is None:
        return None
    if progress and progress.get(attempt.provider_status, -1) > progress.get(provider_status, -1):
        return attempt  # a late callback: what we already know is further along
    now = timezone.now()
    with transaction.atomic():
        final = (DeliveryAttempt.Status.DELIVERED, DeliveryAttempt.Status.BOUNCED, DeliveryAttempt.Status.FAILED)
        if attempt.status not in final or status in (DeliveryAttempt.Status.BOUNCED, DeliveryAttempt.Status.FAILED):
            if status in DeliveryAttempt.Status.values:
                attempt.status = status
        attempt.provider_status = (provider_status or status)[:64]
        if error:
            attempt.error = error[:4000]
        attempt.save(update_fields=["status", "provider_status", "error", "updated_at"])
        n = attempt.notification
        target = ATTEMPT_FOR_NOTIFICATION.get(attempt.status)
        if target and n.status in (S.SENT, S.DELIVERED):
            fields = {"status": target, "updated_at": now}
            if target == S.DELIVERED:
                fields["delivered_at"] = now
            else:
                fields["last_error"] = (error or provider_status or status)[:4000]
                fields["status_reason"] = f"Provider reported {provider_status or status}."
            Notification.objects.filter(pk=n.pk).update(**fields)
        if suppress:
            Suppression.objects.get_or_create(channel=n.channel, address=n.recipient_address,
                                              defaults={"reason": suppress, "detail": (error or provider_status)[:300]})
        if target in (S.BOUNCED, S.FAILED) and n.status in (S.SENT, S.DELIVERED, S.BOUNCED, S.FAILED):
            from .fallback import notification_fallback

            n.status = target
            notification_fallback(n, hard=suppress == Suppression.Reason.BOUNCE)
    return attempt


STOP_WORDS = {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "OPTOUT", "REVOKE"}
START_WORDS = {"START", "YES", "UNSTOP", "OPTIN"}


def whatsapp_inbound_seen(*, from_number: str, now=None) -> None:
    """A customer wrote to us on WhatsApp: free-form session messages may go for 24 hours."""
    from .models import WhatsAppSession

    if from_number:
        WhatsAppSession.objects.update_or_create(address=from_number,
                                                 defaults={"last_inbound_at": now or timezone.now()})


def sms_inbound_keyword(*, from_number: str, body: str, opt_out_type: str = "",
                        channel: str = Channel.SMS) -> str:
    """Handle an inbound SMS (or WhatsApp message, ``channel="whatsapp"``): STOP-type words
    suppress the number on that channel and record the withdrawal; START-type words lift it.
    ``opt_out_type`` ("stop" / "start" / "help", from Twilio's OptOutType) decides when given,
    whatever the keyword or language. Returns "stop", "start", "help" or "" (anything else is
    ignored; HELP changes nothing here, Twilio answers it)."""
    from accounts.models import ConsentRecord, User

    whatsapp = channel == Channel.WHATSAPP
    opt_in_field = "whatsapp_opt_in" if whatsapp else "sms_opt_in"
    kind = ConsentRecord.Kind.WHATSAPP_UPDATES if whatsapp else ConsentRecord.Kind.SMS_UPDATES
    label = "WhatsApp" if whatsapp else "SMS"

    word = (body or "").strip().split(maxsplit=1)[0].upper()[:20] if (body or "").strip() else ""
    number = (from_number or "").strip()
    if opt_out_type == "help":
        return "help"
    action = (opt_out_type if opt_out_type in ("stop", "start")
              else "stop" if word in STOP_WORDS else "start" if word in START_WORDS else "")
    if not number or not action:
        return ""
    word = word or action.upper()
    users = list(User.objects.filter(phone=number))
    with transaction.atomic():
        if action == "stop":
            Suppression.objects.update_or_create(channel=channel, address=number,
                                                 defaults={"reason": Suppression.Reason.STOP,
                                                           "detail": f"Replied {word}"})
            User.objects.filter(pk__in=[u.pk for u in users]).update(**{opt_in_field: False})
            granted = False
        else:
            Suppression.objects.filter(channel=channel, address=number, reason=Suppression.Reason.STOP).delete()
            User.objects.filter(pk__in=[u.pk for u in users]).update(**{opt_in_field: True})
            granted = True
        ConsentRecord.objects.bulk_create([
            ConsentRecord(user=u, email=u.email, kind=kind, granted=granted,
                          source=f"{label} {word}"[:64]) for u in users
        ] or [ConsentRecord(user=None, email="", kind=kind, granted=granted,
                            source=f"{label} {word} from {number}"[:64])])
        if action == "stop" and not whatsapp:
            # STOP ends marketing texts too (the promotion audience reads this); START does not
            # bring them back: marketing needs its own opt-in.
            ConsentRecord.objects.bulk_create([
                ConsentRecord(user=u, email=u.email, kind=ConsentRecord.Kind.MARKETING_SMS, granted=False,
                              source=f"SMS {word}"[:64]) for u in users])
    return action
