from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _ensure_platform_rows(sender, using="default", **kwargs):
    from django.db import connections

    from .models import PlatformEventSetting
    from .services import platform_event_settings_ensure

    # After a migration rollback the table may be gone: nothing to fill then.
    if PlatformEventSetting._meta.db_table not in connections[using].introspection.table_names():
        return
    platform_event_settings_ensure()


class NotificationsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "notifications"

    def ready(self):
        from . import checks, receivers, receivers_subjects  # noqa: F401  (deploy checks; domain signals → outbox; anymail tracking)

        # One PlatformEventSetting row per catalogue event, so staff can switch each in the admin.
        post_migrate.connect(_ensure_platform_rows, sender=self, dispatch_uid="notifications.platform_rows")
