"""Settings shared by every environment. All configuration comes from the environment
through one ``env`` object; local/test/production change only what must differ."""
from datetime import timedelta
from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False) if (BASE_DIR / ".env").exists() else None

SECRET_KEY = env("SECRET_KEY", default="insecure-dev-key-change-me")
DEBUG = env.bool("DEBUG", default=False)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
# Absolute base for links in messages (status page, unsubscribe, Twilio callbacks).
SITE_URL = env("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_celery_beat",
    "anymail",
    "phonenumber_field",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "accounts",
    "catalog",
    "orders",
    "notifications",
    "storefront",
    "seller",
    "api",
    "webhooks",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "notify_site.urls"
WSGI_APPLICATION = "notify_site.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "storefront.context_processors.cart",
                "accounts.dashboard.context_processors.inbox",
            ],
        },
    },
]

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}"),
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    # WAL + a busy timeout let web, worker and beat share one SQLite file.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 20, "init_command": "PRAGMA journal_mode=WAL;"}
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
# ModelBackend with the signed-in user's row cached (invalidated on save/delete).
AUTHENTICATION_BACKENDS = ["accounts.backends.CachedModelBackend"]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "storefront:product_list"
LOGOUT_REDIRECT_URL = "storefront:product_list"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("fr", "Français"), ("de", "Deutsch")]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "media/"
MEDIA_ROOT = env("MEDIA_ROOT", default=str(VAR_DIR / "media"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

PHONENUMBER_DEFAULT_REGION = env("PHONENUMBER_DEFAULT_REGION", default="GB")
SHOP_CURRENCY = env("SHOP_CURRENCY", default="GBP")
SHOP_NAME = env("SHOP_NAME", default="Notify Market")

# --- Cache (rate limiting, template cache) -------------------------------------------
REDIS_URL = env("REDIS_URL", default="")
if REDIS_URL:
    # Django's RedisCache with one redis client per pool instead of one per call (notify_site/cache.py).
    CACHES = {"default": {"BACKEND": "notify_site.cache.ReusingRedisCache",
                          "LOCATION": REDIS_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
                          "LOCATION": str(VAR_DIR / "cache")}}

# --- Celery ---------------------------------------------------------------------------
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default=REDIS_URL or "filesystem://")
CELERY_RESULT_BACKEND = env(
    "CELERY_RESULT_BACKEND", default=REDIS_URL or f"file://{VAR_DIR / 'celery' / 'results'}"
)
if CELERY_BROKER_URL.startswith("filesystem://"):
    _queue_dir = VAR_DIR / "celery" / "queue"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_queue_dir),
        "data_folder_out": str(_queue_dir),
        "processed_folder": str(VAR_DIR / "celery" / "processed"),
        "control_folder": str(VAR_DIR / "celery" / "control"),
        "store_processed": False,
    }
else:
    # Every retry countdown stays well below this (see notifications.tasks).
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_RESULT_EXPIRES = 3600
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=120)
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=100)
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = env.int("CELERY_WORKER_PREFETCH_MULTIPLIER", default=4)
# Celery's Django fixup closes the database connection before and after every task unless this is
# set: a new PostgreSQL connection per task (profiled: the largest cost of a notification delivery
# after its own queries). Keep it; notify_site.celery still runs Django's close_old_connections
# before each task, so a broken or CONN_MAX_AGE-expired connection is replaced.
CELERY_DB_REUSE_MAX = env.int("CELERY_DB_REUSE_MAX", default=1000)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_DEFAULT_QUEUE = env("CELERY_TASK_DEFAULT_QUEUE", default="celery")
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_TIMEZONE = TIME_ZONE
# Beat entries are declared in code and synced into django-celery-beat's tables.
CELERY_BEAT_SCHEDULE = {}

# --- Email (django-anymail; any ESP by settings) -------------------------------------
EMAIL_BACKEND = env("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
EMAIL_FILE_PATH = env("EMAIL_FILE_PATH", default=str(VAR_DIR / "mail"))
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="Notify Market <orders@notify.example>")
SERVER_EMAIL = env("SERVER_EMAIL", default=DEFAULT_FROM_EMAIL)
ANYMAIL = {
    # e.g. ANYMAIL_POSTMARK_SERVER_TOKEN, ANYMAIL_SENDGRID_API_KEY, ANYMAIL_MAILGUN_API_KEY
    key.removeprefix("ANYMAIL_"): value
    for key, value in env.ENVIRON.items()
    if key.startswith("ANYMAIL_")
}

# --- Twilio (SMS / WhatsApp) ---------------------------------------------------------
TWILIO_ACCOUNT_SID = env("TWILIO_ACCOUNT_SID", default="")
TWILIO_AUTH_TOKEN = env("TWILIO_AUTH_TOKEN", default="")
TWILIO_FROM_NUMBER = env("TWILIO_FROM_NUMBER", default="")
TWILIO_MESSAGING_SERVICE_SID = env("TWILIO_MESSAGING_SERVICE_SID", default="")
TWILIO_WHATSAPP_FROM = env("TWILIO_WHATSAPP_FROM", default="")

# --- Notifications (notifications app) -----------------------------------------------
# SMS backend, like EMAIL_BACKEND: notifications.channels.sms.TwilioBackend (production),
# ConsoleBackend (development default), FileBackend (var/sms.log) or LocmemBackend (tests).
NOTIFY_SMS_BACKEND = env("NOTIFY_SMS_BACKEND", default="notifications.channels.sms.ConsoleBackend")
NOTIFY_SMS_FILE_PATH = env("NOTIFY_SMS_FILE_PATH", default=str(VAR_DIR / "sms.log"))
CELERY_BEAT_SCHEDULE["notifications.sweep-outbox"] = {
    "task": "notifications.sweep_outbox",
    "schedule": 60.0,
    "options": {"expire_seconds": 60},
}

# --- Integrations --------------------------------------------------------------------
EASYPOST_WEBHOOK_SECRET = env("EASYPOST_WEBHOOK_SECRET", default="")
AFTERSHIP_WEBHOOK_SECRET = env("AFTERSHIP_WEBHOOK_SECRET", default="")
# Stripe (orders.payments.stripe): PAYMENT_GATEWAY=orders.payments.stripe.StripeGateway to use it.
PAYMENT_GATEWAY = env("PAYMENT_GATEWAY", default="orders.payments.testcard.TestCardGateway")
STRIPE_SECRET_KEY = env("STRIPE_SECRET_KEY", default="")
STRIPE_WEBHOOK_SECRET = env("STRIPE_WEBHOOK_SECRET", default="")

# --- Carrier tracking (orders.carriers) ---------------------------------------------------
# Webhooks: POST /webhooks/carriers/easypost/ and /webhooks/carriers/aftership/ (secrets above).
# Polled carriers (the simulated one, and any without webhooks) are looked up at most this many
# times a minute per carrier; CARRIER_POLL_RATES overrides it per carrier ("simulated=120;dpd=30").
CARRIER_POLL_RATE_PER_MINUTE = env.int("CARRIER_POLL_RATE_PER_MINUTE", default=60)
CARRIER_POLL_RATES = env.dict("CARRIER_POLL_RATES", cast={"value": int}, default={})
CARRIER_POLL_EVERY_SECONDS = env.int("CARRIER_POLL_EVERY_SECONDS", default=60)
# The simulated carrier takes a parcel from label to doorstep in this many minutes (a little
# longer when it hits an exception), and is polled this often.
CARRIER_SIMULATED_JOURNEY_MINUTES = env.float("CARRIER_SIMULATED_JOURNEY_MINUTES", default=6.0)
CARRIER_SIMULATED_POLL_SECONDS = env.int("CARRIER_SIMULATED_POLL_SECONDS", default=45)
# Tracking aggregators (orders.carriers.aggregators): with a key set, every Royal Mail / DPD / UPS /
# FedEx / USPS / DHL shipment is registered as a tracker (EasyPost wins when both are set), and a
# tracker whose webhooks have been quiet this long is fetched from the aggregator.
EASYPOST_API_KEY = env("EASYPOST_API_KEY", default="")
AFTERSHIP_API_KEY = env("AFTERSHIP_API_KEY", default="")
AGGREGATOR_QUIET_HOURS = env.int("AGGREGATOR_QUIET_HOURS", default=12)
CELERY_BEAT_SCHEDULE["orders.poll-quiet-trackers"] = {
    "task": "orders.poll_quiet_trackers",
    "schedule": 900.0,
    "options": {"expire_seconds": 900},
}
CELERY_BEAT_SCHEDULE["orders.poll-carriers"] = {
    "task": "orders.poll_due_shipments",
    "schedule": float(CARRIER_POLL_EVERY_SECONDS),
    "options": {"expire_seconds": CARRIER_POLL_EVERY_SECONDS},  # a missed run is skipped, not stacked
}

# --- REST API (api app: Django REST Framework + drf-spectacular) ------------------------
# Per-key rate limit ("600/min", "10/s"...) and how long an Idempotency-Key's response is kept.
API_RATE_LIMIT = env("API_RATE_LIMIT", default="600/min")
API_IDEMPOTENCY_TTL_HOURS = env.int("API_IDEMPOTENCY_TTL_HOURS", default=24)
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["api.auth.ApiKeyAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["api.auth.HasApiKey"],
    "DEFAULT_THROTTLE_CLASSES": ["api.auth.ApiKeyRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {"api_key": API_RATE_LIMIT},
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "api.problems.exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Notify Market store API",
    "DESCRIPTION": "Read a store's orders, post status changes, shipments, tracking checkpoints and stock. "
                   "Authenticate with a store API key: `Authorization: Bearer nsk_…`. Errors are RFC 9457 "
                   "problem details.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    "SWAGGER_UI_DIST": "SIDECAR",  # served from our own static files, no CDN
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "OrderStatusEnum": "orders.models.OrderStatus",
        "TrackingStatusEnum": "orders.models.TrackingStatus",
    },
}

# --- Webhooks to sellers' endpoints (webhooks app, notifications/channels/webhook.py) -------
# Targets on private, loopback or link-local addresses (and plain http) are refused unless this is on
# (tests and local development only).
WEBHOOKS_ALLOW_PRIVATE_TARGETS = env.bool("WEBHOOKS_ALLOW_PRIVATE_TARGETS", default=False)
WEBHOOKS_TIMEOUT_SECONDS = env.float("WEBHOOKS_TIMEOUT_SECONDS", default=10.0)
WEBHOOKS_SECRET_GRACE_HOURS = env.int("WEBHOOKS_SECRET_GRACE_HOURS", default=24)
WEBHOOKS_DISABLE_AFTER_HOURS = env.int("WEBHOOKS_DISABLE_AFTER_HOURS", default=24)

# Mount the bare one-query baseline view under /bench/. Off unless BENCH_VIEWS=1: only
# bench/status_page.sh sets it.
BENCH_VIEWS = env.bool("BENCH_VIEWS", default=False)

# Status-page links in messages are signed and expire after this many days.
STATUS_LINK_MAX_AGE_DAYS = env.int("STATUS_LINK_MAX_AGE_DAYS", default=90)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# Sessions read from the cache first: one query fewer on every logged-in page.
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
SESSION_COOKIE_AGE = int(timedelta(days=14).total_seconds())
