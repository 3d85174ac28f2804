"""Writes for API keys: create (the only time the key is seen), revoke, and note its use."""
import hashlib
import secrets

from django.db import transaction
from django.utils import timezone

from .models import ApiKey

TOKEN_PREFIX = "nsk_"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@transaction.atomic
def api_key_create(*, store, name: str, scope: str, actor=None) -> tuple[ApiKey, str]:
    """Create a key for ``store``; returns (the key row, the full key to show ONCE)."""
    name = (name or "").strip()
    if not name:
        raise ValueError("Give the key a name, e.g. “Warehouse WMS”.")
    if scope not in ApiKey.Scope.values:
        raise ValueError("Choose read only or read and write.")
    public = secrets.token_hex(6)
    token = f"{TOKEN_PREFIX}{public}_{secrets.token_urlsafe(32)}"
    key = ApiKey.objects.create(store=store, name=name[:80], scope=scope, prefix=public, key_hash=hash_token(token),
                                created_by=actor if actor is not None and getattr(actor, "pk", None) else None)
    return key, token


def api_key_revoke(*, api_key: ApiKey) -> ApiKey:
    if api_key.revoked_at is None:
        api_key.revoked_at = timezone.now()
        api_key.save(update_fields=["revoked_at"])
    return api_key


def api_key_touch(*, api_key: ApiKey, now=None) -> None:
    """Record use, at most once a minute per key (no write per request)."""
    now = now or timezone.now()
    if api_key.last_used_at is None or (now - api_key.last_used_at).total_seconds() > 60:
        ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=now)
        api_key.last_used_at = now
