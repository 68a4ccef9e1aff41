"""mofsim settings: one module, driven only by the environment.

With no environment set, mofsim runs on the *embedded default*: SQLite and an embedded Redis
(broker + channel layer) under ``WORKDIR``. ``DATABASE_URL``, ``REDIS_URL`` / ``BROKER_URL`` and
the ``AWS_*`` variables switch to PostgreSQL, a Redis/RabbitMQ server and S3 storage without any
code path changing. Every variable read here is listed in ``.env.example``.
"""

import ipaddress
import os
import secrets
from datetime import timedelta
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

from mofsim_site import embedded_redis
from mofsim_site import logging as mofsim_logging
from mofsim_site.database_url import parse_database_url
from mofsim_site.env import env_bool, env_float, env_int, env_list, env_secret, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
WORKDIR = Path(env_str("WORKDIR", str(BASE_DIR / "var"))).resolve()
DATA_DIR = BASE_DIR / "data"  # files shipped with the repo (MOFSimBench structures + DFT data)

DEBUG = env_bool("DEBUG", False)
DATABASE_URL = env_str("DATABASE_URL")
EMBEDDED = not DATABASE_URL

SECRET_KEY = env_secret("SECRET_KEY")
if not SECRET_KEY:
    if not EMBEDDED:
        raise ImproperlyConfigured("SECRET_KEY (or SECRET_KEY_FILE) must be set outside the embedded default")
    # Embedded single-machine default: a random key kept under WORKDIR, never in the repo.
    key_file = WORKDIR / "secret_key"
    if not key_file.exists():
        WORKDIR.mkdir(parents=True, exist_ok=True)
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)  # never readable by others
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_urlsafe(50))
    SECRET_KEY = key_file.read_text().strip()

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
SITE_URL = env_str("SITE_URL", "http://localhost:8000")

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework_simplejwt",
    "rest_framework_simplejwt.token_blacklist",
    "axes",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI / Redoc assets served from STATIC, so API docs work offline
    "django_dramatiq",
    "channels",
    "mofsim_site.apps.MofsimSiteConfig",
    "structures_app",
    "models_app",
    "nodes_app",
    "tasks_app",
    "alerts_app",
]

MIDDLEWARE = [
    "mofsim_site.middleware.RequestIdMiddleware",
    "mofsim_site.middleware.BodyLimitMiddleware",
    "mofsim_site.logging.RequestLogMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",  # last, as django-axes requires: turns lockouts into 429s
]

ROOT_URLCONF = "mofsim_site.urls"
ASGI_APPLICATION = "mofsim_site.asgi.application"
WSGI_APPLICATION = "mofsim_site.wsgi.application"

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
            ],
        },
    },
]

# --- Database ---------------------------------------------------------------------------------
if DATABASE_URL:
    DATABASES = {"default": parse_database_url(DATABASE_URL)}
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": WORKDIR / "db.sqlite3",
            # Web process and workers write concurrently: WAL + immediate transactions avoid
            # "database is locked" on upgrade from read to write lock.
            "OPTIONS": {
                "timeout": 30,
                "transaction_mode": "IMMEDIATE",
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            },
            # File-based test DB: in-process Dramatiq workers and websocket tests need it.
            "TEST": {"NAME": str(WORKDIR / "test-db.sqlite3")},
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Broker, channel layer --------------------------------------------------------------------
REDIS_URL = env_str("REDIS_URL")
EMBEDDED_REDIS = not REDIS_URL
if EMBEDDED_REDIS:
    REDIS_URL = embedded_redis.url_for(WORKDIR)
BROKER_URL = env_str("BROKER_URL", REDIS_URL)  # amqp://… selects RabbitMQ for Dramatiq
REDIS_NAMESPACE = env_str("REDIS_NAMESPACE", "mofsim")

if BROKER_URL.startswith("amqp"):
    _broker = {"BROKER": "dramatiq.brokers.rabbitmq.RabbitmqBroker", "OPTIONS": {"url": BROKER_URL}}
else:
    _broker = {
        "BROKER": "mofsim_site.broker.RedisBroker",  # fetches the next message right after an ack
        # The GPU queue (tasks_app.tasks.QUEUE) never gets delayed messages: no delay queue, so a
        # GPU worker has no consumer thread polling one (mofsim_site.broker).
        "OPTIONS": {"url": BROKER_URL, "namespace": f"{REDIS_NAMESPACE}-dramatiq", "undelayed_queues": ("mofsim",)},
    }
# No django_dramatiq AdminMiddleware: it upserted a row per message (3 writes per task, 36 ms of a
# 55 ms wake-up send) into a table nothing reads — the Task rows are the record of the work.
DRAMATIQ_BROKER = {
    **_broker,
    "MIDDLEWARE": [
        "dramatiq.middleware.AgeLimit",
        "dramatiq.middleware.TimeLimit",
        "dramatiq.middleware.Callbacks",
        "dramatiq.middleware.Retries",
        "django_dramatiq.middleware.DbConnectionsMiddleware",
        "nodes_app.middleware.NodeMiddleware",
    ],
}
# A worker with prefetch 1 (one task at a time, as the launcher runs them) does not fetch while it
# computes, and each empty fetch doubles its sleep up to Dramatiq's worker timeout (1 s): after a
# 150 ms task it slept ~220 ms before claiming the next one, more than the task itself (issue 12,
# bench/throughput.py). Capping the idle poll keeps that gap short, for one Redis call per poll of
# an idle worker. Set here so every `rundramatiq` (which execs `dramatiq` with this environment)
# and the launcher's children inherit it; an explicit environment variable wins.
WORKER_IDLE_POLL_MS = env_int("WORKER_IDLE_POLL_MS", 20)
os.environ.setdefault("dramatiq_worker_timeout", str(WORKER_IDLE_POLL_MS))
DRAMATIQ_TASKS_DATABASE = "default"
# Across-task batching (docs/batching.md): a worker that claims a task the batched engine can
# share (single points of one model, engine "batched") also claims up to this many compatible
# QUEUED tasks in rank order and runs them in one forward pass, each keeping its own row, lease,
# log and result. 1 turns it off.
WORKER_CLAIM_BATCH = env_int("WORKER_CLAIM_BATCH", 16)
DRAMATIQ_AUTODISCOVER_MODULES = ["tasks", "callbacks"]  # tasks_app.callbacks: the callback actor

# The cache (DRF throttle counters) lives in Redis, so every web process shares one count.
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": f"{REDIS_NAMESPACE}-cache",
    }
}

CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        # redis-py >= 6 defaults socket_timeout to 5 s, the same as channels_redis' blocking
        # BZPOPMIN (brpop_timeout = 5), so every idle websocket consumer died with "Timeout
        # reading from ..." and browsers kept reconnecting. Reads must outlast the block.
        "CONFIG": {"hosts": [{"address": REDIS_URL, "socket_timeout": 30}], "prefix": f"{REDIS_NAMESPACE}-channels"},
    }
}

# --- Auth ---------------------------------------------------------------------------------------
# Login brute force (django-axes) on every login path — API JWT login, /accounts/login/,
# /admin/login/: failures are counted in the database (shared by all processes and machines),
# per client address and per username; LOGIN_FAILURE_LIMIT failures lock out for
# LOGIN_LOCKOUT_MINUTES. The client address trusts X-Forwarded-For only from TRUSTED_PROXY_COUNT
# proxies (mofsim_site.client_ip); 0 = REMOTE_ADDR only.
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
AXES_HANDLER = "axes.handlers.database.AxesDatabaseHandler"
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("LOGIN_LOCKOUT_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = ["ip_address", "username"]
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "mofsim_site.client_ip.client_ip"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "tasks_app:task_list"
LOGOUT_REDIRECT_URL = "login"

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "mofsim_site.credentials.VersionedJWTAuthentication",
        "mofsim_site.credentials.PersonalTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PARSER_CLASSES": [
        "mofsim_site.api.parsers.BoundedJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_PAGINATION_CLASS": "mofsim_site.api.pagination.OrderedPageNumberPagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "mofsim_site.api.errors.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "mofsim_site.api.schema.ErrorAutoSchema",
    "DEFAULT_THROTTLE_RATES": {"login": env_str("LOGIN_THROTTLE", "20/min")},
    "NUM_PROXIES": TRUSTED_PROXY_COUNT,  # without it DRF keys throttles on the client's X-Forwarded-For
}
# Refresh tokens rotate and the used one is blacklisted; logout blacklists too; a password change
# invalidates every token of the user (mofsim_site.credentials).
SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=15),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=7),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "TOKEN_OBTAIN_SERIALIZER": "mofsim_site.credentials.LoginSerializer",
    "TOKEN_REFRESH_SERIALIZER": "mofsim_site.credentials.RefreshSerializer",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "mofsim API",
    "DESCRIPTION": "Submit MLIP simulations of MOFs, watch them, fetch archived results.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    # Separate request components, so upload fields are "format: binary" (not a response URI).
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "ENUM_NAME_OVERRIDES": {
        "TaskStatusEnum": "tasks_app.choices.TaskStatus",
        "NodeStatusEnum": "nodes_app.choices.NodeStatus",
        "ValidationStatusEnum": "models_app.choices.ValidationStatus",
    },
    # + the SSE log stream, a plain async view drf-spectacular cannot introspect
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "tasks_app.api.stream_schema.add_stream_path",
    ],
}

# --- Files --------------------------------------------------------------------------------------
STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = WORKDIR / "static"
STORAGES = {
    "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(WORKDIR)},
    },
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
if env_str("AWS_STORAGE_BUCKET_NAME"):
    # Artifacts are archived to S3-compatible storage; workers still compute under WORKDIR.
    STORAGES["default"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": env_str("AWS_STORAGE_BUCKET_NAME"),
            "endpoint_url": env_str("AWS_S3_ENDPOINT_URL") or None,
            "access_key": env_secret("AWS_ACCESS_KEY_ID"),
            "secret_key": env_secret("AWS_SECRET_ACCESS_KEY"),
            "location": env_str("AWS_LOCATION", "mofsim"),
        },
    }
# Uploads never sit in memory: anything over 1 MiB streams to a temp file under WORKDIR.
FILE_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024
FILE_UPLOAD_TEMP_DIR = str(WORKDIR / "tmp")
FILE_UPLOAD_HANDLERS = [
    "mofsim_site.files.LimitedUploadHandler",  # stops an upload at its URL's limit while streaming
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]
STRUCTURE_UPLOAD_MAX_BYTES = env_int("STRUCTURE_UPLOAD_MAX_BYTES", 20 * 1024 * 1024)
MODEL_UPLOAD_MAX_BYTES = env_int("MODEL_UPLOAD_MAX_BYTES", 1024 * 1024 * 1024)
# Model files are converted in bubblewrap (models_app.sandbox). Without bwrap they are refused,
# unless this is set on a trusted dev box: then the converter runs unsandboxed.
MODEL_SANDBOX_UNSAFE = env_bool("MODEL_SANDBOX_UNSAFE", False)
DATASET_UPLOAD_MAX_BYTES = env_int("DATASET_UPLOAD_MAX_BYTES", 2 * 1024 * 1024 * 1024)
# Uploaded structures and datasets are parsed in a child process under these limits
# (mofsim_site.limited), never in the web process's memory.
PARSE_MAX_MEMORY_MB = env_int("PARSE_MAX_MEMORY_MB", 1024)
PARSE_MAX_CPU_S = env_int("PARSE_MAX_CPU_S", 60)
PARSE_TIMEOUT_S = env_int("PARSE_TIMEOUT_S", 90)
PARSE_MAX_OUTPUT_BYTES = env_int("PARSE_MAX_OUTPUT_BYTES", 2 * 1024 * 1024 * 1024)
DATASET_IMPORT_MAX_ROWS = env_int("DATASET_IMPORT_MAX_ROWS", 500_000)  # rows one SQLite import may select
# What an uploaded structure may be (structures_app.parsers.StructureLimits).
STRUCTURE_MAX_ATOMS = env_int("STRUCTURE_MAX_ATOMS", 20_000)
STRUCTURE_MIN_DISTANCE_A = env_float("STRUCTURE_MIN_DISTANCE_A", 0.5)
STRUCTURE_MAX_CELL_LENGTH_A = env_float("STRUCTURE_MAX_CELL_LENGTH_A", 500.0)
STRUCTURE_MIN_DENSITY_G_CM3 = env_float("STRUCTURE_MIN_DENSITY_G_CM3", 1e-4)
STRUCTURE_MAX_DENSITY_G_CM3 = env_float("STRUCTURE_MAX_DENSITY_G_CM3", 30.0)
# Training jobs (models_app.training): signed data-URL lifetime, worker scratch dirs kept, artifact size cap.
TRAINING_DATA_URL_MAX_AGE_S = env_int("TRAINING_DATA_URL_MAX_AGE_S", 3600)
TRAINING_SCRATCH_DIR = Path(env_str("TRAINING_SCRATCH_DIR", str(WORKDIR / "tmp" / "training"))).resolve()
TRAINING_KEEP_JOB_DIRS = env_int("TRAINING_KEEP_JOB_DIRS", 3)
TRAINING_ARTIFACT_MAX_BYTES = env_int("TRAINING_ARTIFACT_MAX_BYTES", 2 * 1024 * 1024 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024

# --- Workers, nodes, tasks ----------------------------------------------------------------------
NODE_HEARTBEAT_INTERVAL_S = env_int("NODE_HEARTBEAT_INTERVAL_S", 30)
NODE_OFFLINE_AFTER_S = env_int("NODE_OFFLINE_AFTER_S", 90)
TASK_TIME_LIMIT_S = env_int("TASK_TIME_LIMIT_S", 48 * 3600)
TASK_BATCH_MAX = env_int("TASK_BATCH_MAX", 1000)  # tasks per POST /api/v1/tasks/batch
# Normal users: time limits above TASK_TIME_LIMIT_S and priority above NORMAL are for staff, and
# at most this many tasks pending/queued/assigned/running at once (tasks_app.policy; staff exempt).
USER_MAX_ACTIVE_TASKS = env_int("USER_MAX_ACTIVE_TASKS", 200)
TASK_MAX_ATTEMPTS = env_int("TASK_MAX_ATTEMPTS", 3)
TASK_REQUEUE_AFTER_S = env_int("TASK_REQUEUE_AFTER_S", 30)
# Per-attempt leases (docs/reliability.md): a running attempt's lease keeper renews its lease and
# looks for cancel/fail-over every TASK_LEASE_POLL_S; a lease not renewed for TASK_LEASE_TTL_S is
# failed over by housekeeping, whatever the node's heartbeat says.
TASK_LEASE_TTL_S = env_int("TASK_LEASE_TTL_S", 60)
TASK_LEASE_POLL_S = env_float("TASK_LEASE_POLL_S", 0.5)
# A task queued longer than this shows why it waits (no node online, all busy, model disabled).
TASK_WAIT_EXPLAIN_AFTER_S = env_int("TASK_WAIT_EXPLAIN_AFTER_S", 10)
HOUSEKEEPING_INTERVAL_S = env_float("HOUSEKEEPING_INTERVAL_S", 15.0)
# One housekeeping pass is bounded whatever the backlog (docs/operations.md "Housekeeping"): each
# step stops at its row limit or when the pass has used HOUSEKEEPING_PASS_BUDGET_S; the rest waits
# for the next pass. At most HOUSEKEEPING_RESEND_MAX wake-ups are re-sent a pass (never more than
# the broker is missing), and rows are deleted HOUSEKEEPING_BATCH_ROWS at a time.
HOUSEKEEPING_PASS_BUDGET_S = env_float("HOUSEKEEPING_PASS_BUDGET_S", 5.0)
HOUSEKEEPING_RESEND_MAX = env_int("HOUSEKEEPING_RESEND_MAX", 500)
HOUSEKEEPING_BATCH_ROWS = env_int("HOUSEKEEPING_BATCH_ROWS", 1000)
# Row retention (tasks_app.retention): log lines, metric points, attempt history and callback
# deliveries of tasks finished more than TASK_ROW_RETENTION_DAYS ago are deleted (the task row and
# its result stay; task.log and metrics.json stay among the artifacts); 0 keeps them forever.
# Artifacts (files and rows) of tasks finished more than TASK_ARTIFACT_RETENTION_DAYS ago; 0 keeps.
# Finished Dramatiq message rows (django_dramatiq's admin table) older than DRAMATIQ_MESSAGE_RETENTION_S.
TASK_ROW_RETENTION_DAYS = env_int("TASK_ROW_RETENTION_DAYS", 30)
TASK_ARTIFACT_RETENTION_DAYS = env_int("TASK_ARTIFACT_RETENTION_DAYS", 0)
DRAMATIQ_MESSAGE_RETENTION_S = env_int("DRAMATIQ_MESSAGE_RETENTION_S", 3600)
WORKER_GPUS = env_list("WORKER_GPUS")  # empty = detect with torch.cuda at launch
# Worker groups (docs/models.md, "Environments"): a JSON list of {"name", "python", "families",
# "gpus"} — extra workers started by run_gpu_workers from another environment (venv/container
# interpreter), offering only the listed model families. Empty = one group: this interpreter.
WORKER_GROUPS = env_str("WORKER_GROUPS")
# Remote nodes (MOFSIM_SERVER_URL set) delete their least recently used downloaded inputs beyond this.
NODE_CACHE_MAX_BYTES = env_int("NODE_CACHE_MAX_BYTES", 50 * 1024**3)

# --- Alerts -------------------------------------------------------------------------------------
EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "mofsim@localhost")
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_secret("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
WEBHOOK_ALLOW_PRIVATE = env_bool("WEBHOOK_ALLOW_PRIVATE", False)
# --- Operations (issue 14): health deadline, /metrics access, structured logs --------------------
HEALTH_CHECK_TIMEOUT_S = env_float("HEALTH_CHECK_TIMEOUT_S", 3.0)
# Server-sent log streams (tasks_app.api.stream): database poll period, lifetime of one stream.
SSE_POLL_S = env_float("SSE_POLL_S", 0.5)
SSE_MAX_SECONDS = env_int("SSE_MAX_SECONDS", 3600)
# /metrics (mofsim_site.metrics): a bearer token and/or client networks; neither set = always 403.
METRICS_TOKEN = env_secret("METRICS_TOKEN")
METRICS_ALLOWED_NETS = [str(ipaddress.ip_network(n, strict=False)) for n in env_list("METRICS_ALLOWED_NETS")]
# Per-task callbacks (tasks_app.callbacks): attempts per event, first retry delay (doubles).
CALLBACK_MAX_ATTEMPTS = env_int("CALLBACK_MAX_ATTEMPTS", 5)
CALLBACK_RETRY_BASE_S = env_float("CALLBACK_RETRY_BASE_S", 10.0)

# --- i18n, security -----------------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
X_FRAME_OPTIONS = "DENY"
# Behind HTTPS (docs/operations.md, "Production settings"): `manage.py check --deploy` is clean
# with these set as documented.
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", False)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
if env_bool("TRUST_X_FORWARDED_PROTO", False):  # only behind a proxy that sets it
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact": {"()": "mofsim_site.log_redaction.RedactSignedUrls"}},
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["redact"]}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # Access logs (runserver, daphne) go through the same redacting handler.
        "django.server": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "django.channels.server": {"handlers": ["console"], "level": "INFO", "propagate": False},
    },
}
# Structured logs, request/task context, daily rotation (mofsim_site.logging; docs/operations.md).
LOG_FORMAT = env_str("LOG_FORMAT", "plain")
LOG_FILE = env_str("LOG_FILE")
LOG_DIR = env_str("LOG_DIR") or (str(WORKDIR / "logs") if LOG_FILE else "")
LOGGING = mofsim_logging.configure(
    LOGGING, fmt=LOG_FORMAT, log_file=LOG_FILE, log_dir=LOG_DIR, backup_days=env_int("LOG_BACKUP_DAYS", 30),
    log_requests=env_bool("LOG_REQUESTS", LOG_FORMAT == "json"),
)  # fmt: skip
