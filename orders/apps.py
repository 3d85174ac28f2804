from django.apps import AppConfig


class OrdersConfig(AppConfig):
    default_auto_field = 'django.db.models.BigAutoField'
    name = 'orders'

    def ready(self):
        from .carriers import aggregators  # noqa: F401  (shipment_created -> aggregator tracker registration)
