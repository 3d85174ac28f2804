"""Production: every secret from the environment, HTTPS everywhere."""
from .base import *  # noqa: F401,F403
from .base import env

DEBUG = False
SECRET_KEY = env("SECRET_KEY")  # no default: refuse to start without one
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS")
EMAIL_BACKEND = env("EMAIL_BACKEND", default="anymail.backends.postmark.EmailBackend")
NOTIFY_SMS_BACKEND = env("NOTIFY_SMS_BACKEND", default="notifications.channels.sms.TwilioBackend")
NOTIFY_WHATSAPP_BACKEND = env("NOTIFY_WHATSAPP_BACKEND",
                              default="notifications.channels.whatsapp.TwilioWhatsAppBackend")

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

# --- Privacy and operations (issue 16) -----------------------------------------------
# JSON logs unless LOG_FORMAT says otherwise; the load balancer's plain-HTTP probes are not redirected.
from ops.logs import logging_config  # noqa: E402

LOG_FORMAT = env("LOG_FORMAT", default="json")
LOGGING = logging_config(LOG_FORMAT, env("LOG_LEVEL", default="INFO"))
CELERY_WORKER_HIJACK_ROOT_LOGGER = LOG_FORMAT != "json"
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]  # /metrics carries a token: HTTPS only
