"""Signed, expiring links to one order's status page (the guest's key to that order only)."""
from django.conf import settings
from django.core import signing
from django.urls import reverse

SALT = "orders.status-link"


def status_token(order) -> str:
    # The order's email is signed in, so a token stays bound to who it was sent to.
    return signing.dumps({"n": order.number, "e": order.email.lower()}, salt=SALT, compress=True)


def status_path(order) -> str:
    return reverse("storefront:order_status_token", args=[status_token(order)])


def pay_path(order) -> str:
    """The order's "pay for this order" page under the same signed link (guests and customers alike)."""
    return reverse("storefront:order_pay_token", args=[status_token(order)])


def status_url(order) -> str:
    return settings.SITE_URL + status_path(order)


class BadStatusLink(Exception):
    pass


def order_number_from_token(token: str, max_age_days: int | None = None) -> tuple[str, str]:
    """Return (order number, email) from a valid token; raise BadStatusLink if tampered or expired."""
    max_age = (max_age_days or settings.STATUS_LINK_MAX_AGE_DAYS) * 86400
    try:
        data = signing.loads(token, salt=SALT, max_age=max_age)
    except signing.SignatureExpired as exc:
        raise BadStatusLink("This link has expired. Enter your order number and email to see the order.") from exc
    except signing.BadSignature as exc:
        raise BadStatusLink("This link is not valid.") from exc
    return data["n"], data["e"]
