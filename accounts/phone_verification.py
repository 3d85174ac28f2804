"""Proving a phone number is the user's before SMS alerts go to it (issue 9, item 12).

A six-digit code goes by SMS through the notification outbox (``account.phone_verify``, a security
message: never held, never switched off); typing it back within CODE_MINUTES marks the number as
verified. At most CODES_PER_HOUR codes an hour and TRIES_PER_CODE tries per code. Only a hash of the
code is kept on the timeline row.
"""
import datetime
import hashlib
import hmac
import secrets

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from . import signals
from .models import AccountEvent, User

CODE_MINUTES = 10
CODES_PER_HOUR = 3
TRIES_PER_CODE = 5


def _digest(code: str, user_id: int) -> str:
    return hmac.new(settings.SECRET_KEY.encode(), f"{user_id}:{code}".encode(), hashlib.sha256).hexdigest()


def phone_is_verified(user) -> bool:
    return bool(user.phone) and user.phone_verified_number == str(user.phone)


@transaction.atomic
def phone_verification_start(*, user: User) -> AccountEvent:
    if not user.phone:
        raise ValidationError(_("Add a mobile number to your account first."))
    since = timezone.now() - datetime.timedelta(hours=1)
    if AccountEvent.objects.filter(user=user, kind=AccountEvent.Kind.PHONE_VERIFY,
                                   created_at__gte=since).count() >= CODES_PER_HOUR:
        raise ValidationError(_("We have sent three codes this hour. Try again later."))
    code = f"{secrets.randbelow(10**6):06d}"
    event = AccountEvent.objects.create(user=user, kind=AccountEvent.Kind.PHONE_VERIFY, data={
        "phone": str(user.phone), "digest": _digest(code, user.pk), "tries": 0})
    signals.phone_verification_requested.send(sender=AccountEvent, user=user, event=event, code=code,
                                              minutes=CODE_MINUTES)
    return event


def phone_verification_confirm(*, user: User, code: str) -> None:
    """Check the code; a wrong one counts as a try (recorded even though the call then refuses)."""
    problem = _check_code(user=user, code=code)
    if problem:
        raise ValidationError(problem)


@transaction.atomic
def _check_code(*, user: User, code: str) -> str:
    code = "".join(ch for ch in (code or "") if ch.isdigit())
    since = timezone.now() - datetime.timedelta(minutes=CODE_MINUTES)
    event = (AccountEvent.objects.select_for_update()
             .filter(user=user, kind=AccountEvent.Kind.PHONE_VERIFY, created_at__gte=since)
             .order_by("-created_at", "-id").first())
    if event is None or event.data.get("phone") != str(user.phone):
        return "That code has expired. Send a new one."
    if event.data.get("tries", 0) >= TRIES_PER_CODE:
        return "Too many wrong codes. Send a new one."
    if len(code) != 6 or not hmac.compare_digest(event.data.get("digest", ""), _digest(code, user.pk)):
        event.data["tries"] = event.data.get("tries", 0) + 1
        event.save(update_fields=["data"])
        return "That code is not right. Check the SMS and try again."
    event.data["tries"] = TRIES_PER_CODE  # used
    event.save(update_fields=["data"])
    now = timezone.now()
    User.objects.filter(pk=user.pk).update(phone_verified_number=str(user.phone), phone_verified_at=now)
    user.phone_verified_number, user.phone_verified_at = str(user.phone), now
    AccountEvent.objects.create(user=user, kind=AccountEvent.Kind.PHONE_VERIFIED, data={"phone": str(user.phone)})
    return ""
