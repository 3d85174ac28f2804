"""Authentication backend that keeps the signed-in user's row in the cache.

Django's auth middleware loads the user on every request that carries a session: one query per
page, the largest single cost of the logged-in order status page (bench/README.md). The row is
cached for a few minutes and dropped whenever the user is saved or deleted (the signal
handlers below) or changed in bulk (``User.objects...update()``, accounts.models.UserQuerySet), so a password change, a deactivation or a new store membership takes effect on
the next request; the session's auth hash is still checked against the cached row by Django.
"""
from django.contrib.auth import get_user_model
from axes.backends import AxesStandaloneBackend
from django.contrib.auth.backends import ModelBackend
from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

USER_CACHE_SECONDS = 300


def user_cache_key(user_id) -> str:
    return f"auth:user:{user_id}"


class CachedModelBackend(ModelBackend):
    def get_user(self, user_id):
        key = user_cache_key(user_id)
        user = cache.get(key)
        if user is None:
            user = super().get_user(user_id)  # None when missing or inactive
            if user is None:
                return None
            cache.set(key, user, USER_CACHE_SECONDS)
        return user if self.user_can_authenticate(user) else None


def forget_cached_users(user_ids) -> None:
    """Drop cached rows now and again after the surrounding transaction commits (a request in
    between could re-cache the row as it was before the commit)."""
    keys = [user_cache_key(pk) for pk in user_ids]
    if not keys:
        return
    cache.delete_many(keys)
    transaction.on_commit(lambda: cache.delete_many(keys))


@receiver(post_save, sender=get_user_model(), dispatch_uid="accounts.user_cache_save")
@receiver(post_delete, sender=get_user_model(), dispatch_uid="accounts.user_cache_delete")
def _forget_cached_user(sender, instance, **kwargs):
    forget_cached_users([instance.pk])


class WebLoginThrottleBackend(AxesStandaloneBackend):
    """django-axes' lockout check for logins that come with a request (the site's and the admin's
    login forms always pass it). ``authenticate()`` without one (management commands, scripts) is
    not a web login: this backend steps aside instead of raising, and the next backend decides."""

    def authenticate(self, request=None, *args, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, *args, **kwargs)
