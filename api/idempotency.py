"""``Idempotency-Key`` on POSTs (the IETF httpapi draft, as Stripe does it).

The first request with a key runs and its response (any status below 500) is kept for
``API_IDEMPOTENCY_TTL_HOURS``; a retry with the same key and the same method, path and body gets
that response again (``Idempotent-Replayed: true``) without running twice. The same key with a
different request is a 422; a retry while the first is still running is a 409.
"""
import functools
import hashlib
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework.response import Response

from .models import IdempotentRequest
from .problems import Conflict, Unprocessable

HEADER = "HTTP_IDEMPOTENCY_KEY"


def _fingerprint(request) -> str:
    digest = hashlib.sha256()
    digest.update(request.method.encode() + b" " + request.path.encode() + b"\n")
    digest.update(request.body)
    return digest.hexdigest()


def idempotent(handler):
    @functools.wraps(handler)
    def wrapper(view, request, *args, **kwargs):
        key = request.META.get(HEADER, "")
        if not key:
            return handler(view, request, *args, **kwargs)
        if len(key) > 255 or not key.isprintable():
            raise Unprocessable("Idempotency-Key must be at most 255 printable characters.", slug="idempotency-key")
        fingerprint = _fingerprint(request)
        cutoff = timezone.now() - timedelta(hours=settings.API_IDEMPOTENCY_TTL_HOURS)
        IdempotentRequest.objects.filter(api_key=request.auth, key=key, created_at__lt=cutoff).delete()
        try:
            with transaction.atomic():
                record = IdempotentRequest.objects.create(api_key=request.auth, key=key, fingerprint=fingerprint)
        except IntegrityError:
            record = IdempotentRequest.objects.get(api_key=request.auth, key=key)
            if record.fingerprint != fingerprint:
                raise Unprocessable("This Idempotency-Key was used for a different request.",
                                    slug="idempotency-key-reused") from None
            if record.status_code is None:
                raise Conflict("A request with this Idempotency-Key is still being processed; retry shortly.",
                               slug="idempotency-in-progress") from None
            content_type = "application/problem+json" if record.status_code >= 400 else None
            return Response(record.response, status=record.status_code, content_type=content_type,
                            headers={"Idempotent-Replayed": "true"})
        try:
            response = handler(view, request, *args, **kwargs)
        except Exception as exc:
            # Turn it into its (problem) response here so the outcome is kept like any other.
            try:
                response = view.handle_exception(exc)
            except Exception:
                record.delete()  # a server error: the client may retry with the same key
                raise
        if response.status_code >= 500:
            record.delete()
        else:
            record.status_code, record.response = response.status_code, response.data
            record.save(update_fields=["status_code", "response"])
        return response

    return wrapper
