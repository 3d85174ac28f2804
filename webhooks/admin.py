from django.contrib import admin

from .models import WebhookAttempt, WebhookEndpoint


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    list_display = ("url", "store", "enabled", "failing_since", "last_success_at", "created_at")
    list_filter = ("enabled",)
    search_fields = ("url", "store__name")
    # The signing secrets stay with the seller.
    exclude = ("secret", "previous_secret")
    readonly_fields = ("store", "failing_since", "last_success_at", "disabled_at", "previous_secret_expires_at")


@admin.register(WebhookAttempt)
class WebhookAttemptAdmin(admin.ModelAdmin):
    list_display = ("created_at", "endpoint", "notification", "attempt", "status_code", "latency_ms", "succeeded")
    list_filter = ("succeeded",)
    search_fields = ("url", "error")
    readonly_fields = [f.name for f in WebhookAttempt._meta.fields]

    def has_add_permission(self, request):
        return False
