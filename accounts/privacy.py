"""Privacy (SPEC section 8, GDPR): "download my data" and "delete my account".

Download: ``data_export_request`` writes a DataExport row and, after commit, a task builds the
archive (``data_export_build``: JSON in a zip, via ``accounts.privacy_archive``), stores it, and
enqueues ``account.data_export_ready`` through the outbox with a signed link that expires. The link
only works for the signed-in owner and only until ``expires_at``; the retention task then deletes
the file.

Delete: ``account_deletion_request`` (password re-entered) enqueues ``account.deletion_requested``
with a signed confirmation link; ``account_delete`` (from that link) anonymises the account in one
transaction: orders are kept for accounting with the personal fields replaced (sellers see
"Deleted customer"), message bodies, contexts and addresses are erased, consents keep only what was
given when, login history, inbox, preferences and subscriptions are deleted, sessions are ended.
Retention (redacting old message bodies) lives in ``accounts.retention``.
"""
import datetime
import io
import json
import uuid
import zipfile
import zoneinfo

from django.conf import settings
from django.contrib.auth.hashers import check_password
from django.contrib.sessions.models import Session
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from .models import DataExport, User, export_storage

EXPORT_SALT = "accounts.privacy.export"
DELETION_SALT = "accounts.privacy.delete"
DELETED_NAME = "Deleted customer"
ERASED = "[erased]"
MAX_EXPORTS_PER_DAY = 3
# Orders in these states still need the customer's address and email: no deletion until they end.
OPEN_ORDER_STATUSES = ("pending", "processing", "on_hold", "shipped")


class PrivacyLinkError(Exception):
    """A download or confirmation link that is invalid, expired, or not this user's."""


# --- the messages (account events: a context of their own, no order) ------------------------------

def _when(value, user=None) -> str:
    """A time as the customer reads it: in their own time zone, with its abbreviation."""
    if not value:
        return ""
    try:
        zone = zoneinfo.ZoneInfo(getattr(user, "time_zone", "") or settings.TIME_ZONE)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        zone = datetime.UTC
    from notify_site.formatting import moment

    with translation.override(getattr(user, "language", "") or translation.get_language()):
        return moment(timezone.localtime(value, zone))


def _absolute(path: str) -> str:
    return settings.SITE_URL + path


def account_context(event: str, *, links: dict, details: dict) -> dict:
    """The plain dict the account templates see (``recipient`` is added per row by the outbox)."""
    from notifications.events import get_event

    definition = get_event(event)
    privacy_path = reverse("accounts:privacy")
    return {
        "event": {"code": definition.code, "label": definition.label},
        "shop": {"name": settings.SHOP_NAME, "url": settings.SITE_URL + "/",
                 "support_email": settings.DEFAULT_FROM_EMAIL},
        "recipient": {"first_name": "", "audience": "customer"},
        # Relative "inbox": where the in-app message opens.
        "links": {"privacy": _absolute(privacy_path), "inbox": privacy_path, **links},
        "details": details,
    }


def account_sample_context(event: str, audience: str) -> dict:
    """Sample data for validating and previewing the account templates in the admin."""
    expires = datetime.datetime(2025, 5, 15, 9, 30, tzinfo=datetime.UTC)
    if event == "account.data_export_ready":
        links = {"download": _absolute("/account/privacy/export/SAMPLE-TOKEN/")}
        details = {"expires_at": _when(expires), "size": "48 KB", "requested_at": _when(expires - datetime.timedelta(3)),
                   "hours": settings.PRIVACY_EXPORT_LINK_HOURS}
    else:
        links = {"confirm": _absolute("/account/privacy/delete/SAMPLE-TOKEN/")}
        details = {"expires_at": _when(expires), "hours": settings.PRIVACY_DELETION_LINK_HOURS}
    ctx = account_context(event, links=links, details=details)
    ctx["recipient"] = {"first_name": "Ada", "audience": audience}
    return ctx


def _enqueue(*, event: str, event_key: str, user: User, links: dict, details: dict) -> list:
    from notifications.outbox import notification_enqueue_account

    return notification_enqueue_account(
        event=event, event_key=event_key, user=user, context=account_context(event, links=links, details=details),
        legal_basis="legal obligation: the customer's data protection request (GDPR art. 15/17)")


# --- download my data --------------------------------------------------------------------------

def data_export_request(*, user: User) -> DataExport:
    """Start building an archive of the user's data; they are emailed a link when it is ready."""
    if user.deleted_at is not None:
        raise ValidationError(_("This account has been deleted."))
    now = timezone.now()
    recent = DataExport.objects.filter(user=user, created_at__gte=now - datetime.timedelta(days=1))
    if recent.filter(status=DataExport.Status.PENDING).exists():
        raise ValidationError(_("Your download is already being prepared; we will email you a link when it is ready."))
    if recent.count() >= MAX_EXPORTS_PER_DAY:
        raise ValidationError(_("You can ask for your data %(count)s times a day; please try again tomorrow, or "
                                "use the link we already emailed you.") % {"count": MAX_EXPORTS_PER_DAY})
    with transaction.atomic():
        export = DataExport.objects.create(user=user)
        from .tasks import build_data_export

        transaction.on_commit(lambda: build_data_export.delay(export.pk))
    return export


def data_export_token(export: DataExport) -> str:
    return signing.dumps({"x": export.pk, "u": export.user_id}, salt=EXPORT_SALT)


def data_export_build(*, export_id: int) -> DataExport | None:
    """Build, store and announce one archive. Idempotent: an export that is not pending is left alone."""
    from .privacy_archive import archive_data

    export = DataExport.objects.select_related("user").filter(pk=export_id).first()
    if export is None or export.status != DataExport.Status.PENDING:
        return export
    user = export.user
    try:
        data = archive_data(user=user)
        payload = _zip(data)
        name = export_storage().save(f"exports/{uuid.uuid4().hex}.zip", ContentFile(payload))
    except Exception as exc:
        DataExport.objects.filter(pk=export.pk).update(status=DataExport.Status.FAILED,
                                                        error=f"{type(exc).__name__}: {exc}"[:300])
        raise
    now = timezone.now()
    expires = now + datetime.timedelta(hours=settings.PRIVACY_EXPORT_LINK_HOURS)
    with transaction.atomic():
        updated = DataExport.objects.filter(pk=export.pk, status=DataExport.Status.PENDING).update(
            status=DataExport.Status.READY, file=name, size_bytes=len(payload), ready_at=now, expires_at=expires)
        if not updated:  # built twice at once: keep the first, drop this copy
            transaction.on_commit(lambda: export_storage().delete(name))
            return export
        export.refresh_from_db()
        download = _absolute(reverse("accounts:privacy_export_download", args=[data_export_token(export)]))
        _enqueue(event="account.data_export_ready", event_key=f"account:{user.pk}:data_export:{export.pk}", user=user,
                 links={"download": download},
                 details={"expires_at": _when(expires, user), "size": _size(len(payload)),
                          "requested_at": _when(export.created_at, user),
                          "hours": settings.PRIVACY_EXPORT_LINK_HOURS})
    return export


def _size(n: int) -> str:
    return f"{max(1, round(n / 1024))} KB" if n < 1024 * 1024 else f"{n / 1024 / 1024:.1f} MB"


README = """This archive holds the personal data {shop} keeps about your account, as JSON (data.json).

Sections: account, addresses, orders (with lines, payments, shipments, timeline and returns),
messages (every notification sent to you, and your in-app inbox), consents, notification
preferences, loyalty, login_activity and back_in_stock alerts. Times are UTC (ISO 8601).
Generated at {at}.
"""


def _zip(data: dict) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("data.json", json.dumps(data, indent=2, ensure_ascii=False, default=str))
        archive.writestr("README.txt", README.format(shop=settings.SHOP_NAME, at=data["generated_at"]))
    return buffer.getvalue()


def data_export_for_download(*, token: str, user: User) -> DataExport:
    """The export a download link points at, if it is this user's and still valid."""
    try:
        data = signing.loads(token, salt=EXPORT_SALT, max_age=settings.PRIVACY_EXPORT_LINK_HOURS * 3600)
    except signing.SignatureExpired as exc:
        raise PrivacyLinkError("This download link has expired. Ask for a new download below.") from exc
    except signing.BadSignature as exc:
        raise PrivacyLinkError("This download link is not valid.") from exc
    if data.get("u") != user.pk:
        raise PrivacyLinkError("This download link belongs to another account. Sign in as the account it was "
                               "sent to.")
    export = DataExport.objects.filter(pk=data.get("x"), user=user).first()
    if export is None or export.status != DataExport.Status.READY or not export.file:
        raise PrivacyLinkError("This download is no longer available. Ask for a new download below.")
    if export.expires_at and export.expires_at <= timezone.now():
        raise PrivacyLinkError("This download link has expired. Ask for a new download below.")
    return export


def data_export_expire(*, now=None) -> int:
    """Delete archives whose link has expired (the retention task runs it)."""
    now = now or timezone.now()
    expired = list(DataExport.objects.filter(status=DataExport.Status.READY, expires_at__lte=now))
    for export in expired:
        if export.file:
            export_storage().delete(export.file.name)
    DataExport.objects.filter(pk__in=[e.pk for e in expired]).update(status=DataExport.Status.EXPIRED, file="")
    return len(expired)


# --- delete my account -------------------------------------------------------------------------

def _deletion_fingerprint(user: User) -> str:
    # Changes when the password or email changes, so an old link stops working.
    return salted_hmac(DELETION_SALT, f"{user.pk}:{user.password}:{user.email}").hexdigest()[:24]


def deletion_blockers(*, user: User) -> list[str]:
    """Why the account cannot be deleted yet (empty: it can)."""
    from orders.models import Order

    if user.is_staff or user.is_superuser or user.store_id:
        return ["Seller and staff accounts are closed by the platform team: please contact support."]
    open_orders = list(Order.objects.filter(customer=user, status__in=OPEN_ORDER_STATUSES)
                       .order_by("placed_at").values_list("number", flat=True))
    if open_orders:
        return [f"Order {', '.join(open_orders)} {'is' if len(open_orders) == 1 else 'are'} still in progress. "
                "You can delete your account once it is delivered or cancelled (we need your address and email "
                "until then)."]
    return []


def account_deletion_request(*, user: User, password: str) -> None:
    """Email the customer a link that confirms the deletion (password re-entered first)."""
    if user.deleted_at is not None:
        raise ValidationError(_("This account has already been deleted."))
    if not password or not check_password(password, user.password):
        raise ValidationError({"password": "That is not your current password."})
    blockers = deletion_blockers(user=user)
    if blockers:
        raise ValidationError(blockers)
    now = timezone.now()
    token = signing.dumps({"u": user.pk, "f": _deletion_fingerprint(user)}, salt=DELETION_SALT)
    expires = now + datetime.timedelta(hours=settings.PRIVACY_DELETION_LINK_HOURS)
    with transaction.atomic():
        _enqueue(event="account.deletion_requested", event_key=f"account:{user.pk}:deletion:{int(now.timestamp())}",
                 user=user, links={"confirm": _absolute(reverse("accounts:privacy_delete_confirm", args=[token]))},
                 details={"expires_at": _when(expires, user), "hours": settings.PRIVACY_DELETION_LINK_HOURS})


def account_deletion_check(*, token: str, user: User) -> None:
    """Raise PrivacyLinkError unless ``token`` confirms deleting ``user`` and is still valid."""
    try:
        data = signing.loads(token, salt=DELETION_SALT, max_age=settings.PRIVACY_DELETION_LINK_HOURS * 3600)
    except signing.SignatureExpired as exc:
        raise PrivacyLinkError("This confirmation link has expired. Ask for a new one below.") from exc
    except signing.BadSignature as exc:
        raise PrivacyLinkError("This confirmation link is not valid.") from exc
    if data.get("u") != user.pk:
        raise PrivacyLinkError("This link confirms deleting another account. Sign in as the account it was sent to.")
    if data.get("f") != _deletion_fingerprint(user):
        raise PrivacyLinkError("This link is out of date (your password or email changed since). Ask for a new one.")


def account_delete(*, user: User) -> None:
    """Anonymise the account and everything personal about it, in one transaction; sessions end
    and stored archives are deleted once it commits."""
    from .privacy_erase import erase_customer

    blockers = deletion_blockers(user=user)
    if blockers:
        raise ValidationError(blockers)
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        if locked.deleted_at is not None:
            return
        files = erase_customer(user=locked)
        locked.username = f"deleted-{locked.pk}"
        locked.email = f"deleted-{locked.pk}@deleted.invalid"
        locked.first_name = locked.last_name = ""
        locked.phone = ""
        locked.phone_verified_number, locked.phone_verified_at = "", None
        locked.sms_opt_in = locked.whatsapp_opt_in = False
        locked.push_subscriptions.all().delete()  # the browsers' endpoints and keys
        locked.is_active = False
        locked.deleted_at = timezone.now()
        locked.set_unusable_password()
        locked.save()
        transaction.on_commit(lambda: [export_storage().delete(name) for name in files])
        transaction.on_commit(lambda: sessions_end(user_id=locked.pk))


def sessions_end(*, user_id: int) -> int:
    """End every session of the user (database rows and their cached copies)."""
    from importlib import import_module

    store = import_module(settings.SESSION_ENGINE).SessionStore
    ended = 0
    for session in Session.objects.filter(expire_date__gt=timezone.now()).iterator():
        if str(session.get_decoded().get("_auth_user_id")) == str(user_id):
            store(session_key=session.session_key).delete()
            ended += 1
    return ended
