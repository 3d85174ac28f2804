"""Admin for platform staff: templates (validated, live preview, send test, versions), the
delivery log (notifications + attempts, filters, search, resend) and every notification setting."""
import difflib

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponseNotAllowed
from django.shortcuts import get_object_or_404, redirect, render
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from . import services
from .events import EVENTS, MESSAGE_CHANNELS, Audience, Channel
from .models import (
    CustomerPreference,
    DeliveryAttempt,
    InboxMessage,
    Notification,
    NotificationTemplate,
    NotificationTemplateVersion,
    PlatformEventSetting,
    PlatformSettings,
    QuietHours,
    SellerNotificationSetting,
    StoreMessageSetting,
    StoreNotificationOptions,
    Suppression,
)
from .rendering import all_default_keys, default_sources, has_shipped_translation, preview

# --- templates ---------------------------------------------------------------------------------


class NotificationTemplateForm(forms.ModelForm):
    note = forms.CharField(required=False, max_length=200, help_text="What changed (kept in the version history).")

    class Meta:
        model = NotificationTemplate
        fields = ["event", "audience", "channel", "language", "active", "subject", "text_body", "html_body"]
        widgets = {
            "subject": forms.TextInput(attrs={"size": 100}),
            "text_body": forms.Textarea(attrs={"rows": 14, "cols": 100, "class": "vLargeTextField monospace"}),
            "html_body": forms.Textarea(attrs={"rows": 18, "cols": 100, "class": "vLargeTextField monospace"}),
        }

    def clean(self):
        data = super().clean()
        instance = self.instance
        event = data.get("event") or instance.event
        audience = data.get("audience") or instance.audience
        channel = data.get("channel") or instance.channel
        language = data.get("language") or instance.language
        if not (event and audience and channel):
            return data
        try:
            services.template_validate(event=event, audience=audience, channel=channel,
                                       subject=data.get("subject", ""), text_body=data.get("text_body", ""),
                                       html_body=data.get("html_body", ""), language=language)
        except ValidationError as exc:
            if hasattr(exc, "error_dict"):
                for field, errors in exc.message_dict.items():
                    self.add_error(field if field in self.fields else None, errors)
            else:
                self.add_error(None, exc)
        return data


class VersionInline(admin.TabularInline):
    model = NotificationTemplateVersion
    fields = ["version", "created_at", "created_by", "note"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = False
    ordering = ["-version"]
    max_num = 0


@admin.register(NotificationTemplate)
class NotificationTemplateAdmin(admin.ModelAdmin):
    form = NotificationTemplateForm
    change_form_template = "admin/notifications/notificationtemplate/change_form.html"
    change_list_template = "admin/notifications/notificationtemplate/change_list.html"
    list_display = ["event", "audience", "channel", "language", "active", "version", "flagged", "updated_at",
                    "updated_by"]
    list_filter = ["active", "channel", "audience", "language", "event"]
    search_fields = ["event", "subject", "text_body"]
    list_select_related = ["updated_by"]
    readonly_fields = ["version", "render_error", "render_failed_at", "updated_at", "updated_by"]
    inlines = [VersionInline]

    def get_fieldsets(self, request, obj=None):
        return [
            (None, {"fields": ["event", "audience", "channel", "language", "active"]}),
            ("Content", {"fields": ["subject", "text_body", "html_body", "note"],
                         "description": "Django template syntax. Variables come from the event's sample context "
                                        "(see the preview). Email: subject + text + HTML. SMS: text. In-app: "
                                        "subject (title) + text."}),
            ("State", {"fields": ["version", "render_error", "render_failed_at", "updated_at", "updated_by"]}),
        ]

    def get_readonly_fields(self, request, obj=None):
        if obj is not None:  # identity is fixed once created
            return ["event", "audience", "channel", "language", *self.readonly_fields]
        return self.readonly_fields

    @admin.display(boolean=True, description="render failed")
    def flagged(self, obj):
        return bool(obj.render_error)

    def get_changeform_initial_data(self, request):
        initial = super().get_changeform_initial_data(request)
        event, audience, channel, language = (request.GET.get(k) for k in ("event", "audience", "channel",
                                                                             "language"))
        if event in EVENTS and audience in Audience.values and channel in Channel.values:
            # Customising a translation starts from the shipped text in that language.
            language = language if language in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE
            initial["language"] = language
            sources = default_sources(event, audience, channel, language)
            initial.update({"subject": sources.get("subject", "").strip(), "text_body": sources.get("text", ""),
                            "html_body": sources.get("html", "")})
        return initial

    def save_model(self, request, obj, form, change):
        services.template_save(template=obj, user=request.user, note=form.cleaned_data.get("note", ""))

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("defaults/", wrap(self.defaults_view), name="notifications_notificationtemplate_defaults"),
            path("preview/", wrap(self.preview_view), name="notifications_notificationtemplate_preview"),
            path("send-test/", wrap(self.send_test_view), name="notifications_notificationtemplate_send_test"),
            path("<int:object_id>/preview/", wrap(self.preview_view),
                 name="notifications_notificationtemplate_preview_existing"),
            path("<int:object_id>/send-test/", wrap(self.send_test_view),
                 name="notifications_notificationtemplate_send_test_existing"),
            path("<int:object_id>/versions/", wrap(self.versions_view),
                 name="notifications_notificationtemplate_versions"),
            path("<int:object_id>/restore/<int:version>/", wrap(self.restore_view),
                 name="notifications_notificationtemplate_restore"),
        ] + super().get_urls()

    def _identity(self, request, object_id):
        """(event, audience, channel, language) from the saved object or the add form's POST."""
        if object_id is not None:
            obj = get_object_or_404(NotificationTemplate, pk=object_id)
            return obj.event, obj.audience, obj.channel, obj.language
        get = request.POST.get
        return get("event", ""), get("audience", ""), get("channel", ""), get("language", "en") or "en"

    def _sources(self, request):
        return {"subject": request.POST.get("subject", ""), "text_body": request.POST.get("text_body", ""),
                "html_body": request.POST.get("html_body", "")}

    def preview_view(self, request, object_id=None):
        """htmx: the live preview panel for what is in the form right now (nothing is saved)."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        # Rendering staff-written sources is part of editing them: change permission, not view.
        if not self.has_change_permission(request) and not (object_id is None and self.has_add_permission(request)):
            raise PermissionDenied
        event, audience, channel, language = self._identity(request, object_id)
        ctx = {"channel": channel, "result": None, "problem": ""}
        definition = EVENTS.get(event)
        if definition is None or channel not in Channel.values or audience not in definition.audiences:
            ctx["problem"] = "Choose an event, an audience that event is sent to, and a channel to see a preview."
        else:
            src = self._sources(request)
            ctx["result"] = preview(event=event, audience=audience, channel=channel, language=language,
                                    sources={"subject": src["subject"], "text": src["text_body"],
                                             "html": src["html_body"]})
        return render(request, "admin/notifications/notificationtemplate/_preview.html", ctx)

    def send_test_view(self, request, object_id=None):
        """htmx: send what is in the form (rendered with sample data) to the signed-in staff member."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not self.has_change_permission(request) and not (object_id is None and self.has_add_permission(request)):
            raise PermissionDenied
        event, audience, channel, language = self._identity(request, object_id)
        try:
            notification = services.notification_send_test(user=request.user, event=event, audience=audience,
                                                           channel=channel, language=language,
                                                           **self._sources(request))
        except (ValidationError, KeyError, ValueError) as exc:
            messages_ = exc.messages if isinstance(exc, ValidationError) else [str(exc)]
            return render(request, "admin/notifications/notificationtemplate/_send_test.html",
                          {"ok": False, "errors": messages_})
        return render(request, "admin/notifications/notificationtemplate/_send_test.html",
                      {"ok": True, "notification": notification,
                       "log_url": reverse("admin:notifications_notification_change", args=[notification.pk])})

    def versions_view(self, request, object_id):
        obj = get_object_or_404(NotificationTemplate, pk=object_id)
        if not self.has_view_or_change_permission(request, obj):
            raise PermissionDenied
        current = [obj.subject, obj.text_body, obj.html_body]
        rows = []
        for version in obj.versions.select_related("created_by").order_by("-version"):
            diff = []
            for label, old, new in zip(("subject", "text", "html"), [version.subject, version.text_body,
                                                                     version.html_body], current, strict=True):
                diff.extend(difflib.unified_diff(old.splitlines(), new.splitlines(), f"v{version.version} {label}",
                                                 f"current {label}", lineterm="", n=1))
            rows.append({"version": version, "diff": "\n".join(diff), "is_current": version.version == obj.version})
        context = {**self.admin_site.each_context(request), "opts": self.model._meta, "original": obj,
                   "title": f"Versions of {obj}", "rows": rows,
                   "can_restore": self.has_change_permission(request, obj)}
        return TemplateResponse(request, "admin/notifications/notificationtemplate/versions.html", context)

    def restore_view(self, request, object_id, version):
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        obj = get_object_or_404(NotificationTemplate, pk=object_id)
        if not self.has_change_permission(request, obj):
            raise PermissionDenied
        try:
            services.template_restore(template=obj, version=version, user=request.user)
        except ValidationError as exc:
            messages.error(request, f"Version {version} cannot be restored: {'; '.join(exc.messages)}")
        else:
            messages.success(request, f"Restored version {version} as version {obj.version}.")
        return redirect("admin:notifications_notificationtemplate_change", object_id)

    def defaults_view(self, request):
        """Every shipped default (event × audience × channel) with a link to customise it."""
        if not self.has_view_or_change_permission(request):
            raise PermissionDenied
        overrides = {(t.event, t.audience, t.channel, t.language): t for t in NotificationTemplate.objects.all()}
        languages = [code for code, _name in settings.LANGUAGES]
        add = reverse("admin:notifications_notificationtemplate_add")
        rows = [{"event": e, "audience": a, "channel": c,
                 "languages": [{"code": lang, "override": overrides.get((e, a, c, lang)),
                                "shipped": has_shipped_translation(e, a, c, lang),
                                "add_url": f"{add}?event={e}&audience={a}&channel={c}&language={lang}"}
                               for lang in languages]} for e, a, c in all_default_keys()]
        context = {**self.admin_site.each_context(request), "opts": self.model._meta, "rows": rows,
                   "title": "Shipped default templates"}
        return TemplateResponse(request, "admin/notifications/notificationtemplate/defaults.html", context)


# --- delivery log ------------------------------------------------------------------------------

class DeliveryAttemptInline(admin.TabularInline):
    model = DeliveryAttempt
    fields = ["number", "created_at", "status", "provider", "provider_message_id", "latency_ms", "sms_segments",
              "sms_encoding", "provider_status", "error"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    max_num = 0
    ordering = ["-id"]


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["id", "created_at", "event", "audience", "channel", "recipient_address", "status", "order_link",
                    "store", "attempts", "linked", "error_short"]
    list_filter = ["status", "channel", "event", "audience", "store", ("created_at", admin.DateFieldListFilter),
                   "template_fallback"]
    search_fields = ["order__number", "recipient_address", "recipient__email", "event_key", "provider_message_id"]
    date_hierarchy = "created_at"
    list_select_related = ["order", "store"]
    inlines = [DeliveryAttemptInline]
    actions = ["resend"]
    list_per_page = 50
    fieldsets = [
        (None, {"fields": ["event", "event_key", "audience", "category", "channel", "recipient", "recipient_address",
                           "language", "order", "store", "fallback_of", "corrected_from"]}),
        ("Status", {"fields": ["status", "status_reason", "last_error", "attempts", "provider_message_id",
                               "send_after", "retry_at", "claimed_at", "created_at", "sent_at", "delivered_at",
                               "updated_at", "legal_basis"]}),
        ("What was sent", {"fields": ["template_source", "template_fallback", "subject", "body_text", "body_html",
                                      "context"]}),
    ]

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in Notification._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="order", ordering="order__number")
    def order_link(self, obj):
        return obj.order.number if obj.order_id else "—"

    @admin.display(description="error")
    def error_short(self, obj):
        return (obj.last_error[:80] + "…") if len(obj.last_error) > 80 else obj.last_error

    @admin.display(description="linked to")
    def linked(self, obj):
        """A fallback or a resend to a corrected address points at the message that did not arrive."""
        if obj.fallback_of_id:
            return f"fallback of #{obj.fallback_of_id}"
        if obj.corrected_from_id:
            return f"corrected resend of #{obj.corrected_from_id}"
        return ""

    @admin.action(description="Resend (new attempt on the same notification)", permissions=["change"])
    def resend(self, request, queryset):
        done, refused = 0, []
        for notification in queryset:
            try:
                services.notification_resend(notification=notification, actor=request.user)
                done += 1
            except ValidationError as exc:
                refused.extend(exc.messages)
        if done:
            self.message_user(request, f"Queued {done} notification(s) to send again.", messages.SUCCESS)
        for message in refused:
            self.message_user(request, message, messages.WARNING)


@admin.register(DeliveryAttempt)
class DeliveryAttemptAdmin(admin.ModelAdmin):
    list_display = ["id", "created_at", "notification_link", "number", "status", "provider", "provider_message_id",
                    "latency_ms", "error_short"]
    list_filter = ["status", "provider", "transient", ("created_at", admin.DateFieldListFilter),
                   "notification__channel", "notification__event"]
    search_fields = ["provider_message_id", "notification__order__number", "notification__recipient_address"]
    date_hierarchy = "created_at"
    list_select_related = ["notification"]

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in DeliveryAttempt._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="notification")
    def notification_link(self, obj):
        url = reverse("admin:notifications_notification_change", args=[obj.notification_id])
        return format_html('<a href="{}">#{} {}</a>', url, obj.notification_id, obj.notification.event)

    @admin.display(description="error")
    def error_short(self, obj):
        return (obj.error[:80] + "…") if len(obj.error) > 80 else obj.error


# --- settings ----------------------------------------------------------------------------------

class ChannelsField(forms.MultipleChoiceField):
    widget = forms.CheckboxSelectMultiple

    def __init__(self, **kwargs):
        super().__init__(choices=[(c.value, c.label) for c in MESSAGE_CHANNELS], required=False, **kwargs)


class PlatformEventSettingForm(forms.ModelForm):
    customer_channels = ChannelsField()
    seller_channels = ChannelsField()

    class Meta:
        model = PlatformEventSetting
        fields = ["event", "enabled", "customer_channels", "seller_channels", "whatsapp_content_sid"]

    def clean(self):
        data = super().clean()
        definition = EVENTS.get(data.get("event") or self.instance.event)
        if definition is not None:
            if data.get("customer_channels") and not definition.customer_channels:
                self.add_error("customer_channels", "This event is not sent to customers.")
            if data.get("seller_channels") and not definition.seller_channels:
                self.add_error("seller_channels", "This event is not sent to sellers.")
            if "whatsapp" in (data.get("seller_channels") or []):
                self.add_error("seller_channels", "Sellers are not messaged by WhatsApp.")
        sid = (data.get("whatsapp_content_sid") or "").strip()
        if sid and not (sid.startswith("HX") and len(sid) == 34 and sid[2:].isalnum()):
            self.add_error("whatsapp_content_sid", "A Twilio content SID is HX followed by 32 letters and digits.")
        data["whatsapp_content_sid"] = sid
        return data


@admin.register(PlatformEventSetting)
class PlatformEventSettingAdmin(admin.ModelAdmin):
    form = PlatformEventSettingForm
    list_display = ["event", "enabled", "customer_channels", "seller_channels", "updated_at"]
    list_editable = ["enabled"]
    list_filter = ["enabled"]


@admin.register(PlatformSettings)
class PlatformSettingsAdmin(admin.ModelAdmin):
    list_display = ["__str__", "quiet_hours_start", "quiet_hours_end", "max_attempts", "sms_daily_cap",
                    "sms_allowed_countries"]

    def has_add_permission(self, request):
        return not PlatformSettings.objects.exists()

    def has_delete_permission(self, request, obj=None):
        return False

    def changelist_view(self, request, extra_context=None):
        obj = services.platform_settings_get()
        return redirect("admin:notifications_platformsettings_change", obj.pk)

    def save_model(self, request, obj, form, change):
        obj.pk = 1
        super().save_model(request, obj, form, change)


@admin.register(SellerNotificationSetting)
class SellerNotificationSettingAdmin(admin.ModelAdmin):
    list_display = ["store", "event", "channel", "enabled", "updated_at"]
    list_filter = ["enabled", "channel", "event"]
    search_fields = ["store__name"]
    list_select_related = ["store"]


@admin.register(StoreMessageSetting)
class StoreMessageSettingAdmin(admin.ModelAdmin):
    list_display = ["store", "event", "discount_code", "updated_at"]
    search_fields = ["store__name", "discount_code"]
    list_select_related = ["store"]


@admin.register(StoreNotificationOptions)
class StoreNotificationOptionsAdmin(admin.ModelAdmin):
    list_display = ["store", "shipping_updates", "review_request", "updated_at"]
    list_select_related = ["store"]


@admin.register(CustomerPreference)
class CustomerPreferenceAdmin(admin.ModelAdmin):
    list_display = ["user", "category", "channel", "enabled", "updated_at"]
    list_filter = ["category", "channel", "enabled"]
    search_fields = ["user__email", "user__username"]
    list_select_related = ["user"]


@admin.register(QuietHours)
class QuietHoursAdmin(admin.ModelAdmin):
    list_display = ["user", "enabled", "start", "end"]
    search_fields = ["user__email"]
    list_select_related = ["user"]


@admin.register(Suppression)
class SuppressionAdmin(admin.ModelAdmin):
    list_display = ["address", "channel", "reason", "detail", "created_at"]
    list_filter = ["channel", "reason"]
    search_fields = ["address"]


@admin.register(InboxMessage)
class InboxMessageAdmin(admin.ModelAdmin):
    list_display = ["user", "title", "created_at", "read_at"]
    search_fields = ["user__email", "title"]
    list_select_related = ["user"]
    readonly_fields = ["notification"]
