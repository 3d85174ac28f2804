"""pytest. SQLite in memory unless DATABASE_URL points at PostgreSQL (CI)."""
from .base import *  # noqa: F401,F403
from .base import CELERY_RESULT_BACKEND, env

SECRET_KEY = "test-secret-key-not-for-production"
DEBUG = False
ALLOWED_HOSTS = ["*"]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# TEST_EMAIL_BACKEND lets a live-worker test read the worker process's mail (filebased, EMAIL_FILE_PATH).
EMAIL_BACKEND = env("TEST_EMAIL_BACKEND", default="django.core.mail.backends.locmem.EmailBackend")
# TEST_SMS_BACKEND lets the fault tests give the worker process a recording provider.
NOTIFY_SMS_BACKEND = env("TEST_SMS_BACKEND", default="notifications.channels.sms.LocmemBackend")
NOTIFY_WHATSAPP_BACKEND = env("TEST_WHATSAPP_BACKEND", default="notifications.channels.whatsapp.LocmemWhatsAppBackend")
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=True)
CELERY_TASK_EAGER_PROPAGATES = False
if CELERY_RESULT_BACKEND.startswith("file://"):
    # Eager tasks still open the result backend; don't depend on var/ existing (pytest without make).
    CELERY_RESULT_BACKEND = "cache+memory://"
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Receivers in tests listen on 127.0.0.1 (production refuses private and loopback webhook targets).
WEBHOOKS_ALLOW_PRIVATE_TARGETS = True
NOTIFY_PUSH_ALLOW_HTTP = True
