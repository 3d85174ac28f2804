"""Receivers for Django's auth signals and the order signals accounts cares about: every login
attempt lands in LoginActivity (the customer's security page, new-device alerts), and a placed
order is checked against the customer's usual. The work is in accounts.security."""
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.dispatch import receiver

from orders import signals as order_signals

from .models import User
from .security import login_record, order_check_unusual


def _client(request):
    if request is None:
        return None, ""
    return request.META.get("REMOTE_ADDR") or None, request.META.get("HTTP_USER_AGENT", "")


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
