"""The customer's privacy page: download my data, delete my account (accounts.privacy)."""
from django import forms
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import FileResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST
from django.utils.translation import gettext_lazy as _

from accounts.models import DataExport
from accounts.privacy import (
    PrivacyLinkError,
    account_delete,
    account_deletion_check,
    account_deletion_request,
    data_export_for_download,
    data_export_request,
    deletion_blockers,
)

from .views import in_user_time_zone


class DeletionRequestForm(forms.Form):
    password = forms.CharField(label=_("Your password"), strip=False,
                               widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}))
    understood = forms.BooleanField(label=_("I understand this cannot be undone."))


def _page(request, *, form=None, status=200, link_error=""):
    user = request.user
    return render(request, "accounts/dashboard_privacy.html", {
        "section": "privacy",
        "exports": list(DataExport.objects.filter(user=user)[:5]),
        "form": form or DeletionRequestForm(),
        "blockers": deletion_blockers(user=user),
        "link_error": link_error,
    }, status=status)


@login_required
@in_user_time_zone
def privacy(request):
    return _page(request)


@require_POST
@login_required
@in_user_time_zone
def privacy_export(request):
    try:
        data_export_request(user=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return _page(request, status=409)
    messages.success(request, _("We are preparing your data. We will email you a download link when it is ready "
                                "(usually within a few minutes)."))
    return redirect("accounts:privacy")


@login_required
@in_user_time_zone
def privacy_export_download(request, token):
    try:
        export = data_export_for_download(token=token, user=request.user)
    except PrivacyLinkError as exc:
        return _page(request, status=410 if "expired" in str(exc) or "no longer" in str(exc) else 403,
                     link_error=str(exc))
    response = FileResponse(export.file.open("rb"), as_attachment=True,
                            filename=f"my-data-{export.created_at:%Y-%m-%d}.zip", content_type="application/zip")
    response["Cache-Control"] = "private, no-store"
    return response


@require_POST
@login_required
@in_user_time_zone
def privacy_delete_request(request):
    form = DeletionRequestForm(request.POST)
    if form.is_valid():
        try:
            account_deletion_request(user=request.user, password=form.cleaned_data["password"])
        except ValidationError as exc:
            if hasattr(exc, "error_dict"):
                for field, errors in exc.message_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
            else:
                form.add_error(None, exc.messages)
        else:
            messages.success(request, _("We have emailed a confirmation link to %(email)s. Your account is deleted "
                                        "only when you open it and confirm.") % {"email": request.user.email})
            return redirect("accounts:privacy")
    return _page(request, form=form, status=422)


@login_required
@require_http_methods(["GET", "POST"])
@in_user_time_zone
def privacy_delete_confirm(request, token):
    try:
        account_deletion_check(token=token, user=request.user)
    except PrivacyLinkError as exc:
        return _page(request, status=410 if "expired" in str(exc) or "out of date" in str(exc) else 403,
                     link_error=str(exc))
    blockers = deletion_blockers(user=request.user)
    if request.method == "POST" and not blockers:
        account_delete(user=request.user)
        logout(request)
        return render(request, "accounts/privacy_deleted.html")
    return render(request, "accounts/privacy_delete_confirm.html",
                  {"section": "privacy", "token": token, "blockers": blockers}, status=409 if blockers else 200)
