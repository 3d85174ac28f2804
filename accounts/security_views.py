"""Pages for account security: password reset (Django's flow, its email sent by the notification
pipeline), the security activity page with "sign out everywhere", and the link in a
suspicious-sign-in email that signs out every session and leads to a new password."""
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import PasswordResetForm
from django.core import signing
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from notifications.context_subjects import SECURE_SALT

from .models import User
from .security import password_reset_request, sessions_end_all
from .selectors import security_activity

SECURE_LINK_MAX_AGE = 7 * 86400


class PipelinePasswordResetForm(PasswordResetForm):
    """Django's reset form, whose email goes out as ``account.password_reset`` through the outbox
    (logged, templated, suppression-checked) instead of ``send_mail``."""

    request = None

    def send_mail(self, subject_template_name, email_template_name, context, from_email, to_email,
                  html_email_template_name=None):
        from django.conf import settings

        user = context["user"]
        path = reverse("accounts:password_reset_confirm", args=[context["uid"], context["token"]])
        meta = getattr(self.request, "META", {}) or {}
        password_reset_request(user=user, reset_url=settings.SITE_URL + path, ip=meta.get("REMOTE_ADDR"),
                               user_agent=meta.get("HTTP_USER_AGENT", ""))


class PasswordResetView(auth_views.PasswordResetView):
    form_class = PipelinePasswordResetForm
    template_name = "accounts/password_reset_form.html"
    success_url = reverse_lazy("accounts:password_reset_done")

    def form_valid(self, form):
        form.request = self.request
        # Same answer whether or not the address has an account (Django's form is silent too).
        return super().form_valid(form)


password_reset = PasswordResetView.as_view()
password_reset_done = auth_views.PasswordResetDoneView.as_view(template_name="accounts/password_reset_done.html")
password_reset_confirm = auth_views.PasswordResetConfirmView.as_view(
    template_name="accounts/password_reset_confirm.html", success_url=reverse_lazy("accounts:password_reset_complete"))
password_reset_complete = auth_views.PasswordResetCompleteView.as_view(
    template_name="accounts/password_reset_complete.html")


def _client(request):
    return request.META.get("REMOTE_ADDR") or None, request.META.get("HTTP_USER_AGENT", "")


@login_required
def security(request):
    from django.utils import timezone

    with timezone.override(request.user.time_zone):
        ctx = security_activity(user=request.user, current_session_key=request.session.session_key or "")
        ctx["section"] = "security"
        return render(request, "accounts/security.html", ctx)


@require_POST
@login_required
def sign_out_everywhere(request):
    ip, agent = _client(request)
    ended = sessions_end_all(user=request.user, keep_session_key=request.session.session_key or "", ip=ip,
                             user_agent=agent)
    messages.success(request, ngettext("Signed out of %(count)d other session. This browser stays signed in.",
                                       "Signed out of %(count)d other sessions. This browser stays signed in.",
                                       ended) % {"count": ended})
    return redirect("accounts:security")


def secure_account(request, token):
    """From the suspicious-sign-in email: end every session of the account (this one too), then
    choose a new password through the reset flow. GET shows what will happen; POST does it."""
    try:
        data = signing.loads(token, salt=SECURE_SALT, max_age=SECURE_LINK_MAX_AGE)
        user = User.objects.get(pk=data["u"], is_active=True)
    except (signing.BadSignature, KeyError, TypeError, User.DoesNotExist):
        return render(request, "accounts/secure_account.html", {"invalid": True}, status=400)
    if request.method == "POST":
        ip, agent = _client(request)
        sessions_end_all(user=user, ip=ip, user_agent=agent)
        if request.user.is_authenticated and request.user.pk == user.pk:
            logout(request)
        form = PipelinePasswordResetForm({"email": user.email})
        if form.is_valid():
            form.request = request
            form.save(request=request, use_https=request.is_secure())
        messages.success(request, _("Every session of your account is signed out. We have emailed you a link to "
                                    "choose a new password."))
        return redirect("accounts:password_reset_done")
    if request.method not in ("GET", "HEAD"):
        return render(request, "accounts/secure_account.html", {"invalid": True}, status=405)
    return render(request, "accounts/secure_account.html", {"invalid": False, "username": user.username})


@login_required
def loyalty(request):
    """The customer's loyalty page: points, tier, history, what the next tier needs."""
    from django.utils import timezone

    from .loyalty import loyalty_summary

    with timezone.override(request.user.time_zone):
        return render(request, "accounts/loyalty.html", {**loyalty_summary(user=request.user), "section": "loyalty"})
