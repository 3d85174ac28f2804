"""Helpers for tests that need a live service: skip when it is absent, fail under REQUIRE_SERVICES=1."""
import os
import shutil
import socket
from urllib.parse import urlparse

import pytest
from django.conf import settings

REQUIRED = os.environ.get("REQUIRE_SERVICES") == "1"


def missing(what: str):
    if REQUIRED:
        pytest.fail(f"REQUIRE_SERVICES=1 but {what}")
    pytest.skip(what)


def redis_url() -> str:
    url = os.environ.get("REDIS_URL", "")
    if not url:
        missing("REDIS_URL is not set (no live Redis broker)")
    parsed = urlparse(url)
    try:
        socket.create_connection((parsed.hostname or "127.0.0.1", parsed.port or 6379), timeout=2).close()
    except OSError as exc:
        missing(f"Redis at {url} is unreachable: {exc}")
    return url


def require_postgres():
    if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
        missing("DATABASE_URL does not point at PostgreSQL")


def chromium_path() -> str:
    path = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
    if not os.path.exists(path):
        missing("no Chromium browser installed (apt-get install chromium)")
    return path


def amqp_url() -> str:
    """RabbitMQ (AMQP_URL, default the machine's guest account on 127.0.0.1:5672)."""
    url = os.environ.get("AMQP_URL", "amqp://guest:guest@127.0.0.1:5672//")
    parsed = urlparse(url)
    try:
        socket.create_connection((parsed.hostname or "127.0.0.1", parsed.port or 5672), timeout=2).close()
    except OSError as exc:
        missing(f"RabbitMQ at {url} is unreachable: {exc}")
    return url


def broker_url(kind: str) -> str:
    return amqp_url() if kind == "amqp" else redis_url()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def redis_server_binary() -> str:
    path = shutil.which("redis-server")
    if not path:
        missing("no redis-server binary to start a private Redis")
    return path
