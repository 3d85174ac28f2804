"""Receivers for Django's auth signals and the order signals accounts cares about: every login
attempt lands in LoginActivity (the customer's security page, new-device alerts), and a placed
order is checked against the customer's usual; completed orders earn loyalty points and refunds
take them back. The work is in accounts.security and accounts.loyalty."""
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.dispatch import receiver

from notify_site.client_ip import client_ip_or_none
from orders import signals as order_signals

from .models import User
from .loyalty import loyalty_award_order, loyalty_reverse
from .security import login_record, order_check_unusual


def _client(request):
    if request is None:
        return None, ""
    return client_ip_or_none(request), request.META.get("HTTP_USER_AGENT", "")


@receiver(user_logged_in, dispatch_uid="accounts.login_activity.succeeded")
def record_login(sender, request, user, **kwargs):
    ip, agent = _client(request)
    session = getattr(request, "session", None)
    login_record(user=user, ip=ip, user_agent=agent, succeeded=True,
                 session_key=getattr(session, "session_key", "") or "")


@receiver(user_login_failed, dispatch_uid="accounts.login_activity.failed")
def record_failed_login(sender, credentials, request=None, **kwargs):
    username = (credentials or {}).get("username")
    user = User.objects.filter(username=username).first() if username else None
    if user is not None:
        ip, agent = _client(request)
        login_record(user=user, ip=ip, user_agent=agent, succeeded=False)


@receiver(order_signals.order_placed, dispatch_uid="accounts.unusual_order")
def check_unusual_order(sender, order, **kwargs):
    order_check_unusual(order=order)


@receiver(order_signals.order_status_changed, dispatch_uid="accounts.loyalty.order_status")
def loyalty_on_order_status(sender, order, to_status, **kwargs):
    if to_status == "completed":
        loyalty_award_order(order=order)
    elif to_status == "refunded":
        loyalty_reverse(order=order)


@receiver(order_signals.return_status_changed, dispatch_uid="accounts.loyalty.return_refunded")
def loyalty_on_return_refunded(sender, return_request, order, to_status, **kwargs):
    if to_status == "refunded":
        loyalty_reverse(order=order, amount=return_request.refund_amount, reference=return_request.number,
                        note=f"Return {return_request.number} refunded")
