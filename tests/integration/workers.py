"""Start, stop and kill real Celery worker processes for the integration and fault tests."""
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]


def database_url_for_test_db() -> str:
    db = settings.DATABASES["default"]
    user = db.get("USER") or "postgres"
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    host = db.get("HOST") or "127.0.0.1"
    port = db.get("PORT") or 5432
    return f"postgres://{user}{password}@{host}:{port}/{connection.settings_dict['NAME']}"


class Worker:
    """``celery worker`` in its own process group (so the whole group can be signalled, as
    systemd and honcho do). ``supervised=True`` runs it under bin/supervise."""

    def __init__(self, *, broker: str, queue: str, log_path: Path, concurrency: int = 2, env: dict | None = None,
                 supervised: bool = False):
        self.log_path = log_path
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "notify_site.settings.test",
            "DATABASE_URL": database_url_for_test_db(),
            "CELERY_BROKER_URL": broker,
            "CELERY_RESULT_BACKEND": "cache+memory://",
            "CELERY_TASK_ALWAYS_EAGER": "0",
            "CELERY_TASK_DEFAULT_QUEUE": queue,
            "PYTHONPATH": str(ROOT),
            **(env or {}),
        }
        command = [sys.executable, "-m", "celery", "-A", "notify_site", "worker", "-Q", queue,
                   "-c", str(concurrency), "--without-mingle", "--without-gossip", "-l", "info",
                   "-n", f"{queue}-{time.monotonic_ns()}@%h"]
        if supervised:
            command = [str(ROOT / "bin" / "supervise"), *command]
        self.command = command
        self.proc = None

    def start(self, timeout: float = 60.0) -> "Worker":
        self._log = open(self.log_path, "a+")
        start_at = self._log.tell()
        self.proc = subprocess.Popen(self.command, cwd=ROOT, env=self.env, stdout=self._log, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self._log.seek(start_at)
            if "ready." in self._log.read():
                return self
            if self.proc.poll() is not None:
                pytest.fail(f"celery worker exited early:\n{self.log_tail()}")
            time.sleep(0.2)
        pytest.fail(f"celery worker not ready in {timeout:.0f}s:\n{self.log_tail()}")

    def log_tail(self, chars: int = 4000) -> str:
        return self.log_path.read_text()[-chars:] if self.log_path.exists() else ""

    def signal_group(self, sig) -> None:
        os.killpg(self.proc.pid, sig)

    def kill(self) -> None:
        """kill -9 the parent and every pool child at once."""
        try:
            self.signal_group(signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait(timeout=10)

    def stop(self, timeout: float = 30.0) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        try:
            self.proc.terminate()
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
        except ProcessLookupError:
            pass
        finally:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)  # nothing of it outlives the test
            except (ProcessLookupError, PermissionError):
                pass
            self._log.close()


def point_app_at(broker: str, queue: str):
    """Make this (test) process publish to ``broker`` / ``queue``; returns a function restoring it."""
    from notify_site.celery import app

    saved = (app.conf.broker_url, app.conf.result_backend, app.conf.task_always_eager, app.conf.task_default_queue)
    app.conf.broker_url = broker
    app.conf.result_backend = "cache+memory://"
    app.conf.task_always_eager = False
    app.conf.task_default_queue = queue
    _drop_connections(app)

    def restore():
        app.conf.broker_url, app.conf.result_backend, app.conf.task_always_eager, app.conf.task_default_queue = saved
        _drop_connections(app)

    return restore


def _drop_connections(app):
    """Forget pooled broker connections (they belong to the previous broker URL)."""
    from kombu import pools

    pools.reset()  # kombu's process-wide pools are keyed by connection and unusable once closed
    app._pool = None
    app.amqp._producer_pool = None
