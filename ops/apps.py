from django.apps import AppConfig


class OpsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "ops"
    verbose_name = "Operations"

    def ready(self):
        from . import signals  # noqa: F401  (heartbeats, sweeper counters, log context in workers)
