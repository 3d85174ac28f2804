"""The customer dashboard: orders, the order status page and its actions, inbox, preferences."""
from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from notifications.events import MESSAGE_CHANNELS
from notify_site.client_ip import client_ip_or_none
from notifications.models import PlatformSettings, QuietHours
from notifications.selectors import customer_preferences_matrix, push_settings_for, quiet_hours_for
from notifications.services import customer_preference_set
from orders.selectors import customer_orders, normalise_order_number

from . import actions, pay_now
from . import inbox as inbox_views
from .forms import ProfileForm
from .services import customer_profile_update
from .status_page import StatusRef, live_response, not_modified_response, page_response, status_fingerprint

STATUS_TEMPLATE = "accounts/order_status.html"


def in_user_time_zone(view):
    """Render the page with times in the customer's own time zone."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        with timezone.override(request.user.time_zone):
            return view(request, *args, **kwargs)

    return wrapper


@require_GET
@login_required
@in_user_time_zone
def dashboard(request):
    paginator = Paginator(customer_orders(user=request.user), 20)
    page = paginator.get_page(request.GET.get("page"))
    return render(request, "accounts/dashboard.html", {"page": page, "orders": page.object_list,
                                                       "section": "orders"})


POLL_SALT = "accounts.status-poll"
POLL_KEY_MAX_AGE = 12 * 3600


def poll_key(*, number: str, user) -> str:
    """Signed (order number, user id, time zone) for the page's own refresh URL.

    It lets the refresh answer "nothing changed" (304) from the order's fingerprint alone,
    without loading the session and the user: a 304 discloses nothing, and any answer with
    content still goes through the login check.
    """
    return signing.dumps({"n": number, "u": user.pk, "tz": user.time_zone}, salt=POLL_SALT, compress=True)


def customer_urls(number: str, user) -> dict:
    page = reverse("accounts:order_detail", args=[number])
    return {
        "page": page,
        "live": f"{page}?live=1&k={poll_key(number=number, user=user)}",
        "cancel": reverse("accounts:order_cancel", args=[number]),
        "return": reverse("accounts:order_return", args=[number]),
        "pay": reverse("accounts:order_pay", args=[number]),
        "feedback": reverse("accounts:order_feedback", args=[number]),
        "ask": reverse("accounts:order_ask", args=[number]),
        "back": reverse("accounts:dashboard"),
    }


def _customer_ref(request, number: str) -> StatusRef:
    # The same query reads the bell's unread count for the header (part of the page's cache key).
    fp = status_fingerprint(number=number, customer_id=request.user.pk, with_unread=True)
    if fp is None:
        raise Http404("No such order in your account.")
    return StatusRef(viewer="customer", fp=fp, make_urls=lambda: customer_urls(fp["number"], request.user),
                     tz=request.user.time_zone)


def _poll_not_modified(request, number: str):
    """The refresh's fast path: a valid poll key and an unchanged fingerprint give a 304."""
    try:
        key = signing.loads(request.GET.get("k", ""), salt=POLL_SALT, max_age=POLL_KEY_MAX_AGE)
    except signing.BadSignature:
        return None
    if key.get("n") != normalise_order_number(number):
        return None
    fp = status_fingerprint(number=number, customer_id=key["u"])
    if fp is None:
        return None
    ref = StatusRef(viewer="customer", fp=fp, make_urls=dict, tz=key["tz"])
    return not_modified_response(request, ref)


@require_GET
def order_status(request, number):
    if request.GET.get("live") and request.headers.get("If-None-Match"):
        response = _poll_not_modified(request, number)
        if response is not None:
            return response
    return _order_status(request, number)


@login_required
def _order_status(request, number):
    ref = _customer_ref(request, number)
    if request.GET.get("live"):
        return live_response(request, ref)
    if request.GET.get("checkout"):  # back from Stripe Checkout: only its webhook says paid
        return page_response(request, ref, template=STATUS_TEMPLATE, checkout_return=True)
    return page_response(request, ref, template=STATUS_TEMPLATE)


@require_POST
@login_required
def order_cancel(request, number):
    ref = _customer_ref(request, number)
    return actions.cancel(request, ref, actor=request.user, template=STATUS_TEMPLATE,
                          refetch=lambda: _customer_ref(request, number))


@require_POST
@login_required
def order_return(request, number):
    ref = _customer_ref(request, number)
    return actions.request_return(request, ref, actor=request.user, template=STATUS_TEMPLATE,
                                  refetch=lambda: _customer_ref(request, number))


@require_http_methods(["GET", "POST"])
@login_required
def order_pay(request, number):
    """GET: the pay page (hosted gateway); POST: the status page's pay form, or the pay page's button."""
    ref = _customer_ref(request, number)
    if request.method == "GET" or "payment_method" not in request.POST:
        return pay_now.pay_now(request, pay_now.load_order(ref.fp["id"]), status_url=ref.urls["page"],
                               pay_url=reverse("accounts:order_pay", args=[ref.fp["number"]]))
    return actions.pay(request, ref, actor=request.user, template=STATUS_TEMPLATE,
                       refetch=lambda: _customer_ref(request, number))


@require_POST
@login_required
def order_feedback(request, number):
    ref = _customer_ref(request, number)
    return actions.feedback(request, ref, actor=request.user, template=STATUS_TEMPLATE,
                            refetch=lambda: _customer_ref(request, number))


@require_POST
@login_required
def order_ask(request, number):
    ref = _customer_ref(request, number)
    return actions.ask(request, ref, user=request.user, template=STATUS_TEMPLATE,
                       refetch=lambda: _customer_ref(request, number))


# --- inbox --------------------------------------------------------------------------------

@require_GET
@login_required
@in_user_time_zone
def inbox(request):
    return inbox_views.inbox_page(request, template="accounts/dashboard_inbox.html",
                                  read_url_name="accounts:inbox_read", read_all_url=reverse("accounts:inbox_read_all"))


@require_POST
@login_required
def inbox_read(request, message_id):
    return inbox_views.mark_read(request, message_id, inbox_url=reverse("accounts:inbox"),
                                 read_url_name="accounts:inbox_read")


@require_POST
@login_required
def inbox_read_all(request):
    return inbox_views.mark_all_read(request, inbox_url=reverse("accounts:inbox"))


# --- notification preferences ----------------------------------------------------------------

def _client_ip(request) -> str | None:
    return client_ip_or_none(request)


@login_required
def preferences(request):
    user = request.user
    quiet = quiet_hours_for(user)
    if quiet is None:  # no choice made yet: the platform's default window applies
        platform = PlatformSettings.objects.filter(pk=1).first() or PlatformSettings()
        quiet = QuietHours(user=user, enabled=True, start=platform.quiet_hours_start, end=platform.quiet_hours_end)
    if request.method == "POST":
        form = ProfileForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                customer_profile_update(user=user, phone=data["phone"], sms_opt_in=data["sms_opt_in"],
                                        whatsapp_opt_in=data["whatsapp_opt_in"],
                                        language=data["language"], time_zone=data["time_zone"],
                                        quiet_enabled=data["quiet_enabled"], quiet_start=data["quiet_start"],
                                        quiet_end=data["quiet_end"], ip_address=_client_ip(request))
            except ValidationError as exc:
                for field, errors in exc.message_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
            else:
                messages.success(request, _("Your details are saved."))
                return redirect("accounts:preferences")
        status = 422
    else:
        form = ProfileForm(initial={
            "phone": user.phone, "sms_opt_in": user.sms_opt_in, "whatsapp_opt_in": user.whatsapp_opt_in,
            "language": user.language,
            "time_zone": user.time_zone, "quiet_enabled": quiet.enabled,
            "quiet_start": quiet.start, "quiet_end": quiet.end,
        })
        status = 200
    return render(request, "accounts/dashboard_preferences.html", {
        "section": "preferences",
        "form": form,
        "rows": customer_preferences_matrix(user),
        "channels": [(c.value, c.label) for c in MESSAGE_CHANNELS],
        "push": push_settings_for(user),
    }, status=status)


@require_POST
@login_required
def preference_toggle(request):
    category, channel = request.POST.get("category", ""), request.POST.get("channel", "")
    enabled = request.POST.get("enabled", "") in ("1", "on", "true")
    error = ""
    try:
        customer_preference_set(user=request.user, category=category, channel=channel, enabled=enabled,
                                ip_address=_client_ip(request))
    except ValidationError as exc:
        error = " ".join(exc.messages)
    if request.headers.get("HX-Request"):
        return render(request, "accounts/_preference_toggle.html", {
            "category": category, "channel": channel, "enabled": enabled and not error, "saved": not error,
            "error": error, "label": f"{category} by {channel}"}, status=422 if error else 200)
    if error:
        messages.error(request, error)
    else:
        messages.success(request, _("Preference saved."))
    return redirect("accounts:preferences")
