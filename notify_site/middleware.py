"""Request-wide input guards.

PostgreSQL refuses a NUL character in any text value, so a ``%00`` in a query value, a path
segment, a form field or a cookie reached the database as an error (a 500) from whichever view
used it first. ``RejectNulBytesMiddleware`` refuses such a request once, before any view runs,
with a 400 that says what was wrong; nothing is read from or written to the database.
"""
from django.http import HttpResponseBadRequest

NUL = "\x00"


def _has_nul(querydict) -> str | None:
    """The name of the first field whose name or any value holds a NUL, else None."""
    for key, values in querydict.lists():
        if NUL in key or any(NUL in value for value in values if isinstance(value, str)):
            return key.replace(NUL, "\\0")
    return None


def nul_problem(request) -> str:
    """Why this request cannot be served ('' when it can)."""
    if NUL in request.path_info or NUL in request.path:
        return "The address contains a NUL character (%00)."
    field = _has_nul(request.GET)
    if field is not None:
        return f"Query parameter “{field}” contains a NUL character (%00)."
    if any(NUL in key or NUL in value for key, value in request.COOKIES.items()):
        return "A cookie contains a NUL character."
    if request.method in ("POST", "PUT", "PATCH") and request.content_type in (
            "application/x-www-form-urlencoded", "multipart/form-data"):
        field = _has_nul(request.POST)  # uploaded files' contents are not checked, only their fields
        if field is not None:
            return f"Form field “{field}” contains a NUL character."
    return ""


class RejectNulBytesMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        problem = nul_problem(request)
        if problem:
            return HttpResponseBadRequest(f"Bad request: {problem}\n", content_type="text/plain; charset=utf-8")
        return self.get_response(request)


# Browser features no page here uses (Permissions-Policy).
PERMISSIONS_POLICY = ("accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), "
                      "microphone=(), payment=(), usb=(), browsing-topics=()")


class PrivacyHeadersMiddleware:
    """``Cache-Control: private`` on every response to a signed-in user (their orders, inbox and
    dashboards must never be kept by a shared cache), and a Permissions-Policy on every response."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        from django.contrib.auth import SESSION_KEY
        from django.utils.cache import patch_cache_control, patch_vary_headers

        session = getattr(request, "session", None)
        # The session, not request.user: reading the user here would cost a query on pages that don't.
        if session is not None and session.get(SESSION_KEY):
            cache_control = response.get("Cache-Control", "")
            if "public" in cache_control:
                del response["Cache-Control"]
            patch_cache_control(response, private=True)
            patch_vary_headers(response, ["Cookie"])
        response.headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        return response
