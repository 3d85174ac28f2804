"""Errors as RFC 9457 problem details (``application/problem+json``)."""
from django.conf import settings
from django.http import Http404
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

PROBLEM_CONTENT_TYPE = "application/problem+json"
TITLES = {
    400: "Invalid request", 401: "Not authenticated", 403: "Forbidden", 404: "Not found",
    405: "Method not allowed", 406: "Not acceptable", 409: "Conflict", 415: "Unsupported media type",
    422: "Unprocessable request", 429: "Too many requests",
}


def problem_type(slug: str) -> str:
    return f"{settings.SITE_URL}/api/docs/#problem-{slug}"


def problem(*, status_code: int, detail: str, slug: str = "", headers=None, **extra) -> Response:
    body = {"type": problem_type(slug) if slug else "about:blank", "title": TITLES.get(status_code, "Error"),
            "status": status_code, "detail": detail} | extra
    return Response(body, status=status_code, headers=headers, content_type=PROBLEM_CONTENT_TYPE)


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "conflict"

    def __init__(self, detail, *, slug="conflict", **extra):
        super().__init__(detail)
        self.slug, self.extra = slug, extra


class Unprocessable(Conflict):
    status_code = 422


SLUGS = {400: "invalid", 401: "not-authenticated", 403: "forbidden", 404: "not-found", 405: "method-not-allowed",
         406: "not-acceptable", 415: "unsupported-media-type", 429: "rate-limited"}


def _flatten(detail):
    if isinstance(detail, dict):
        return {k: _flatten(v) for k, v in detail.items()}
    if isinstance(detail, list):
        return [_flatten(v) for v in detail]
    return str(detail)


def exception_handler(exc, context):
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None  # a real server error: Django's 500 handling and logging
    code = response.status_code
    headers = {k: v for k, v in response.items() if k in ("WWW-Authenticate", "Retry-After", "Allow")}
    if isinstance(exc, Conflict):
        return problem(status_code=code, detail=str(exc.detail), slug=exc.slug, headers=headers, **exc.extra)
    if isinstance(exc, exceptions.ValidationError):
        errors = _flatten(exc.detail)
        if not isinstance(errors, dict):
            errors = {"non_field_errors": errors if isinstance(errors, list) else [errors]}
        first = next(iter(errors.items()), ("", [""]))
        message = first[1][0] if isinstance(first[1], list) and first[1] else str(first[1])
        return problem(status_code=code, detail=f"{first[0]}: {message}" if first[0] != "non_field_errors"
                       else str(message), slug="invalid", headers=headers, errors=errors)
    extra = {}
    if isinstance(exc, exceptions.Throttled) and exc.wait is not None:
        extra["retry_after"] = int(exc.wait) + 1
    detail = exc.detail if isinstance(exc, exceptions.APIException) else str(exc)
    return problem(status_code=code, detail=str(detail), slug=SLUGS.get(code, ""), headers=headers, **extra)


class ProblemSerializer(serializers.Serializer):
    """RFC 9457 problem details."""

    type = serializers.CharField(help_text="A URI naming the kind of problem")
    title = serializers.CharField()
    status = serializers.IntegerField()
    detail = serializers.CharField()
    errors = serializers.DictField(required=False, help_text="Field name -> messages (400)")
    allowed = serializers.ListField(child=serializers.CharField(), required=False,
                                    help_text="The statuses this order may move to (409)")
    current = serializers.CharField(required=False, help_text="The order's current status (409)")
    retry_after = serializers.IntegerField(required=False, help_text="Seconds to wait (429)")


def problem_responses(*codes):
    from drf_spectacular.utils import OpenApiResponse

    return {(code, PROBLEM_CONTENT_TYPE): OpenApiResponse(ProblemSerializer, description=TITLES.get(code, "Error"))
            for code in codes}
