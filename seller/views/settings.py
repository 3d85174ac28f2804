"""The seller's notification settings, branding and per-event customer messages."""
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from notifications.events import EVENTS, Channel
from notifications.selectors import seller_settings_matrix, store_options
from notifications.services import seller_setting_set, store_options_set

from ..access import seller_required
from ..forms import BrandingForm


@seller_required
def branding(request):
    store = request.store
    if request.method == "POST":
        form = BrandingForm(request.POST, request.FILES, instance=store)
        if form.is_valid():
            form.save()
            messages.success(request, "Branding saved. Your next customer emails use it.")
            return redirect("seller:branding")
        status = 422
    else:
        form = BrandingForm(instance=store)
        status = 200
    return render(request, "seller/branding.html", {"form": form, "section": "branding", "store": store},
                  status=status)


CHANNEL_COLUMNS = [(c.value, c.label) for c in Channel]
STORE_SWITCHES = {
    "shipping_updates": ("Shipping updates", "In-transit and out-for-delivery messages to your customers."),
    "review_request": ("Review invitation", "Ask for a review in the delivered message."),
}


def _truthy(value) -> bool:
    return str(value).lower() in ("1", "true", "on", "yes")


@require_GET
@seller_required
def notification_settings(request):
    options = store_options(request.store)
    return render(request, "seller/settings.html", {
        "section": "settings",
        "rows": seller_settings_matrix(request.store),
        "channels": CHANNEL_COLUMNS,
        "switches": [{"name": name, "label": label, "help": help_text, "enabled": getattr(options, name)}
                     for name, (label, help_text) in STORE_SWITCHES.items()],
        "options": options,
    })


@require_POST
@seller_required
def setting_toggle(request):
    """Save one event × channel toggle. htmx swaps the cell in place; a plain POST goes back to the grid."""
    event, channel = request.POST.get("event", ""), request.POST.get("channel", "")
    enabled = _truthy(request.POST.get("enabled", ""))
    error = ""
    try:
        seller_setting_set(store=request.store, event=event, channel=channel, enabled=enabled)
    except ValidationError as exc:
        error = " ".join(exc.messages)
    if request.headers.get("HX-Request"):
        label = EVENTS[event].label if event in EVENTS else event
        return render(request, "seller/_toggle.html", {
            "kind": "setting", "event": event, "channel": channel, "enabled": enabled and not error,
            "label": f"{label} by {channel}", "saved": not error, "error": error,
        }, status=422 if error else 200)
    if error:
        messages.error(request, error)
    else:
        messages.success(request, "Notification setting saved.")
    return redirect("seller:settings")


@require_POST
@seller_required
def option_toggle(request):
    """Save one per-store switch for optional customer messages."""
    name = request.POST.get("name", "")
    if name not in STORE_SWITCHES:
        return HttpResponseBadRequest("Unknown switch.")
    enabled = _truthy(request.POST.get("enabled", ""))
    store_options_set(store=request.store, **{name: enabled})
    if request.headers.get("HX-Request"):
        return render(request, "seller/_toggle.html", {
            "kind": "option", "name": name, "enabled": enabled, "label": STORE_SWITCHES[name][0], "saved": True})
    messages.success(request, "Saved.")
    return redirect("seller:settings")


@require_POST
@seller_required
def review_url_save(request):
    try:
        store_options_set(store=request.store, review_url=request.POST.get("review_url", ""))
    except ValidationError as exc:
        messages.error(request, "Review link: " + " ".join(exc.messages))
    else:
        messages.success(request, "Review link saved.")
    return redirect("seller:settings")
