"""Bookkeeping receivers for Django's auth signals: every login attempt lands in LoginActivity
(shown on the customer's security page). No business flow here."""
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.dispatch import receiver

from notify_site.client_ip import client_ip_or_none

from .models import User
from .services import login_activity_record


def _client(request):
    if request is None:
        return None, ""
    return client_ip_or_none(request), request.META.get("HTTP_USER_AGENT", "")


@receiver(user_logged_in, dispatch_uid="accounts.login_activity.succeeded")
def record_login(sender, request, user, **kwargs):
    ip, agent = _client(request)
    login_activity_record(user=user, ip=ip, user_agent=agent, succeeded=True)


@receiver(user_login_failed, dispatch_uid="accounts.login_activity.failed")
def record_failed_login(sender, credentials, request=None, **kwargs):
    username = (credentials or {}).get("username")
    user = User.objects.filter(username=username).first() if username else None
    if user is not None:
        ip, agent = _client(request)
        login_activity_record(user=user, ip=ip, user_agent=agent, succeeded=False)
