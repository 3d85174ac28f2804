"""The links in back-in-stock emails: confirm a guest's alert (double opt-in) and the one-click stop.

Both are signed tokens naming the subscription; GET shows what will happen, POST does it. The stop
also accepts a mail client's RFC 8058 one-click POST, which carries no CSRF token: the signed
token is the authorisation.
"""
from django.core import signing
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt

from catalog.inventory import back_in_stock_confirm, back_in_stock_stop
from catalog.models import BackInStockSubscription
from notifications.context_subjects import STOCK_ALERT_SALT

MAX_AGE = 180 * 86400


def _subscription_id(token: str) -> int | None:
    try:
        return int(signing.loads(token, salt=STOCK_ALERT_SALT, max_age=MAX_AGE)["s"])
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        return None


def _page(request, ctx, status=200):
    return render(request, "storefront/stock_alert_link.html", ctx, status=status)


def stock_alert_confirm(request, token):
    sub_id = _subscription_id(token)
    sub = BackInStockSubscription.objects.select_related("product", "product__store").filter(pk=sub_id).first() \
        if sub_id else None
    if sub is None:
        return _page(request, {"state": "invalid"}, status=400)
    if request.method == "POST":
        sub = back_in_stock_confirm(subscription_id=sub.pk)
        return _page(request, {"state": "confirmed", "sub": sub, "product": sub.product})
    if request.method not in ("GET", "HEAD"):
        return _page(request, {"state": "invalid"}, status=405)
    state = "already_confirmed" if sub.confirmed_at else "confirm"
    return _page(request, {"state": state, "sub": sub, "product": sub.product, "token": token})


@csrf_exempt
def stock_alert_stop(request, token):
    sub_id = _subscription_id(token)
    if sub_id is None:
        return _page(request, {"state": "invalid"}, status=400)
    sub = BackInStockSubscription.objects.select_related("product", "product__store").filter(pk=sub_id).first()
    if request.method == "POST":
        stopped = back_in_stock_stop(subscription_id=sub_id)
        product = stopped.product if stopped else None
        return _page(request, {"state": "stopped", "product": product})
    if request.method not in ("GET", "HEAD"):
        return _page(request, {"state": "invalid"}, status=405)
    if sub is None:
        return _page(request, {"state": "stopped", "product": None})
    return _page(request, {"state": "stop", "sub": sub, "product": sub.product, "token": token})
