"""Deploy checks (``manage.py check --deploy``) for the notification integrations."""
from django.core.checks import Error, Tags, register


@register(Tags.security, deploy=True)
def email_webhook_secret_check(app_configs=None, **kwargs):
    """An anymail ESP's tracking webhook is public: without ANYMAIL_WEBHOOK_SECRET anyone could post
    bounces and complaints for any address."""
    from .email_webhooks import configured_esp, webhook_secret_configured

    esp = configured_esp()
    if esp and not webhook_secret_configured():
        return [Error(
            f"ANYMAIL_WEBHOOK_SECRET is not set, so the {esp} tracking webhook (/anymail/{esp}/tracking/) would be "
            "refused (403) and email bounces, complaints and deliveries never recorded.",
            hint='Set ANYMAIL_WEBHOOK_SECRET="user:long-random-password" and configure the same credentials '
                 "in the provider's webhook URL (https://user:password@host/anymail/<esp>/tracking/).",
            id="notifications.E001")]
    return []

