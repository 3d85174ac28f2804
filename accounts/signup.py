"""Sign-up that reveals nothing about who has an account (issue 10).

Every valid sign-up ends on the same "check your inbox" page. A new address gets an inactive
account and ``account.signup_confirm`` (a signed link that activates it and signs in); an address
that already has an account gets ``account.signup_existing`` ("you already have an account: sign in
or reset your password") and nothing is created. Both go through the notification outbox, at most
SIGNUP_EMAILS_PER_HOUR per account, so the form cannot be used to flood an inbox.
"""
import datetime

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext

from . import signals
from .models import AccountEvent, User
from .security import device_label
from .services import user_create

CONFIRM_SALT = "accounts.signup-confirm"
CONFIRM_MAX_AGE = 3 * 24 * 3600
SIGNUP_EMAILS_PER_HOUR = 3


class BadSignupLink(Exception):
    pass


def _recently(user, kind) -> int:
    since = timezone.now() - datetime.timedelta(hours=1)
    return AccountEvent.objects.filter(user=user, kind=kind, created_at__gte=since).count()


def confirm_token(user) -> str:
    return signing.dumps({"u": user.pk, "e": user.email.lower()}, salt=CONFIRM_SALT)


def _send_confirm(user, *, ip, user_agent, site_url: str) -> None:
    if _recently(user, AccountEvent.Kind.SIGNUP_CONFIRM) >= SIGNUP_EMAILS_PER_HOUR:
        return
    event = AccountEvent.objects.create(user=user, kind=AccountEvent.Kind.SIGNUP_CONFIRM, ip_address=ip or None,
                                        device=device_label(user_agent))
    url = site_url + reverse("accounts:signup_confirm", args=[confirm_token(user)])
    with translation.override(user.language or settings.LANGUAGE_CODE):
        expires = gettext("in 3 days")
    signals.signup_confirm_requested.send(sender=AccountEvent, user=user, event=event, confirm_url=url,
                                          expires=expires)


@transaction.atomic
def signup_request(*, username: str, email: str, password: str, phone: str = "", ip: str | None = None,
                   user_agent: str = "", site_url: str) -> None:
    """Start a sign-up. Returns nothing: the caller answers the same whatever happened."""
    existing = User.objects.filter(email__iexact=email.strip(), deleted_at__isnull=True).order_by("id").first()
    if existing is not None:
        if not existing.is_active and existing.last_login is None:  # never confirmed: send the link again
            _send_confirm(existing, ip=ip, user_agent=user_agent, site_url=site_url)
        elif existing.is_active and _recently(existing, AccountEvent.Kind.SIGNUP_EXISTING) < SIGNUP_EMAILS_PER_HOUR:
            event = AccountEvent.objects.create(user=existing, kind=AccountEvent.Kind.SIGNUP_EXISTING,
                                                ip_address=ip or None, device=device_label(user_agent))
            signals.signup_existing_attempted.send(sender=AccountEvent, user=existing, event=event)
        return
    user = user_create(username=username, email=email, password=password, phone=phone, is_active=False)
    _send_confirm(user, ip=ip, user_agent=user_agent, site_url=site_url)


def signup_confirm(*, token: str) -> User:
    """Activate the account a confirmation link names (once; a used link just signs nobody in)."""
    try:
        data = signing.loads(token, salt=CONFIRM_SALT, max_age=CONFIRM_MAX_AGE)
    except signing.SignatureExpired as exc:
        raise BadSignupLink("This link has expired. Sign up again to get a new one.") from exc
    except signing.BadSignature as exc:
        raise BadSignupLink("This link is not valid.") from exc
    with transaction.atomic():
        user = User.objects.select_for_update().filter(pk=data.get("u"), deleted_at__isnull=True).first()
        if user is None or user.email.lower() != data.get("e"):
            raise BadSignupLink("This link is not valid.")
        if user.is_active:
            raise BadSignupLink("This account is already confirmed: sign in.")
        if user.last_login is not None:
            raise BadSignupLink("This link is not valid.")  # deactivated by staff, not waiting for confirmation
        user.is_active = True
        user.save(update_fields=["is_active"])
    return user
