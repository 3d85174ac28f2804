"""Settings shared by every environment. All configuration comes from the environment
through one ``env`` object; local/test/production change only what must differ."""
from datetime import timedelta
from pathlib import Path

import environ
from csp.constants import NONCE, NONE, SELF

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
    "axes",
    "csp",
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
    "marketing",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # A NUL (%00) anywhere in the request is a 400 here, before any view or the session reads it.
    "notify_site.middleware.RejectNulBytesMiddleware",
    "csp.middleware.CSPMiddleware",
    "notify_site.middleware.PrivacyHeadersMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "notify_site.language.AccountLanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: turns a locked-out login into the lockout page.
    "axes.middleware.AxesMiddleware",
]

# Content-Security-Policy (django-csp): scripts and stylesheets from this site only, inline script
# only with the request's nonce ({{ request.csp_nonce }}; no page needs one today). Style attributes
# stay allowed: store accent colours and the inlined CSS of email previews use them.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF, "'unsafe-inline'"],
        "style-src-elem": [SELF, NONCE],
        "style-src-attr": ["'unsafe-inline'"],
        # SITE_URL: email previews link the store logo absolutely.
        "img-src": [SELF, "data:", SITE_URL, *env.list("CSP_IMG_SRC", default=[])],
        "font-src": [SELF],
        "connect-src": [SELF],
        "frame-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}

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
        # IMMEDIATE: a transaction takes the write lock when it begins, so it waits (timeout)
        # instead of failing with "database is locked" when it upgrades a read lock mid-way.
        {"timeout": 30, "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
         "transaction_mode": "IMMEDIATE"}
    )
elif DATABASES["default"]["ENGINE"].endswith("postgresql"):
    # The fixed statements of the hot paths (notify_site.rows.prepared_cursor) are prepared by the
    # server after 5 runs on a connection and keep their plan. Everything else (the ORM) stays
    # client-side bound, as Django does by default. Switch off behind a pooler that does not keep
    # prepared statements (PgBouncer in transaction mode before 1.21): DB_PREPARED_STATEMENTS=0.
    DATABASES["default"].setdefault("OPTIONS", {})["prepare_threshold"] = (
        5 if env.bool("DB_PREPARED_STATEMENTS", default=True) else None)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
# ModelBackend with the signed-in user's row cached (invalidated on save/delete).
# django-axes first: it refuses a locked-out login before any password is checked.
AUTHENTICATION_BACKENDS = ["accounts.backends.WebLoginThrottleBackend", "accounts.backends.CachedModelBackend"]
# The backend a user is signed in with after sign-up.
LOGIN_BACKEND = "accounts.backends.CachedModelBackend"

# --- Client address and login throttling ---------------------------------------------------
# Proxies in front of the app (addresses or networks, comma separated): X-Forwarded-For is read only
# from them (notify_site/client_ip.py). Empty: REMOTE_ADDR is the client.
TRUSTED_PROXIES = env.list("TRUSTED_PROXIES", default=[])
RATELIMIT_IP_META_KEY = "notify_site.client_ip.client_ip"
# django-axes: after AXES_FAILURE_LIMIT wrong passwords for one username from one address, that pair
# is locked for AXES_COOLOFF_MINUTES (site and admin alike); a successful login resets the count.
# Staff unlock early in the admin (Axes › Access attempts) or with `manage.py axes_reset_username`.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "accounts.views.locked_out"
AXES_CLIENT_IP_CALLABLE = "notify_site.client_ip.client_ip"
AXES_VERBOSE = False
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
# Customer pages and messages in these languages (locale/<code>/LC_MESSAGES/django.po, and shipped
# message templates under templates/notifications/<event>/<audience>/<code>/). The seller dashboard
# and the admin stay English.
LANGUAGES = [("en", "English"), ("de", "Deutsch"), ("fr", "Français"), ("es", "Español")]
LOCALE_PATHS = [BASE_DIR / "locale"]
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
    # Django's RedisCache with one redis client per pool instead of one per call, that serves as a
    # miss while Redis is away instead of failing the request (notify_site/cache.py).
    CACHES = {"default": {"BACKEND": "notify_site.cache.ResilientRedisCache",
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
# Opening a channel to publish tries once (redis-py would otherwise retry with backoff for ~2 s):
# a web request that commits while the broker is away returns at once, and its rows wait in the
# outbox for the sweeper. The worker's own consumer reconnects per CELERY_BROKER_CONNECTION_MAX_RETRIES.
CELERY_BROKER_TRANSPORT_OPTIONS["max_retries"] = 0
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
# A worker that loses the broker keeps retrying to reconnect for a while, then exits so its
# supervisor (systemd Restart=always, bin/supervise under make run) starts a fresh one: never a
# live process that consumes nothing. Publishing from a request never waits long on a dead broker
# (notifications.outbox.dispatch_quietly publishes once, without retries).
CELERY_BROKER_CONNECTION_RETRY = True
CELERY_BROKER_CONNECTION_MAX_RETRIES = env.int("CELERY_BROKER_CONNECTION_MAX_RETRIES", default=30)
CELERY_BROKER_CONNECTION_TIMEOUT = env.float("CELERY_BROKER_CONNECTION_TIMEOUT", default=2.0)
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = True
# Maintenance (the outbox sweeper) has its own queue: a delivery backlog never delays or expires it.
CELERY_MAINTENANCE_QUEUE = env("CELERY_MAINTENANCE_QUEUE", default="maintenance")
# The heartbeat rides the same queue, so readiness sees a worker as alive even behind a backlog.
CELERY_TASK_ROUTES = {"notifications.sweep_outbox": {"queue": CELERY_MAINTENANCE_QUEUE},
                      "ops.heartbeat": {"queue": CELERY_MAINTENANCE_QUEUE}}
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

# The one email provider whose tracking webhook is mounted at /anymail/<esp>/tracking/: the ESP of
# EMAIL_BACKEND unless set (e.g. "postmark"). Its basic auth is ANYMAIL_WEBHOOK_SECRET ("user:password"),
# required in production (system check notifications.E001).
EMAIL_WEBHOOK_ESP = env("EMAIL_WEBHOOK_ESP", default="")
# Mailgun signs only a timestamp and a token: an older signature is refused as a replay.
EMAIL_WEBHOOK_MAX_AGE_SECONDS = env.int("EMAIL_WEBHOOK_MAX_AGE_SECONDS", default=900)

# --- Twilio (SMS / WhatsApp) ---------------------------------------------------------
TWILIO_ACCOUNT_SID = env("TWILIO_ACCOUNT_SID", default="")
TWILIO_AUTH_TOKEN = env("TWILIO_AUTH_TOKEN", default="")
TWILIO_FROM_NUMBER = env("TWILIO_FROM_NUMBER", default="")
TWILIO_MESSAGING_SERVICE_SID = env("TWILIO_MESSAGING_SERVICE_SID", default="")
# The WhatsApp sender, "whatsapp:+14155238886" (the "whatsapp:" prefix is added if missing).
TWILIO_WHATSAPP_FROM = env("TWILIO_WHATSAPP_FROM", default="")
# Approved WhatsApp content templates for business-initiated messages, per event code, as JSON:
# {"order.shipped": "HX…"} or {"order.shipped": {"sid": "HX…", "variables": {"1": "order.number"}}}
# (variables are dotted paths into the message context). A platform event setting's
# whatsapp_content_sid (admin) overrides it. Inside the 24-hour window after the customer's last
# inbound WhatsApp message the rendered whatsapp_body.txt goes as a free-form session message.
NOTIFY_WHATSAPP_CONTENT_SIDS = env.json("NOTIFY_WHATSAPP_CONTENT_SIDS", default={})

# --- Web push (VAPID) ------------------------------------------------------------------
# Make a key pair with `manage.py vapid_keys` (README). Without keys the push channel and the
# "turn on notifications in this browser" button are off.
VAPID_PUBLIC_KEY = env("VAPID_PUBLIC_KEY", default="")
VAPID_PRIVATE_KEY = env("VAPID_PRIVATE_KEY", default="")
VAPID_SUBJECT = env("VAPID_SUBJECT", default="mailto:support@example.com")
# How long the push service keeps an undelivered message for an offline browser (seconds).
NOTIFY_PUSH_TTL_SECONDS = env.int("NOTIFY_PUSH_TTL_SECONDS", default=24 * 3600)
# Push services are https; the browser test's local push service is http on 127.0.0.1.
NOTIFY_PUSH_ALLOW_HTTP = False

# --- Notifications (notifications app) -----------------------------------------------
# SMS backend, like EMAIL_BACKEND: notifications.channels.sms.TwilioBackend (production),
# ConsoleBackend (development default), FileBackend (var/sms.log) or LocmemBackend (tests).
NOTIFY_SMS_BACKEND = env("NOTIFY_SMS_BACKEND", default="notifications.channels.sms.ConsoleBackend")
NOTIFY_SMS_FILE_PATH = env("NOTIFY_SMS_FILE_PATH", default=str(VAR_DIR / "sms.log"))
# WhatsApp backend: notifications.channels.whatsapp.TwilioWhatsAppBackend (production),
# ConsoleWhatsAppBackend (development default) or LocmemWhatsAppBackend (tests).
NOTIFY_WHATSAPP_BACKEND = env("NOTIFY_WHATSAPP_BACKEND",
                              default="notifications.channels.whatsapp.ConsoleWhatsAppBackend")
# A claimed row still "sending" after this many seconds is in doubt (its worker died): the sweeper
# resolves it (notifications/in_doubt.py). Every provider call times out well inside it.
NOTIFY_SEND_LEASE_SECONDS = env.int("NOTIFY_SEND_LEASE_SECONDS", default=30)
# The sweeper hands over a queued row once it has waited this long (the broker was away at commit,
# or its message was lost with a killed worker's prefetch).
NOTIFY_SWEEP_AFTER_SECONDS = env.int("NOTIFY_SWEEP_AFTER_SECONDS", default=60)
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=10)
ANYMAIL.setdefault("REQUESTS_TIMEOUT", (3.1, 10))
CELERY_BEAT_SCHEDULE["notifications.sweep-outbox"] = {
    "task": "notifications.sweep_outbox",
    "schedule": 20.0,
    "options": {"expire_seconds": 20, "queue": CELERY_MAINTENANCE_QUEUE},
}

# Promotions (marketing app): sends per second per channel, shared by every worker (ESP / Twilio
# limits), e.g. NOTIFY_MARKETING_RATE="email=50,sms=5"; rows written per fan-out chunk; the mailto:
# in List-Unsubscribe (default unsubscribe@<DEFAULT_FROM_EMAIL's domain>).
NOTIFY_MARKETING_RATE = {k: int(v) for k, v in env.dict("NOTIFY_MARKETING_RATE", default={"email": "50",
                                                                                          "sms": "5"}).items()}
NOTIFY_FANOUT_CHUNK = env.int("NOTIFY_FANOUT_CHUNK", default=2000)
NOTIFY_UNSUBSCRIBE_MAILTO = env("NOTIFY_UNSUBSCRIBE_MAILTO", default="")
CELERY_BEAT_SCHEDULE["marketing.tick"] = {"task": "marketing.tick", "schedule": 15.0,
                                          "options": {"expire_seconds": 15}}

# --- Integrations --------------------------------------------------------------------
EASYPOST_WEBHOOK_SECRET = env("EASYPOST_WEBHOOK_SECRET", default="")
AFTERSHIP_WEBHOOK_SECRET = env("AFTERSHIP_WEBHOOK_SECRET", default="")
# Stripe (orders.payments.stripe): PAYMENT_GATEWAY=orders.payments.stripe.StripeGateway to use it.
PAYMENT_GATEWAY = env("PAYMENT_GATEWAY", default="orders.payments.testcard.TestCardGateway")
STRIPE_SECRET_KEY = env("STRIPE_SECRET_KEY", default="")
STRIPE_WEBHOOK_SECRET = env("STRIPE_WEBHOOK_SECRET", default="")
# The customer pays on Stripe Checkout's hosted page (orders.payments.hosted). Always so with live
# keys; with test keys only when STRIPE_CHECKOUT is on (else the typed test card is confirmed
# server-side, the demo path). A session's payment page stays open this many minutes (30..1440).
STRIPE_CHECKOUT = env.bool("STRIPE_CHECKOUT", default=False)
STRIPE_CHECKOUT_EXPIRES_MINUTES = env.int("STRIPE_CHECKOUT_EXPIRES_MINUTES", default=60)
# "Pay now" (a fresh Checkout Session) per order and per client address (django-ratelimit rates).
PAY_NOW_RATE_PER_ORDER = env("PAY_NOW_RATE_PER_ORDER", default="10/h")
PAY_NOW_RATE_PER_IP = env("PAY_NOW_RATE_PER_IP", default="30/h")
# Talking about an order (orders.conversation): customer questions per order and per client
# address, seller messages per seller.
ORDER_QUESTION_RATE_PER_ORDER = env("ORDER_QUESTION_RATE_PER_ORDER", default="5/h")
ORDER_QUESTION_RATE_PER_IP = env("ORDER_QUESTION_RATE_PER_IP", default="20/h")
SELLER_MESSAGE_RATE = env("SELLER_MESSAGE_RATE", default="60/h")

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

# --- Unpaid orders (orders.unpaid) -------------------------------------------------------
# A card order whose payment failed keeps its stock this many hours, then is cancelled; the
# customer is reminded this many hours before the deadline.
UNPAID_ORDER_CANCEL_HOURS = env.float("UNPAID_ORDER_CANCEL_HOURS", default=24.0)
UNPAID_ORDER_REMINDER_HOURS = env.float("UNPAID_ORDER_REMINDER_HOURS", default=6.0)
# At most one "payment failed" message per order per this many minutes (every attempt stays on the timeline).
PAYMENT_FAILED_NOTICE_MINUTES = env.int("PAYMENT_FAILED_NOTICE_MINUTES", default=60)
CELERY_BEAT_SCHEDULE["orders.unpaid-orders"] = {
    "task": "orders.unpaid_orders_sweep",
    "schedule": 300.0,
    "options": {"expire_seconds": 300},
}

# --- Shipping deadlines (orders.sla) and seller digests (notifications.digest) ----------------
# Beat looks for late orders (and for due digest windows) this often.
SLA_SWEEP_EVERY_SECONDS = env.int("SLA_SWEEP_EVERY_SECONDS", default=300)
DIGEST_CLOSE_EVERY_SECONDS = env.int("DIGEST_CLOSE_EVERY_SECONDS", default=60)
CELERY_BEAT_SCHEDULE["orders.sla-sweep"] = {
    "task": "orders.sla_sweep",
    "schedule": float(SLA_SWEEP_EVERY_SECONDS),
    "options": {"expire_seconds": SLA_SWEEP_EVERY_SECONDS},
}
CELERY_BEAT_SCHEDULE["notifications.close-digests"] = {
    "task": "notifications.digest_close_due",
    "schedule": float(DIGEST_CLOSE_EVERY_SECONDS),
    "options": {"expire_seconds": DIGEST_CLOSE_EVERY_SECONDS},
}

# --- The live demo (`make run` sets DEMO_LIVE=1) ---------------------------------------------
# Beat keeps this many simulated parcels on their way, placing new demo orders when needed.
DEMO_LIVE = env.bool("DEMO_LIVE", default=False)
DEMO_PARCELS_IN_FLIGHT = env.int("DEMO_PARCELS_IN_FLIGHT", default=2)
CELERY_BEAT_SCHEDULE["orders.demo-keep-moving"] = {
    "task": "orders.demo_keep_moving",
    "schedule": 60.0,
    "options": {"expire_seconds": 60},
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

# --- Seller bulk shipping by CSV (seller/bulk_shipping.py) and delivery statistics ----------
SHIPMENT_UPLOAD_MAX_BYTES = env.int("SHIPMENT_UPLOAD_MAX_BYTES", default=1024 * 1024)
SHIPMENT_UPLOAD_MAX_ROWS = env.int("SHIPMENT_UPLOAD_MAX_ROWS", default=5000)
SHIPMENT_UPLOAD_CHUNK = env.int("SHIPMENT_UPLOAD_CHUNK", default=50)  # rows per progress update
# The statistics rollup (notifications/stats.py) is rebuilt by beat for the last N days (so
# late delivery receipts and bounces are counted); older days only by `manage.py stats_backfill`.
STATS_ROLLUP_EVERY_SECONDS = env.int("STATS_ROLLUP_EVERY_SECONDS", default=300)
STATS_ROLLUP_DAYS = env.int("STATS_ROLLUP_DAYS", default=3)
CELERY_BEAT_SCHEDULE["notifications.stats-rollup"] = {
    "task": "notifications.stats_rollup",
    "schedule": float(STATS_ROLLUP_EVERY_SECONDS),
    "options": {"expire_seconds": STATS_ROLLUP_EVERY_SECONDS, "queue": CELERY_MAINTENANCE_QUEUE},
}

# Mount the bare one-query baseline view under /bench/. Off unless BENCH_VIEWS=1: only
# bench/status_page.sh sets it.
BENCH_VIEWS = env.bool("BENCH_VIEWS", default=False)

# Cash-on-delivery checkouts allowed per client address and per email address (django-ratelimit
# rates, e.g. "5/h"); card checkouts are not capped.
CHECKOUT_COD_RATE_PER_IP = env("CHECKOUT_COD_RATE_PER_IP", default="5/h")
CHECKOUT_COD_RATE_PER_EMAIL = env("CHECKOUT_COD_RATE_PER_EMAIL", default="3/h")

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

# --- Stock, loyalty and account security (issue 11) ----------------------------------------------
# A restock tells at most units × this many waiting back-in-stock subscribers (the rest next time).
BACK_IN_STOCK_FACTOR = env.int("BACK_IN_STOCK_FACTOR", default=3)
# Loyalty points per whole currency unit of a completed order, and the totals worth a message.
LOYALTY_POINTS_PER_UNIT = env.float("LOYALTY_POINTS_PER_UNIT", default=1.0)
LOYALTY_MILESTONES = [int(m) for m in env.list("LOYALTY_MILESTONES", default=["500", "1000", "2500", "5000"])]
# account.unusual_order: an order at least this multiple of the customer's median order (with at
# least UNUSUAL_ORDER_MIN_HISTORY earlier orders), or to a new shipping country.
UNUSUAL_ORDER_MULTIPLE = env.float("UNUSUAL_ORDER_MULTIPLE", default=3.0)
UNUSUAL_ORDER_MIN_HISTORY = env.int("UNUSUAL_ORDER_MIN_HISTORY", default=3)
# account.suspicious_login after this many failed sign-ins within 15 minutes.
SUSPICIOUS_FAILED_LOGINS = env.int("SUSPICIOUS_FAILED_LOGINS", default=5)
# Password reset links (Django's PASSWORD_RESET_TIMEOUT) expire after this many seconds.
PASSWORD_RESET_TIMEOUT = env.int("PASSWORD_RESET_TIMEOUT", default=3 * 24 * 3600)

# --- Privacy and operations (issue 16) -----------------------------------------------
# Kept in one block: the ops app (health, readiness, metrics, logs) and the privacy settings.
INSTALLED_APPS += ["ops"]
# First, so every log line of the request carries its request id.
MIDDLEWARE.insert(0, "ops.middleware.RequestContextMiddleware")

# Message bodies, contexts and provider payloads are redacted after this many days (the row, its
# status and its legal basis stay); carrier webhook payloads after their own period.
PRIVACY_RETENTION_DAYS = env.int("PRIVACY_RETENTION_DAYS", default=90)
CARRIER_WEBHOOK_RETENTION_DAYS = env.int("CARRIER_WEBHOOK_RETENTION_DAYS", default=PRIVACY_RETENTION_DAYS)
# "Download my data" links expire after this many hours (and the archive is deleted);
# "delete my account" confirmation links after theirs.
PRIVACY_EXPORT_LINK_HOURS = env.int("PRIVACY_EXPORT_LINK_HOURS", default=72)
PRIVACY_DELETION_LINK_HOURS = env.int("PRIVACY_DELETION_LINK_HOURS", default=24)
# Archives live outside MEDIA_ROOT (never served as media): a private directory, or any storage.
PRIVACY_EXPORT_ROOT = env("PRIVACY_EXPORT_ROOT", default=str(VAR_DIR / "exports"))
STORAGES["exports"] = {"BACKEND": "django.core.files.storage.FileSystemStorage",
                       "OPTIONS": {"location": PRIVACY_EXPORT_ROOT}}
CELERY_BEAT_SCHEDULE["privacy.redact-expired"] = {
    "task": "privacy.redact_expired",
    "schedule": 3600.0,
    "options": {"expire_seconds": 3600},
}

# Heartbeats: beat sends ops.heartbeat this often; a worker runs it. /readyz fails when either was
# last seen longer ago than OPS_HEARTBEAT_MAX_AGE seconds.
OPS_HEARTBEAT_SECONDS = env.int("OPS_HEARTBEAT_SECONDS", default=30)
OPS_HEARTBEAT_MAX_AGE = env.int("OPS_HEARTBEAT_MAX_AGE", default=120)
CELERY_BEAT_SCHEDULE["ops.heartbeat"] = {
    "task": "ops.heartbeat",
    "schedule": float(OPS_HEARTBEAT_SECONDS),
    "options": {"expire_seconds": OPS_HEARTBEAT_SECONDS},  # a stale heartbeat is dropped, not run late
}
# GET /metrics needs "Authorization: Bearer $METRICS_TOKEN"; without a token the endpoint is off (404).
METRICS_TOKEN = env("METRICS_TOKEN", default="")
# Broker queues whose depth /metrics reports.
OPS_METRICS_QUEUES = env.list("OPS_METRICS_QUEUES", default=[CELERY_TASK_DEFAULT_QUEUE])

# Logs: "plain" lines in development, one JSON object per line in production (LOG_FORMAT=json).
LOG_FORMAT = env("LOG_FORMAT", default="plain")
from ops.logs import logging_config  # noqa: E402

LOGGING = logging_config(LOG_FORMAT, env("LOG_LEVEL", default="INFO"))
if LOG_FORMAT == "json":
    CELERY_WORKER_HIJACK_ROOT_LOGGER = False  # the worker logs through LOGGING too
