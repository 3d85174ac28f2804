"""A seller's own store's promotions: list, create (a draft), detail with preview, test send,
launch / pause / resume / cancel, and the live progress (htmx polls the progress partial)."""
from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_POST

from catalog.models import Product
from marketing import selectors, services
from marketing.models import Promotion

from ..access import seller_required


class PromotionForm(forms.ModelForm):
    channels = forms.MultipleChoiceField(
        choices=[("email", _("Email")), ("sms", _("SMS (only customers who agreed to marketing texts)"))],
        widget=forms.CheckboxSelectMultiple, initial=["email"], label=_("Channels"))
    starts_at = forms.DateTimeField(widget=forms.DateTimeInput(attrs={"type": "datetime-local"}), label=_("Starts"))
    ends_at = forms.DateTimeField(widget=forms.DateTimeInput(attrs={"type": "datetime-local"}), label=_("Ends"))

    class Meta:
        model = Promotion
        fields = ["title", "discount_percent", "code", "starts_at", "ends_at", "whole_store", "products", "channels",
                  "message"]
        widgets = {"products": forms.CheckboxSelectMultiple, "message": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, store, **kwargs):
        super().__init__(*args, **kwargs)
        self.store = store
        self.fields["products"].queryset = Product.objects.filter(store=store, active=True).order_by("name")
        self.fields["products"].required = False

    def clean(self):
        data = super().clean()
        promotion = self.instance
        promotion.store = self.store
        for name in ("title", "discount_percent", "code", "starts_at", "ends_at", "whole_store", "channels", "message"):
            if name in data:
                setattr(promotion, name, data[name])
        try:
            services.promotion_validate(promotion, data.get("products", []))
        except ValidationError as exc:
            for field, errs in exc.message_dict.items():
                self.add_error(field if field in self.fields else None, errs)
        data["code"] = promotion.code
        if data.get("code") and Promotion.objects.filter(code=data["code"]).exclude(pk=promotion.pk).exists():
            self.add_error("code", _("That code is taken: choose another."))
        return data


def _own(request, pk) -> Promotion:
    promotion = selectors.store_promotions(request.store.pk).filter(pk=pk).first()
    if promotion is None:
        raise Http404("No such promotion in your store.")
    return promotion


@seller_required
def promotion_list(request):
    form = PromotionForm(request.POST or None, store=request.store)
    if request.method == "POST" and form.is_valid():
        promotion = form.save(commit=False)
        promotion.store, promotion.created_by = request.store, request.user
        promotion.save()
        form.save_m2m()
        messages.success(request, _("Draft saved. Preview it, send yourself a test, then launch."))
        return redirect("seller:promotion_detail", promotion.pk)
    return render(request, "seller/promotions.html", {
        "section": "promotions", "promotions": selectors.store_promotions(request.store.pk), "form": form},
        status=400 if request.method == "POST" else 200)


@require_GET
@seller_required
def promotion_detail(request, pk):
    promotion = _own(request, pk)
    return render(request, "seller/promotion_detail.html", {
        "section": "promotions", "promotion": promotion, "p": selectors.progress(promotion),
        "progress_url": reverse("seller:promotion_progress", args=[pk]),
        "previews": {ch: services.promotion_preview(promotion, ch) for ch in promotion.channels},
        "schedule_form": ScheduleForm(store=request.store, promotion=promotion)})


@require_GET
@seller_required
def promotion_progress(request, pk):
    promotion = _own(request, pk)
    return render(request, "marketing/_progress.html", {
        "p": selectors.progress(promotion), "progress_url": reverse("seller:promotion_progress", args=[pk])})


class ScheduleForm(forms.Form):
    """When to launch, typed in the store's own time zone (empty: now)."""

    launch_at = forms.DateTimeField(required=False, label=_("Launch at"),
                                    widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
                                    error_messages={"invalid": _("Enter a date and time, e.g. 2030-01-20 09:00.")})

    def __init__(self, *args, store, promotion, **kwargs):
        super().__init__(*args, **kwargs)
        self.store, self.promotion = store, promotion

    def clean_launch_at(self):
        import zoneinfo

        value = self.cleaned_data["launch_at"]
        if value is None:
            return None
        try:
            zone = zoneinfo.ZoneInfo(self.store.time_zone or "Europe/London")
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            zone = zoneinfo.ZoneInfo("Europe/London")
        # The form read the wall-clock time in the active zone; it means the store's zone.
        value = (value if timezone.is_naive(value) else timezone.make_naive(value)).replace(tzinfo=zone)
        if value <= timezone.now():
            raise forms.ValidationError(_("Choose a time in the future, or launch now."))
        if value >= self.promotion.ends_at:
            raise forms.ValidationError(_("That is after the promotion ends."))
        return value


ACTIONS = {"launch": services.promotion_launch, "pause": services.promotion_pause,
           "resume": services.promotion_resume, "cancel": services.promotion_cancel}
DONE = {"launch": _("Launched: your customers who agreed to offers are being written to."),
        "pause": _("Paused."), "resume": _("Resumed."), "cancel": _("Cancelled: nothing more will be sent.")}


@require_POST
@seller_required
def promotion_action(request, pk, action):
    promotion = _own(request, pk)
    try:
        if action == "test":
            channel = request.POST.get("channel", "email")
            address = services.promotion_test_send(promotion=promotion, user=request.user, channel=channel)
            messages.success(request, _("Test sent to %(address)s.") % {"address": address})
        elif action == "launch" and request.POST.get("launch_at"):
            form = ScheduleForm(request.POST, store=request.store, promotion=promotion)
            if not form.is_valid():
                messages.error(request, " ".join(form.errors["launch_at"]))
                return redirect("seller:promotion_detail", pk)
            at = form.cleaned_data["launch_at"]
            services.promotion_launch(promotion=promotion, actor=request.user, at=at)
            messages.success(request, _("Scheduled: it launches on %(when)s (%(zone)s).") % {
                "when": at.strftime("%-d %b %Y, %H:%M"), "zone": request.store.time_zone or "Europe/London"})
        elif action in ACTIONS:
            ACTIONS[action](promotion=promotion)
            messages.success(request, DONE[action])
        else:
            raise Http404("Unknown action.")
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("seller:promotion_detail", pk)
