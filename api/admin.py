from django.contrib import admin

from .models import ApiKey


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = ("name", "store", "prefix", "scope", "created_at", "last_used_at", "revoked_at")
    list_filter = ("scope", "revoked_at")
    search_fields = ("name", "prefix", "store__name")
    fields = ("store", "name", "scope", "prefix", "created_by", "created_at", "last_used_at", "revoked_at")
    readonly_fields = ("store", "prefix", "created_by", "created_at", "last_used_at")

    def has_add_permission(self, request):
        return False  # keys are created by sellers, who see them once
