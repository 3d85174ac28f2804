"""The store's API keys: create (shown once), list, revoke."""
from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from api.models import ApiKey
from api.selectors import store_api_keys
from api.services import api_key_create, api_key_revoke

from ..access import seller_required


@require_http_methods(["GET", "HEAD", "POST"])
@seller_required
def api_keys(request):
    created_token, created_key, error, status = "", None, "", 200
    if request.method == "POST":
        try:
            created_key, created_token = api_key_create(store=request.store, name=request.POST.get("name", ""),
                                                        scope=request.POST.get("scope", ""), actor=request.user)
        except ValueError as exc:
            error, status = str(exc), 422
    return render(request, "seller/api_keys.html", {
        "section": "api", "keys": store_api_keys(request.store), "scopes": ApiKey.Scope.choices,
        "created_token": created_token, "created_key": created_key, "error": error,
        "posted": request.POST if error else {},
    }, status=status)


@require_POST
@seller_required
def api_key_revoke_view(request, key_id: int):
    key = get_object_or_404(ApiKey, pk=key_id, store=request.store)
    api_key_revoke(api_key=key)
    messages.success(request, f"Revoked “{key.name}”. Requests with it are now refused.")
    return redirect("seller:api_keys")
