from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from .models import AccountEvent, ConsentRecord, DataExport, LoginActivity, LoyaltyAccount, LoyaltyEntry, LoyaltyTier, User


class ReadOnlyAdmin(admin.ModelAdmin):
    """Append-only records: visible, never edited or deleted by hand."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class LoyaltyInline(admin.StackedInline):
    model = LoyaltyAccount
    can_delete = False
    extra = 0
    readonly_fields = ("updated_at",)


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ("username", "email", "display_name", "store", "phone", "sms_opt_in", "is_staff", "is_active",
                    "date_joined")
    list_filter = ("is_staff", "is_superuser", "is_active", "store", "sms_opt_in", "language")
    search_fields = ("username", "email", "first_name", "last_name", "phone")
    list_select_related = ("store",)
    autocomplete_fields = ("store",)
    inlines = [LoyaltyInline]
    fieldsets = BaseUserAdmin.fieldsets + (
        ("Shop", {"fields": ("store", "phone", "sms_opt_in", "language", "time_zone")}),
    )
    add_fieldsets = BaseUserAdmin.add_fieldsets + (
        ("Shop", {"fields": ("email", "store", "phone")}),
    )

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        LoyaltyAccount.objects.get_or_create(user=form.instance)


@admin.register(ConsentRecord)
class ConsentRecordAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "user", "email", "kind", "granted", "source", "ip_address")
    list_filter = ("kind", "granted", "source", "created_at")
    search_fields = ("email", "user__username", "user__email", "ip_address")
    list_select_related = ("user",)
    date_hierarchy = "created_at"


@admin.register(LoyaltyAccount)
class LoyaltyAccountAdmin(admin.ModelAdmin):
    list_display = ("user", "points", "tier", "updated_at")
    list_filter = ("tier",)
    search_fields = ("user__username", "user__email")
    list_select_related = ("user",)
    raw_id_fields = ("user",)
    readonly_fields = ("updated_at",)


@admin.register(LoginActivity)
class LoginActivityAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "user", "succeeded", "ip_address", "user_agent")
    list_filter = ("succeeded", "created_at")
    search_fields = ("user__username", "user__email", "ip_address", "user_agent")
    list_select_related = ("user",)
    date_hierarchy = "created_at"


@admin.register(DataExport)
class DataExportAdmin(ReadOnlyAdmin):
    """"Download my data" requests (accounts.privacy): status and expiry, never the archive itself."""

    list_display = ("id", "user", "status", "size_bytes", "created_at", "ready_at", "expires_at")
    list_filter = ("status",)
    search_fields = ("user__username", "user__email")
    list_select_related = ("user",)
    exclude = ("file",)


@admin.register(LoyaltyTier)
class LoyaltyTierAdmin(admin.ModelAdmin):
    """Tiers are the admin's to configure: name, points threshold, benefits text."""

    list_display = ("name", "threshold", "benefits")
    ordering = ("threshold",)


@admin.register(LoyaltyEntry)
class LoyaltyEntryAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "account", "kind", "points", "balance", "reference", "note")
    list_filter = ("kind", "created_at")
    search_fields = ("account__user__username", "account__user__email", "reference")
    list_select_related = ("account__user",)


@admin.register(AccountEvent)
class AccountEventAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "user", "kind", "ip_address", "device")
    list_filter = ("kind", "created_at")
    search_fields = ("user__username", "user__email", "ip_address")
    list_select_related = ("user",)
