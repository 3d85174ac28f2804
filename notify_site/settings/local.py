"""Development: `make run`. Debug on, mail printed to the console and kept under var/."""
from .base import *  # noqa: F401,F403
from .base import env

DEBUG = env.bool("DEBUG", default=True)
EMAIL_BACKEND = env("EMAIL_BACKEND", default="django.core.mail.backends.filebased.EmailBackend")
NOTIFY_SMS_BACKEND = env("NOTIFY_SMS_BACKEND", default="notifications.channels.sms.FileBackend")
# A webhook receiver on this machine (127.0.0.1) is fine in development.
WEBHOOKS_ALLOW_PRIVATE_TARGETS = env.bool("WEBHOOKS_ALLOW_PRIVATE_TARGETS", default=True)
