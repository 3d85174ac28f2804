"""Writes for promotions: save, launch (now or scheduled), pause, resume, cancel, test send, and the
promo code at checkout (validate, discount). Views and the admin call these; reads are in
selectors.py."""
import re
from decimal import ROUND_HALF_UP, Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from notifications.events import Channel

from .models import FanOut, Promotion

PENNY = Decimal("0.01")
CODE_RE = re.compile(r"^[A-Z0-9][A-Z0-9_-]{2,31}$")
PROMOTION_CHANNELS = (Channel.EMAIL, Channel.SMS)
LIVE = (Promotion.Status.SCHEDULED, Promotion.Status.SENDING, Promotion.Status.PAUSED, Promotion.Status.SENT)


def normalise_code(code: str) -> str:
    return (code or "").strip().upper()


def promotion_validate(promotion: Promotion, products=None) -> None:
    """The rules a promotion must meet before it is saved (field errors as ValidationError dict)."""
    errors = {}
    promotion.code = normalise_code(promotion.code)
    if not CODE_RE.match(promotion.code):
        errors["code"] = _("Use 3–32 letters, digits, - or _.")
    if promotion.starts_at and promotion.ends_at and promotion.ends_at <= promotion.starts_at:
        errors["ends_at"] = _("The end must be after the start.")
    channels = list(promotion.channels or [])
    if not channels or any(c not in PROMOTION_CHANNELS for c in channels):
        errors["channels"] = _("Choose email, SMS or both.")
    if promotion.whole_store and not promotion.store_id:
        errors["whole_store"] = _("A whole-store promotion needs a store.")
    if products is not None:
        products = list(products)
        if not promotion.whole_store and not products:
            errors["products"] = _("Choose the eligible products, or the whole store.")
        if promotion.store_id and any(p.store_id != promotion.store_id for p in products):
            errors["products"] = _("Only this store's products can be eligible.")
    if errors:
        raise ValidationError(errors)


def _editable(promotion: Promotion) -> None:
    if promotion.status not in (Promotion.Status.DRAFT, Promotion.Status.SCHEDULED):
        raise ValidationError(_("A promotion that has started sending cannot be changed."))


@transaction.atomic
def promotion_launch(*, promotion: Promotion, actor=None, at=None) -> Promotion:
    """Launch now, or at ``at`` (beat's marketing.tick starts it then). Freezes the shared context."""
    from .context import promotion_context

    promotion = Promotion.objects.select_for_update().get(pk=promotion.pk)
    if promotion.status not in (Promotion.Status.DRAFT, Promotion.Status.SCHEDULED):
        raise ValidationError(_("This promotion has already been launched."))
    now = timezone.now()
    if promotion.ends_at <= now:
        raise ValidationError(_("This promotion has already ended."))
    if at is not None and at > now:
        promotion.launch_at, promotion.status = at, Promotion.Status.SCHEDULED
        promotion.save(update_fields=["launch_at", "status", "updated_at"])
        return promotion
    promotion.context = promotion_context(promotion)
    promotion.status = Promotion.Status.SENDING
    promotion.launch_at = promotion.launch_at or now
    promotion.save(update_fields=["context", "status", "launch_at", "updated_at"])
    from .fanout import fanout_start

    fanout_start(source=FanOut.Source.PROMOTION, source_id=promotion.pk, key=promotion.event_key)
    transaction.on_commit(lambda: _after_launch(promotion.pk))
    return promotion


def _after_launch(promotion_id: int) -> None:
    from .tasks import count_audience, pump

    try:
        count_audience.delay(promotion_id)
        pump.delay(promotion_id)
    except Exception:  # broker away: marketing.tick starts the pump
        pass


@transaction.atomic
def promotion_pause(*, promotion: Promotion) -> Promotion:
    promotion = Promotion.objects.select_for_update().get(pk=promotion.pk)
    if promotion.status != Promotion.Status.SENDING:
        raise ValidationError(_("Only a promotion that is sending can be paused."))
    promotion.status = Promotion.Status.PAUSED
    promotion.save(update_fields=["status", "updated_at"])
    FanOut.objects.filter(source=FanOut.Source.PROMOTION, source_id=promotion.pk,
                          status=FanOut.Status.RUNNING).update(status=FanOut.Status.PAUSED)
    return promotion


@transaction.atomic
def promotion_resume(*, promotion: Promotion) -> Promotion:
    from .fanout import kick_on_commit

    promotion = Promotion.objects.select_for_update().get(pk=promotion.pk)
    if promotion.status != Promotion.Status.PAUSED:
        raise ValidationError(_("Only a paused promotion can be resumed."))
    promotion.status = Promotion.Status.SENDING
    promotion.save(update_fields=["status", "updated_at"])
    fanout = FanOut.objects.filter(source=FanOut.Source.PROMOTION, source_id=promotion.pk).first()
    if fanout is not None and fanout.status == FanOut.Status.PAUSED:
        FanOut.objects.filter(pk=fanout.pk).update(status=FanOut.Status.RUNNING)
        kick_on_commit(fanout.pk)
    transaction.on_commit(lambda: _after_resume(promotion.pk))
    return promotion


def _after_resume(promotion_id: int) -> None:
    from .tasks import pump

    try:
        pump.delay(promotion_id)
    except Exception:
        pass


@transaction.atomic
def promotion_cancel(*, promotion: Promotion) -> Promotion:
    """Stop for good: nothing more is written or sent (rows still queued are skipped). The code
    stops working at checkout."""
    from notifications.models import Notification

    promotion = Promotion.objects.select_for_update().get(pk=promotion.pk)
    if promotion.status in (Promotion.Status.CANCELLED, Promotion.Status.SENT):
        raise ValidationError(_("This promotion is already finished."))
    promotion.status = Promotion.Status.CANCELLED
    promotion.save(update_fields=["status", "updated_at"])
    FanOut.objects.filter(source=FanOut.Source.PROMOTION, source_id=promotion.pk).exclude(
        status=FanOut.Status.DONE).update(status=FanOut.Status.CANCELLED)
    Notification.objects.filter(subject_type="promotion", subject_id=promotion.pk,
                                status=Notification.Status.QUEUED).update(
        status=Notification.Status.SKIPPED, status_reason="Not sent: the promotion was cancelled.",
        updated_at=timezone.now())
    return promotion


def promotion_finish_if_sent(promotion: Promotion) -> bool:
    """Mark the promotion sent once its fan-out is written and the pump has released every row."""
    from notifications.models import Notification

    fanout = FanOut.objects.filter(source=FanOut.Source.PROMOTION, source_id=promotion.pk).first()
    if fanout is None or fanout.status != FanOut.Status.DONE:
        return False
    pumped = fanout.pumped or {}
    for channel in promotion.channels:
        if Notification.objects.filter(subject_type="promotion", subject_id=promotion.pk, channel=channel,
                                       status=Notification.Status.QUEUED, id__gt=pumped.get(channel, 0)).exists():
            return False
    return bool(Promotion.objects.filter(pk=promotion.pk, status=Promotion.Status.SENDING)
                .update(status=Promotion.Status.SENT, updated_at=timezone.now()))


def promotion_preview(promotion: Promotion, channel: str, *, first_name: str = "Ada",
                      address: str = "ada@example.com"):
    """The message as a recipient would get it (rendering.Rendered), before or after launch."""
    from notifications.rendering import render

    from .context import for_row, promotion_context

    shared = promotion.context or promotion_context(promotion)
    ctx = for_row(shared, first_name=first_name, address=address, channel=channel, promotion_id=promotion.pk)
    return render(event="promotion.launched", audience="customer", channel=channel, language="en", context=ctx)


def promotion_test_send(*, promotion: Promotion, user, channel: str = Channel.EMAIL) -> str:
    """Send the message to the staff member or seller asking, now, outside the outbox (marked [TEST])."""
    from notifications.channels import OutgoingMessage, get_channel

    address = user.email if channel == Channel.EMAIL else str(user.phone or "")
    if not address:
        raise ValidationError(_("You have no address on that channel."))
    rendered = promotion_preview(promotion, channel, first_name=user.first_name or user.username, address=address)
    from .context import unsubscribe_url

    get_channel(channel).send(OutgoingMessage(
        notification_id=None, channel=channel, to=address, subject=f"[TEST] {rendered.subject}", text=rendered.text,
        html=rendered.html, category="marketing", event="promotion.launched",
        unsubscribe_url=unsubscribe_url(address, channel, promotion.pk) if channel == Channel.EMAIL else ""))
    return address


# --- the code at checkout ----------------------------------------------------------------------

def promotion_for_code(code: str, *, now=None) -> Promotion:
    """The live promotion behind a code, or ValidationError saying why it does not work."""
    now = now or timezone.now()
    code = normalise_code(code)
    promotion = Promotion.objects.filter(code=code, status__in=LIVE).select_related("store").first()
    if promotion is None:
        raise ValidationError(_("That code does not exist."))
    if now < promotion.starts_at:
        raise ValidationError(_("That code works from %(start)s.") % {"start": f"{promotion.starts_at:%d %b %Y %H:%M}"})
    if now >= promotion.ends_at:
        raise ValidationError(_("That code has expired."))
    return promotion


def eligible_product_ids(promotion: Promotion, product_ids) -> set[int]:
    from catalog.models import Product

    qs = Product.objects.filter(pk__in=list(product_ids))
    if promotion.whole_store and promotion.store_id:
        qs = qs.filter(store_id=promotion.store_id)
    else:
        qs = qs.filter(promotions=promotion)
    return set(qs.values_list("pk", flat=True))


def line_discounts(promotion: Promotion, lines) -> dict[int, Decimal]:
    """{product id: discount} for ``lines`` = [(product_id, line_total)]; ineligible lines get none."""
    lines = list(lines)
    eligible = eligible_product_ids(promotion, [pid for pid, _ in lines])
    return {pid: (Decimal(total) * promotion.rate()).quantize(PENNY, rounding=ROUND_HALF_UP)
            for pid, total in lines if pid in eligible}
