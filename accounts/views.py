from django.conf import settings
from django.contrib.auth import login
from django.core import signing
from django.views.decorators.csrf import csrf_exempt
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme

from notifications.context_subjects import UNSUBSCRIBE_SALT

from .forms import SignupForm
from .services import marketing_unsubscribe, user_create


def _safe_next(request) -> str:
    nxt = request.POST.get("next") or request.GET.get("next") or ""
    if nxt and url_has_allowed_host_and_scheme(nxt, allowed_hosts={request.get_host()},
                                               require_https=request.is_secure()):
        return nxt
    return ""


def signup(request):
    if request.user.is_authenticated:
        return redirect("storefront:product_list")
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        from notify_site.client_ip import client_ip_or_none

        from .signup import signup_request

        data = form.cleaned_data
        # The same answer whether or not the address already has an account (the email says which).
        signup_request(username=data["username"], email=data["email"], password=data["password1"],
                       phone=data.get("phone") or "", ip=client_ip_or_none(request),
                       user_agent=request.META.get("HTTP_USER_AGENT", ""), site_url=settings.SITE_URL)
        return render(request, "accounts/signup_sent.html", {"email": data["email"]})
    return render(request, "accounts/signup.html", {"form": form, "next": _safe_next(request)})


def signup_confirm_view(request, token):
    from .signup import BadSignupLink, signup_confirm

    try:
        user = signup_confirm(token=token)
    except BadSignupLink as exc:
        return render(request, "accounts/signup_sent.html", {"error": str(exc)}, status=400)
    login(request, user, backend=settings.LOGIN_BACKEND)
    return redirect("storefront:product_list")


def locked_out(request, credentials, *args, **kwargs):
    """django-axes lockout page (AXES_LOCKOUT_CALLABLE), for the site's and the admin's login."""
    from axes.helpers import get_client_username, get_failure_limit

    minutes = max(1, int(settings.AXES_COOLOFF_TIME.total_seconds() // 60))
    return render(request, "accounts/locked_out.html", {
        "username": get_client_username(request, credentials) or "",
        "failure_limit": get_failure_limit(request, credentials), "minutes": minutes}, status=429)


@csrf_exempt
def unsubscribe(request, token):
    """One-click marketing unsubscribe (RFC 8058): the mail client POSTs
    ``List-Unsubscribe=One-Click`` to the List-Unsubscribe URL, with no cookie, session or CSRF
    token; the signed per-recipient token is the authorisation. A person's GET only asks (a link
    scanner following it changes nothing); the page's button POSTs. The withdrawal is a
    ConsentRecord for that token's channel (email, or a number's SMS)."""
    try:
        data = signing.loads(token, salt=UNSUBSCRIBE_SALT, max_age=365 * 86400)
        address, channel = data["e"], data.get("c", "email")
    except (signing.BadSignature, KeyError, TypeError):
        return render(request, "accounts/unsubscribe.html", {"state": "invalid"}, status=400)
    if channel not in ("email", "sms"):
        return render(request, "accounts/unsubscribe.html", {"state": "invalid"}, status=400)
    context = {"email": address, "channel": channel}
    if request.method == "POST":
        promotion = data.get("p")
        source = f"unsubscribe: promotion {promotion}" if promotion else "unsubscribe link"
        from notify_site.client_ip import client_ip_or_none

        marketing_unsubscribe(email=address, ip=client_ip_or_none(request), channel=channel, source=source)
        return render(request, "accounts/unsubscribe.html", dict(context, state="done"))
    if request.method not in ("GET", "HEAD"):
        return render(request, "accounts/unsubscribe.html", {"state": "invalid"}, status=405)
    return render(request, "accounts/unsubscribe.html", dict(context, state="ask"))
