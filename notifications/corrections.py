"""Self-service fix-and-resend (SPEC section 8): the order status page shows a customer message
that bounced or failed, with a plain reason; the customer (signed in, or through the signed status
link) corrects the email address or phone number and the message is sent again, as a new
notification linked to the failed one (``Notification.corrected_from``), to the new address.

- A new email address is confirmed first: a link (``order.contact_confirm``, sent to the new
  address only) must be followed before anything is resent or the order changes.
- A new phone number must be a valid E.164 mobile-capable number (phonenumbers) and is used at
  once: the checkout takes the number the same way, the resend is the one message the customer
  asked for, and the daily SMS cap and STOP still apply.
- The old address's suppression stays as it is (it bounced; it is not un-suppressed).
- At most ``CORRECTIONS_PER_DAY`` corrections per order a day.
"""
import datetime
import re

import phonenumbers
from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from .events import Audience, Channel, get_event
from .models import AddressCorrection, Notification, Suppression

S = Notification.Status
FIXABLE_CHANNELS = (Channel.EMAIL, Channel.SMS, Channel.WHATSAPP)
PROBLEM_STATUSES = (S.BOUNCED, S.FAILED, S.SUPPRESSED)
CORRECTIONS_PER_DAY = 3
CONFIRM_SALT = "notifications.address-correction"
CONFIRM_MAX_AGE = datetime.timedelta(days=2)


# --- reads -------------------------------------------------------------------------------------

def plain_reason(n: Notification, shown: str | None = None) -> str:
    """Why it did not arrive, in words a customer understands (``shown``: the address as the
    page shows it, masked for customers)."""
    address = n.recipient_address if shown is None else shown
    if n.channel == Channel.EMAIL:
        if n.status == S.BOUNCED:
            return _("The email to %(address)s bounced: that mailbox does not exist or refused it.") % {
                "address": address}
        if n.status == S.SUPPRESSED:
            return _("We no longer send email to %(address)s because earlier messages to it bounced or were "
                     "reported as spam.") % {"address": address}
        return _("We could not send the email to %(address)s.") % {"address": address}
    what = _("WhatsApp message") if n.channel == Channel.WHATSAPP else _("text message")
    if n.status == S.SUPPRESSED:
        return _("We no longer send a %(what)s to %(address)s: the number replied STOP or cannot receive "
                 "messages.") % {"what": what, "address": address}
    if n.status == S.BOUNCED:
        return _("The %(what)s to %(address)s could not be delivered by the phone network.") % {
            "what": what, "address": address}
    return _("We could not send the %(what)s to %(address)s.") % {"what": what, "address": address}


def delivery_problems(order, *, mask=None) -> list[dict]:
    """The customer's messages about ``order`` that did not arrive, newest first, each with its
    reason, what was sent instead (fallback) and the corrections asked for. Three queries."""
    rows = list(Notification.objects.filter(order=order, audience=Audience.CUSTOMER, channel__in=FIXABLE_CHANNELS,
                                            status__in=PROBLEM_STATUSES).order_by("-created_at", "-id"))
    if not rows:
        return []
    ids = [n.pk for n in rows]
    followups = {}
    for f in Notification.objects.filter(order=order).filter(
            models_q_fallback_or_correction(ids)).order_by("id"):
        followups.setdefault(f.fallback_of_id or f.corrected_from_id, []).append(f)
    pending = {}
    for c in AddressCorrection.objects.filter(notification_id__in=ids, confirmed_at__isnull=True).order_by("-id"):
        pending.setdefault(c.notification_id, c)
    out = []
    for n in rows:
        out.append({"notification": n, "label": get_event(n.event).label, "channel": Channel(n.channel).label,
                    "reason": plain_reason(n, mask(n.recipient_address, n.channel) if mask else None),
                    "shown": mask(n.recipient_address, n.channel) if mask else n.recipient_address, "followups": followups.get(n.pk, []),
                    "pending": pending.get(n.pk),
                    # Once it reached the customer another way (fallback or corrected resend), no form.
                    "fixable": n.channel in FIXABLE_CHANNELS and not any(
                        f.status in (S.QUEUED, S.SENDING, S.IN_DOUBT, S.SENT, S.DELIVERED)
                        for f in followups.get(n.pk, [])),
                    "field": "email" if n.channel == Channel.EMAIL else "phone"})
    return out


def models_q_fallback_or_correction(ids):
    from django.db.models import Q

    return Q(fallback_of_id__in=ids) | Q(corrected_from_id__in=ids)


# --- writes ------------------------------------------------------------------------------------

def _clean_new_address(n: Notification, value: str) -> str:
    value = (value or "").strip()
    if n.channel == Channel.EMAIL:
        try:
            validate_email(value)
        except ValidationError:
            raise ValidationError({"address": _("Enter a valid email address.")}) from None
        value = value.lower()
    else:
        try:
            parsed = phonenumbers.parse(value, getattr(settings, "PHONENUMBER_DEFAULT_REGION", None) or "GB")
        except phonenumbers.NumberParseException:
            parsed = None
        if parsed is None or not phonenumbers.is_valid_number(parsed):
            raise ValidationError({"address": _("Enter a valid mobile number, e.g. +447911123456.")})
        if phonenumbers.number_type(parsed) not in (phonenumbers.PhoneNumberType.MOBILE,
                                                    phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE):
            raise ValidationError({"address": _("Text messages need a mobile number.")})
        value = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    if value == n.recipient_address:
        raise ValidationError({"address": _("That is the address the message already went to. Enter the "
                                            "corrected one.")})
    if Suppression.objects.filter(channel=n.channel, address=value).exists():
        raise ValidationError({"address": _("We cannot send to that address either (it bounced or opted out "
                                            "before). Try another one.")})
    return value


def _check_rate(order, now) -> None:
    recent = AddressCorrection.objects.filter(notification__order=order,
                                              created_at__gte=now - datetime.timedelta(days=1)).count()
    if recent >= CORRECTIONS_PER_DAY:
        raise ValidationError({"address": _("You have corrected this order's address %(n)d times today. Try "
                                            "again tomorrow, or contact the shop.") % {"n": CORRECTIONS_PER_DAY}})


def confirm_token(correction: AddressCorrection) -> str:
    return signing.dumps({"c": correction.pk, "a": correction.new_address}, salt=CONFIRM_SALT, compress=True)


def correction_from_token(token: str) -> AddressCorrection:
    try:
        data = signing.loads(token, salt=CONFIRM_SALT, max_age=CONFIRM_MAX_AGE)
    except signing.SignatureExpired:
        raise ValidationError(_("This confirmation link has expired. Correct the address again on the order "
                                "page.")) from None
    except signing.BadSignature:
        raise ValidationError(_("This confirmation link is not valid.")) from None
    correction = (AddressCorrection.objects.select_related("notification__order").filter(pk=data.get("c"))
                  .first())
    if correction is None or correction.new_address != data.get("a"):
        raise ValidationError(_("This confirmation link is not valid."))
    return correction


def _locked_problem(notification_id: int, order) -> Notification:
    n = Notification.objects.select_for_update().filter(pk=notification_id, order=order,
                                                         audience=Audience.CUSTOMER).first()
    if n is None or n.status not in PROBLEM_STATUSES or n.channel not in FIXABLE_CHANNELS:
        raise ValidationError({"address": _("This message is not one that can be resent.")})
    return n


@transaction.atomic
def correction_request(*, order, notification_id: int, address: str, ip: str | None = None) -> AddressCorrection:
    """The customer's corrected address for one undelivered message of ``order`` (the caller has
    checked that the visitor may see the order). A phone number resends now; an email address
    gets a confirmation link first. Raises ValidationError({"address": …})."""
    now = timezone.now()
    n = _locked_problem(notification_id, order)
    new = _clean_new_address(n, address)
    _check_rate(order, now)
    correction = AddressCorrection.objects.create(notification=n, channel=n.channel, new_address=new)
    if n.channel == Channel.EMAIL:
        _send_confirmation(correction, order)
    else:
        _apply(correction, now)
    return correction


def _send_confirmation(correction: AddressCorrection, order) -> Notification:
    from .context import build_context, for_recipient, load_subject
    from .outbox import queue_on_commit

    event = "order.contact_confirm"
    url = settings.SITE_URL + reverse("accounts:delivery_confirm", args=[confirm_token(correction)])
    subject = load_subject(order, event, change={"new_email": correction.new_address, "confirm_url": url,
                                                 "expires": _("in 2 days")})
    ctx = for_recipient(build_context(event, Audience.CUSTOMER, subject), order.customer, Audience.CUSTOMER, order)
    row = Notification.objects.create(
        event=event, event_key=f"correction:{correction.pk}", audience=Audience.CUSTOMER, recipient=order.customer,
        recipient_address=correction.new_address, channel=Channel.EMAIL, category=get_event(event).category,
        language=correction.notification.language, order=order, store_id=order.store_id, context=ctx,
        legal_basis=f"request: the customer asked to correct the email of order {order.number}")
    queue_on_commit([row.pk])
    return row


@transaction.atomic
def correction_confirm(*, token: str) -> AddressCorrection:
    """The new email address was confirmed by its link: change the order's email and resend.
    Following the link again changes nothing."""
    correction = correction_from_token(token)
    correction = AddressCorrection.objects.select_for_update().get(pk=correction.pk)
    if correction.confirmed_at is None:
        _apply(correction, timezone.now())
    return correction


def _apply(correction: AddressCorrection, now) -> Notification:
    """Point the order at the corrected address and send the failed message there."""
    from orders.links import status_url
    from orders.models import Order

    from .outbox import queue_on_commit

    n = correction.notification
    order = Order.objects.select_for_update().get(pk=n.order_id)
    if n.channel == Channel.EMAIL:
        order.email = correction.new_address
        order.save(update_fields=["email", "updated_at"])
    else:
        order.phone = correction.new_address
        if n.channel == Channel.WHATSAPP:
            order.whatsapp_opt_in = True
        else:
            order.sms_opt_in = True
        order.save(update_fields=["phone", "whatsapp_opt_in", "sms_opt_in", "updated_at"])
    # The status link in the message is signed with the order's email: give it the new one.
    context = dict(n.context or {})
    new_status = status_url(order)
    signed = re.compile("^" + re.escape(status_url(order).split("/o/", 1)[0]) + "/o/[^/]+/")
    links = dict(context.get("links") or {})
    for key, value in links.items():
        if isinstance(value, str):
            links[key] = signed.sub(new_status, value)
    context["links"] = links
    if n.channel == Channel.EMAIL and isinstance(context.get("customer"), dict):
        context["customer"] = dict(context["customer"], email=correction.new_address)
    row = Notification.objects.create(
        event=n.event, event_key=f"{n.event_key}|corrected:{correction.pk}"[:200], audience=n.audience,
        recipient=n.recipient, recipient_address=correction.new_address, channel=n.channel, category=n.category,
        language=n.language, order_id=n.order_id, store_id=n.store_id, subject_type=n.subject_type,
        subject_id=n.subject_id, context=context, corrected_from=n,
        legal_basis=(n.legal_basis or "contract")[:150] + " (address corrected by the customer)",
        status_reason="Resent to the address the customer corrected.")
    correction.confirmed_at = now
    correction.resent = row
    correction.save(update_fields=["confirmed_at", "resent"])
    queue_on_commit([row.pk])
    return row
