"""The seller's notification settings, branding and per-event customer messages."""
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.text import format_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from notifications.events import DIGEST_MINUTES, EVENTS, MESSAGE_CHANNELS, SELLER_CHANNELS, Channel
from notifications.selectors import push_settings_for, store_message_settings, store_options
from notifications.services import (
    seller_can_receive_sms,
    seller_digest_set,
    seller_setting_set,
    store_message_set,
    store_options_set,
)

from accounts.phone_verification import phone_is_verified, phone_verification_confirm, phone_verification_start

from ..access import seller_required
from ..forms import BrandingForm, MessageForm, ShippingDeadlineForm
from ..preview import CUSTOMER_EVENT_CHOICES, store_email_preview
from ..selectors import seller_alert_grid, seller_alert_offered


def _chosen_event(request) -> str:
    event = request.POST.get("event") or request.GET.get("event") or ""
    return event if event in dict(CUSTOMER_EVENT_CHOICES) else CUSTOMER_EVENT_CHOICES[0][0]


def _branding_values(data) -> dict:
    return {k: data.get(k) for k in ("accent_colour", "sign_off", "sender_name") if data.get(k) is not None}


@seller_required
def branding(request):
    """Brand (logo, colour, sign-off, sender) and the per-event personal note / discount code, with a preview."""
    store = request.store
    event = _chosen_event(request)
    saved = store_message_settings(store).get(event)
    brand_form = BrandingForm(instance=store)
    message_form = MessageForm(initial={"personal_note": getattr(saved, "personal_note", ""),
                                        "discount_code": getattr(saved, "discount_code", "")})
    status = 200
    if request.method == "POST" and request.POST.get("form") == "brand":
        brand_form = BrandingForm(request.POST, request.FILES, instance=store)
        if brand_form.is_valid():
            brand_form.save()
            messages.success(request, "Branding saved. Your next customer emails use it.")
            return redirect(f"{reverse('seller:branding')}?event={event}")
        status = 422
    elif request.method == "POST" and request.POST.get("form") == "message":
        message_form = MessageForm(request.POST)
        if message_form.is_valid():
            try:
                store_message_set(store=store, event=event, **message_form.cleaned_data)
            except ValidationError as exc:
                message_form.add_error(None, exc)
            else:
                messages.success(request, f"Saved the message for “{EVENTS[event].label}”.")
                return redirect(f"{reverse('seller:branding')}?event={event}")
        status = 422
    elif request.method not in ("GET", "HEAD"):
        return HttpResponseBadRequest("Unknown form.")

    note_data = message_form.data if message_form.is_bound else message_form.initial
    if brand_form.is_bound:  # an invalid brand form left its values on the instance: preview what is saved
        store.refresh_from_db()
    preview = store_email_preview(store=store, event=event, personal_note=note_data.get("personal_note", ""),
                                  discount_code=note_data.get("discount_code", ""))
    with_message = set(store_message_settings(store))
    return render(request, "seller/branding.html", {
        "section": "branding", "store": store, "form": brand_form, "message_form": message_form,
        "event": event, "event_label": EVENTS[event].label,
        "events": [(code, label, code in with_message) for code, label in CUSTOMER_EVENT_CHOICES],
        "preview": preview,
    }, status=status)


@require_GET
@seller_required
def email_preview(request):
    """htmx: the customer email as it would look with what is in the forms now (nothing saved)."""
    preview = store_email_preview(store=request.store, event=_chosen_event(request),
                                  personal_note=request.GET.get("personal_note", ""),
                                  discount_code=request.GET.get("discount_code", ""),
                                  branding=_branding_values(request.GET))
    return render(request, "seller/_email_preview.html", {"preview": preview})

# Sellers are not messaged by WhatsApp: only the channels a seller alert can use are columns.
CHANNEL_COLUMNS = [(c.value, c.label) for c in MESSAGE_CHANNELS if c in SELLER_CHANNELS]
STORE_SWITCHES = {
    "shipping_updates": ("Shipping updates", "In-transit and out-for-delivery messages to your customers."),
    "review_request": ("Review invitation", "Ask for a review in the delivered message."),
}


def _truthy(value) -> bool:
    return str(value).lower() in ("1", "true", "on", "yes")


DIGEST_CHOICES = [(0, gettext_lazy("Each order"))] + [
    (m, format_lazy(gettext_lazy("{minutes}-min digest"), minutes=m)) for m in DIGEST_MINUTES]


@require_GET
@seller_required
def notification_settings(request):
    return _settings_page(request)


def _settings_page(request, *, deadline_form=None, status=200):
    options = store_options(request.store)
    return render(request, "seller/settings.html", {
        "deadline_form": deadline_form or ShippingDeadlineForm(instance=request.store),
        "digest_choices": DIGEST_CHOICES,
        "section": "settings",
        "rows": seller_alert_grid(request.store),
        "sms_ready": seller_can_receive_sms(request.user),
        "phone_unverified": bool(request.user.phone) and not phone_is_verified(request.user),
        "code_sent": request.GET.get("code") == "sent",
        "channels": CHANNEL_COLUMNS,
        "switches": [{"name": name, "label": label, "help": help_text, "enabled": getattr(options, name)}
                     for name, (label, help_text) in STORE_SWITCHES.items()],
        "options": options,
        "push": push_settings_for(request.user),
    }, status=status)


@require_POST
@seller_required
def shipping_deadline(request):
    """Save the store's shipping deadline and business calendar (new orders use it)."""
    form = ShippingDeadlineForm(request.POST, instance=request.store)
    if not form.is_valid():
        request.store.refresh_from_db()
        return _settings_page(request, deadline_form=form, status=422)
    form.save()
    messages.success(request, _("Shipping deadline saved. Orders ready to ship from now on use it."))
    return redirect(reverse("seller:settings") + "#deadline")


@require_POST
@seller_required
def digest_set(request):
    """Take a seller alert on one channel as one message per order or one digest every N minutes."""
    event, channel = request.POST.get("event", ""), request.POST.get("channel", "")
    try:
        seller_digest_set(store=request.store, event=event, channel=channel, minutes=request.POST.get("minutes"))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        minutes = int(request.POST.get("minutes"))
        label = Channel(channel).label
        messages.success(request, _("New orders by %(channel)s: one digest every %(minutes)d minutes.")
                         % {"channel": label, "minutes": minutes} if minutes
                         else _("New orders by %(channel)s: one message per order.") % {"channel": label})
    return redirect(reverse("seller:settings") + "#alerts")


@require_POST
@seller_required
def phone_code_send(request):
    """Text a code to the seller's number (the SMS alerts' switch needs a verified number)."""
    try:
        phone_verification_start(user=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("seller:settings")
    messages.success(request, f"We sent a code to {request.user.phone}.")
    return redirect(reverse("seller:settings") + "?code=sent#phone")


@require_POST
@seller_required
def phone_code_confirm(request):
    try:
        phone_verification_confirm(user=request.user, code=request.POST.get("code", ""))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect(reverse("seller:settings") + "?code=sent#phone")
    messages.success(request, "Your number is verified: you can switch SMS alerts on.")
    return redirect("seller:settings")


@require_POST
@seller_required
def setting_toggle(request):
    """Save one event × channel toggle. htmx swaps the cell in place; a plain POST goes back to the grid."""
    event, channel = request.POST.get("event", ""), request.POST.get("channel", "")
    enabled = _truthy(request.POST.get("enabled", ""))
    error = ""
    if event in EVENTS and channel in Channel.values and EVENTS[event].seller_channels \
            and not seller_alert_offered(event, channel):
        error = f"The platform does not send this alert by {Channel(channel).label}, so there is nothing to switch."
    else:
        try:
            seller_setting_set(store=request.store, event=event, channel=channel, enabled=enabled,
                               actor=request.user)
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
