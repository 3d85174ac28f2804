"""Account security services: sign-ins and their devices, password reset requests, signing out
everywhere, and orders that do not look like the customer's.

Each change writes an ``AccountEvent`` (the account's timeline, whose id is the notification's
event key) and sends one signal from ``accounts.signals``; notifications.receivers_subjects turns
it into ``account.*`` messages through the one outbox. Security messages cannot be switched off
and always go by email.
"""
import datetime
import ipaddress
import re
import statistics
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from notify_site.formatting import number

from . import signals
from .models import AccountEvent, LoginActivity, User

FAILED_LOGIN_WINDOW = datetime.timedelta(minutes=15)
RESET_EMAILS_PER_HOUR = 3

_BROWSERS = [("Edge", r"Edg/"), ("Opera", r"OPR/"), ("Firefox", r"Firefox/"), ("Chrome", r"Chrome/|CriOS/"),
             ("Safari", r"Safari/"), ("curl", r"^curl/"), ("Python", r"python-requests|Python-urllib")]
_SYSTEMS = [("iPhone", r"iPhone"), ("iPad", r"iPad"), ("Android", r"Android"), ("Windows", r"Windows"),
            ("macOS", r"Mac OS X|Macintosh"), ("ChromeOS", r"CrOS"), ("Linux", r"Linux")]


def device_label(user_agent: str) -> str:
    """“Firefox on Windows” from a user agent (good enough to recognise a device, not to fingerprint)."""
    agent = user_agent or ""
    browser = next((name for name, pattern in _BROWSERS if re.search(pattern, agent)), "")
    system = next((name for name, pattern in _SYSTEMS if re.search(pattern, agent)), "")
    if browser and system:
        return f"{browser} on {system}"
    return browser or system or ("Unknown device" if not agent else agent[:60])


def network_of(ip: str | None) -> str:
    """The address's network (/24 for IPv4, /48 for IPv6): a home or office connection."""
    if not ip:
        return ""
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return ""
    prefix = 24 if address.version == 4 else 48
    return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False))


def _setting(name: str, default):
    return getattr(settings, name, default)


@transaction.atomic
def login_record(*, user: User, ip: str | None, user_agent: str, succeeded: bool,
                 session_key: str = "") -> LoginActivity:
    """Record a sign-in attempt. A successful one from a device or network never seen for this
    account (and not its very first sign-in), or the Nth failed attempt in 15 minutes, alerts the
    owner (``account.suspicious_login``)."""
    device, network = device_label(user_agent), network_of(ip)
    earlier = LoginActivity.objects.filter(user=user, succeeded=True)
    new_device, seen_device, seen_network = False, True, True
    if succeeded and earlier.exists():
        seen_device = earlier.filter(device=device).exists()
        seen_network = not network or earlier.filter(network=network).exists()
        new_device = not (seen_device and seen_network)
    login = LoginActivity.objects.create(user=user, ip_address=ip or None, user_agent=(user_agent or "")[:300],
                                         succeeded=succeeded, session_key=session_key or "", device=device,
                                         network=network, new_device=new_device)
    if new_device:
        with translation.override(user.language or settings.LANGUAGE_CODE):
            if not seen_device and not seen_network:
                reason = _("a device and a network we have not seen for your account before")
            elif not seen_device:
                reason = _("a device we have not seen for your account before")
            else:
                reason = _("a network we have not seen for your account before")
        _suspicious(user=user, login=login, kind=AccountEvent.Kind.SUSPICIOUS_LOGIN, reason=reason)
    elif not succeeded:
        threshold = int(_setting("SUSPICIOUS_FAILED_LOGINS", 5))
        since = timezone.now() - FAILED_LOGIN_WINDOW
        recent = LoginActivity.objects.filter(user=user, succeeded=False, created_at__gte=since).count()
        if recent == threshold:  # once per burst, not on every further attempt
            with translation.override(user.language or settings.LANGUAGE_CODE):
                reason = _("%(count)s failed sign-in attempts within 15 minutes (the last one from %(device)s)") % {
                    "count": threshold, "device": device}
            _suspicious(user=user, login=login, kind=AccountEvent.Kind.FAILED_LOGINS, reason=reason)
    return login


def _suspicious(*, user, login, kind, reason):
    event = AccountEvent.objects.create(user=user, kind=kind, ip_address=login.ip_address, device=login.device,
                                        data={"login_id": login.pk, "reason": reason})
    signals.suspicious_login.send(sender=AccountEvent, user=user, event=event, login=login, reason=reason)


@transaction.atomic
def sessions_end_all(*, user: User, keep_session_key: str = "", ip: str | None = None,
                     user_agent: str = "") -> int:
    """Sign the user out of every session (except ``keep_session_key``, the one asking). Returns how
    many sessions were ended."""
    from importlib import import_module

    store = import_module(settings.SESSION_ENGINE).SessionStore
    now = timezone.now()
    open_logins = list(LoginActivity.objects.filter(user=user, succeeded=True, ended_at__isnull=True)
                       .exclude(session_key="").exclude(session_key=keep_session_key or "-"))
    ended = 0
    for login in open_logins:
        session = store(session_key=login.session_key)
        if session.exists(login.session_key):
            session.delete(login.session_key)
            ended += 1
    LoginActivity.objects.filter(pk__in=[lg.pk for lg in open_logins]).update(ended_at=now)
    AccountEvent.objects.create(user=user, kind=AccountEvent.Kind.SIGNED_OUT_EVERYWHERE, ip_address=ip or None,
                                device=device_label(user_agent), data={"sessions": ended})
    return ended


def reset_expiry_label(now=None) -> str:
    seconds = int(settings.PASSWORD_RESET_TIMEOUT)
    ends = (now or timezone.now()) + datetime.timedelta(seconds=seconds)
    from notify_site.formatting import moment

    if seconds >= 86400:
        span = ngettext("in %(count)d day", "in %(count)d days", seconds // 86400) % {"count": seconds // 86400}
    else:
        hours = max(1, seconds // 3600)
        span = ngettext("in %(count)d hour", "in %(count)d hours", hours) % {"count": hours}
    return f"{span} ({moment(ends.astimezone(datetime.UTC))})"


@transaction.atomic
def password_reset_request(*, user: User, reset_url: str, ip: str | None = None, user_agent: str = "") -> bool:
    """Send a password reset link through the notification pipeline (``account.password_reset``).

    At most RESET_EMAILS_PER_HOUR per account, so the form cannot be used to flood an inbox; the
    caller answers the same either way (no answer reveals whether an address has an account).
    Returns whether a message was written.
    """
    since = timezone.now() - datetime.timedelta(hours=1)
    if AccountEvent.objects.filter(user=user, kind=AccountEvent.Kind.PASSWORD_RESET,
                                   created_at__gte=since).count() >= RESET_EMAILS_PER_HOUR:
        return False
    with translation.override(user.language or settings.LANGUAGE_CODE):
        expires = reset_expiry_label()
    event = AccountEvent.objects.create(user=user, kind=AccountEvent.Kind.PASSWORD_RESET, ip_address=ip or None,
                                        device=device_label(user_agent), data={"expires": expires})
    signals.password_reset_requested.send(sender=AccountEvent, user=user, event=event, reset_url=reset_url,
                                          expires=expires)
    return True


def _median_total(orders) -> Decimal | None:
    totals = [o.total for o in orders]
    return Decimal(statistics.median(totals)) if totals else None


def order_check_unusual(*, order) -> AccountEvent | None:
    """After an order is placed (inside the checkout's transaction): alert the customer when it is
    far above their usual (UNUSUAL_ORDER_MULTIPLE × the median of their earlier orders, with at
    least UNUSUAL_ORDER_MIN_HISTORY of them) or ships to a country they never used before.
    One alert per checkout, however many stores it spans."""
    from orders.models import Order

    if not order.customer_id:
        return None
    earlier = list(Order.objects.filter(customer_id=order.customer_id).exclude(checkout_id=order.checkout_id)
                   .only("total", "shipping_country"))
    if not earlier:
        return None  # a first order is nobody's "usual"
    if AccountEvent.objects.filter(user_id=order.customer_id, kind=AccountEvent.Kind.UNUSUAL_ORDER,
                                   data__checkout_id=str(order.checkout_id)).exists():
        return None
    reasons = []
    owner = User.objects.filter(pk=order.customer_id).only("language").first()
    language = (owner.language if owner else "") or settings.LANGUAGE_CODE
    multiple = Decimal(str(_setting("UNUSUAL_ORDER_MULTIPLE", 3)))
    if len(earlier) >= int(_setting("UNUSUAL_ORDER_MIN_HISTORY", 3)):
        median = _median_total(earlier)
        if median and order.total >= median * multiple:
            times = (order.total / median).quantize(Decimal("0.1"))
            with translation.override(language):
                reasons.append(_("it is %(times)s times your usual order") % {"times": number(times)})
    countries = {o.shipping_country for o in earlier}
    if order.shipping_country and order.shipping_country not in countries:
        with translation.override(language):
            reasons.append(_("it ships to a country you have not used before (%(country)s)")
                           % {"country": order.shipping_country})
    if not reasons:
        return None
    event = AccountEvent.objects.create(user_id=order.customer_id, kind=AccountEvent.Kind.UNUSUAL_ORDER,
                                        data={"checkout_id": str(order.checkout_id), "order": order.number,
                                              "reasons": reasons})
    user = User.objects.get(pk=order.customer_id)
    signals.unusual_order.send(sender=AccountEvent, user=user, event=event, order=order, reasons=reasons)
    return event
