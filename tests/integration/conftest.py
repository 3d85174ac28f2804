"""A real Celery worker process on the real Redis broker, sharing the test database."""
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from tests.services import redis_url, require_postgres

ROOT = Path(__file__).resolve().parents[2]


def _database_url_for_test_db() -> str:
    db = settings.DATABASES["default"]
    user = db.get("USER") or "postgres"
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    host = db.get("HOST") or "127.0.0.1"
    port = db.get("PORT") or 5432
    return f"postgres://{user}{password}@{host}:{port}/{connection.settings_dict['NAME']}"


@pytest.fixture
def celery_worker_process(transactional_db, tmp_path):
    """Start `celery worker` (2 prefork processes) on a private queue; yield (app, queue)."""
    broker = redis_url()
    require_postgres()
    queue = f"test-{uuid.uuid4().hex[:8]}"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "notify_site.settings.test",
        "DATABASE_URL": _database_url_for_test_db(),
        "CELERY_BROKER_URL": broker,
        "CELERY_RESULT_BACKEND": broker,
        "CELERY_TASK_ALWAYS_EAGER": "0",
        "CELERY_TASK_DEFAULT_QUEUE": queue,
        "PYTHONPATH": str(ROOT),
    }
    log = open(tmp_path / "worker.log", "w+")
    proc = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "notify_site", "worker", "-Q", queue, "-c", "2",
         "--without-mingle", "--without-gossip", "-l", "info", "-n", f"{queue}@%h"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    from notify_site.celery import app

    app.conf.broker_url = broker
    app.conf.result_backend = broker
    app.conf.task_always_eager = False
    app.conf.task_default_queue = queue
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            log.seek(0)
            if "ready." in log.read():
                break
            if proc.poll() is not None:
                log.seek(0)
                pytest.fail(f"celery worker exited early:\n{log.read()[-3000:]}")
            time.sleep(0.2)
        else:
            log.seek(0)
            pytest.fail(f"celery worker not ready in 60s:\n{log.read()[-3000:]}")
        yield app, queue
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        app.conf.task_always_eager = settings.CELERY_TASK_ALWAYS_EAGER
        app.conf.broker_url = settings.CELERY_BROKER_URL
        app.conf.result_backend = settings.CELERY_RESULT_BACKEND
        app.conf.task_default_queue = "celery"
        log.close()
