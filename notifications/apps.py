from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _ensure_platform_rows(sender, **kwargs):
    from .services import platform_event_settings_ensure

    platform_event_settings_ensure()


class NotificationsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "notifications"

    def ready(self):
        from . import receivers  # noqa: F401  (domain signals → outbox; anymail tracking)

        # One PlatformEventSetting row per catalogue event, so staff can switch each in the admin.
        post_migrate.connect(_ensure_platform_rows, sender=self, dispatch_uid="notifications.platform_rows")
