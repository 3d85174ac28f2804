"""API key authentication, scope permission and the per-key rate limit (Django REST Framework)."""
from django.contrib.auth.models import AnonymousUser
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions, permissions, throttling

from .models import ApiKey
from .selectors import api_key_for_token
from .services import api_key_touch


class ApiKeyAuthentication(authentication.BaseAuthentication):
    """``Authorization: Bearer nsk_…`` (or ``X-Api-Key: nsk_…``). ``request.auth`` is the ApiKey."""

    keyword = "Bearer"

    def authenticate(self, request):
        header = request.META.get("HTTP_AUTHORIZATION", "")
        token = ""
        if header:
            parts = header.split()
            if len(parts) != 2 or parts[0].lower() != "bearer":
                raise exceptions.AuthenticationFailed("Use “Authorization: Bearer <your API key>”.")
            token = parts[1]
        else:
            token = request.META.get("HTTP_X_API_KEY", "")
        if not token:
            return None
        key = api_key_for_token(token)
        if key is None:
            raise exceptions.AuthenticationFailed("This API key is not valid or was revoked.")
        api_key_touch(api_key=key)
        return AnonymousUser(), key

    def authenticate_header(self, request):
        return 'Bearer realm="api"'


class ApiKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "api.auth.ApiKeyAuthentication"
    name = "ApiKey"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer", "bearerFormat": "nsk_<prefix>_<secret>",
                "description": "A store API key from the seller dashboard (Seller → API keys)."}


class HasApiKey(permissions.BasePermission):
    """A valid key; writes (POST/PUT/PATCH/DELETE) need a read-write key."""

    message = "This API key is read only: create a read-write key to change orders, shipments or stock."

    def has_permission(self, request, view):
        key = request.auth
        if not isinstance(key, ApiKey):
            raise exceptions.NotAuthenticated("Send your store API key: “Authorization: Bearer nsk_…”.")
        return request.method in permissions.SAFE_METHODS or key.can_write


class ApiKeyRateThrottle(throttling.SimpleRateThrottle):
    """``API_RATE_LIMIT`` requests per key (e.g. "600/min"), counted in the shared cache."""

    scope = "api_key"

    def get_cache_key(self, request, view):
        if isinstance(request.auth, ApiKey):
            return f"api-throttle:{request.auth.pk}"
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}
