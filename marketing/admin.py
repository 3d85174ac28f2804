"""Promotions in the admin: edit while a draft, preview per channel, test send, launch (now or
scheduled), pause / resume / cancel, and the live progress (htmx polling a partial)."""
from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.views.decorators.http import require_POST

from notifications.events import Channel

from . import selectors, services
from .models import FanOut, Promotion

CHANNEL_CHOICES = [(Channel.EMAIL.value, "Email"), (Channel.SMS.value, "SMS (only to customers who agreed to marketing texts)")]


class PromotionForm(forms.ModelForm):
    channels = forms.MultipleChoiceField(choices=CHANNEL_CHOICES, widget=forms.CheckboxSelectMultiple,
                                         initial=[Channel.EMAIL.value])

    class Meta:
        model = Promotion
        fields = ["title", "store", "discount_percent", "starts_at", "ends_at", "code", "whole_store", "products",
                  "channels", "message", "launch_at"]

    def clean(self):
        data = super().clean()
        instance = self.instance
        for name in ("title", "store", "discount_percent", "starts_at", "ends_at", "code", "whole_store",
                     "channels", "message"):
            if name in data:
                setattr(instance, name, data[name] if name != "store" else data[name])
        instance.store_id = data["store"].pk if data.get("store") else None
        try:
            services.promotion_validate(instance, data.get("products", []))
        except ValidationError as exc:
            for field, errs in exc.message_dict.items():
                self.add_error(field if field in self.fields else None, errs)
        data["code"] = instance.code
        return data


@admin.register(Promotion)
class PromotionAdmin(admin.ModelAdmin):
    form = PromotionForm
    list_display = ["title", "code", "store", "discount_percent", "starts_at", "ends_at", "status"]
    list_filter = ["status", "store"]
    search_fields = ["title", "code"]
    filter_horizontal = ["products"]
    change_form_template = "admin/marketing/promotion/change_form.html"

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and obj.status not in (Promotion.Status.DRAFT, Promotion.Status.SCHEDULED):
            return [f.name for f in Promotion._meta.fields if f.name not in ("id",)] + ["products"]
        return ["status"]

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("<int:pk>/progress/", wrap(self.progress_view), name="marketing_promotion_progress"),
            path("<int:pk>/preview/<str:channel>/", wrap(self.preview_view), name="marketing_promotion_preview"),
            path("<int:pk>/act/<str:action>/", wrap(require_POST(self.act_view)), name="marketing_promotion_act"),
        ] + super().get_urls()

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra = extra_context or {}
        promotion = Promotion.objects.filter(pk=object_id).first()
        if promotion is not None:
            extra.update(p=selectors.progress(promotion), progress_url=reverse(
                "admin:marketing_promotion_progress", args=[promotion.pk]))
        return super().change_view(request, object_id, form_url, extra)

    def progress_view(self, request, pk):
        if not self.has_view_permission(request):
            return TemplateResponse(request, "marketing/_progress.html", {}, status=403)
        promotion = get_object_or_404(Promotion, pk=pk)
        return render(request, "marketing/_progress.html", {
            "p": selectors.progress(promotion),
            "progress_url": reverse("admin:marketing_promotion_progress", args=[pk])})

    def preview_view(self, request, pk, channel):
        promotion = get_object_or_404(Promotion, pk=pk)
        if channel not in services.PROMOTION_CHANNELS:
            return render(request, "marketing/_preview.html", {"error": "Unknown channel."}, status=404)
        try:
            rendered = services.promotion_preview(promotion, channel)
        except Exception as exc:
            return render(request, "marketing/_preview.html", {"error": str(exc)}, status=422)
        return render(request, "marketing/_preview.html", {"rendered": rendered, "channel": channel})

    def act_view(self, request, pk, action):
        if not self.has_change_permission(request):
            return redirect("admin:marketing_promotion_change", pk)
        promotion = get_object_or_404(Promotion, pk=pk)
        try:
            if action == "launch":
                services.promotion_launch(promotion=promotion, actor=request.user)
                messages.success(request, "Launched: the audience is being written.")
            elif action == "schedule":
                services.promotion_launch(promotion=promotion, actor=request.user, at=promotion.launch_at)
                messages.success(request, "Scheduled.")
            elif action == "pause":
                services.promotion_pause(promotion=promotion)
                messages.success(request, "Paused.")
            elif action == "resume":
                services.promotion_resume(promotion=promotion)
                messages.success(request, "Resumed.")
            elif action == "cancel":
                services.promotion_cancel(promotion=promotion)
                messages.success(request, "Cancelled: nothing more will be sent.")
            elif action == "test":
                channel = request.POST.get("channel", Channel.EMAIL)
                sent_to = services.promotion_test_send(promotion=promotion, user=request.user, channel=channel)
                messages.success(request, f"Test sent to {sent_to}.")
            else:
                messages.error(request, "Unknown action.")
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        except Exception as exc:  # a test send the provider refused
            messages.error(request, f"Could not do that: {exc}")
        return redirect("admin:marketing_promotion_change", pk)


@admin.register(FanOut)
class FanOutAdmin(admin.ModelAdmin):
    list_display = ["key", "source", "status", "chunks", "written", "audience", "heartbeat_at"]
    list_filter = ["source", "status"]
    readonly_fields = [f.name for f in FanOut._meta.fields]

    def has_add_permission(self, request):
        return False
