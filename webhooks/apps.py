from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "webhooks"
    verbose_name = "Seller webhooks"

    def ready(self):
        from . import receivers  # noqa: F401  (domain signals -> webhook outbox rows)
