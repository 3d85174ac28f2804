from django.apps import AppConfig


class AccountsConfig(AppConfig):
    default_auto_field = 'django.db.models.BigAutoField'
    name = 'accounts'

    def ready(self):
        from . import backends, receivers  # noqa: F401  (user-cache invalidation; login activity bookkeeping)
