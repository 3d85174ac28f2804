"""Heartbeats end to end: a real beat process publishes ops.heartbeat through Redis, a real worker
runs it, /readyz turns ready; stop beat and /readyz names it."""
import os
import subprocess
import sys
import time

import pytest

from ops.models import Heartbeat
from tests.integration.workers import ROOT
from tests.integration.workers import database_url_for_test_db as _database_url_for_test_db


@pytest.fixture
def beat_process(celery_worker_process, tmp_path):
    app, queue = celery_worker_process
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "notify_site.settings.test",
           "DATABASE_URL": _database_url_for_test_db(), "CELERY_BROKER_URL": app.conf.broker_url,
           "CELERY_TASK_ALWAYS_EAGER": "0", "CELERY_TASK_DEFAULT_QUEUE": queue, "OPS_HEARTBEAT_SECONDS": "1",
           "CELERY_MAINTENANCE_QUEUE": queue,  # the heartbeat rides the maintenance queue
           "PYTHONPATH": str(ROOT)}
    log = open(tmp_path / "beat.log", "w+")
    proc = subprocess.Popen([sys.executable, "-m", "celery", "-A", "notify_site", "beat", "-l", "info",
                             "--scheduler", "django_celery_beat.schedulers:DatabaseScheduler",
                             "-s", str(tmp_path / "beat-schedule")],
                            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        yield proc, log
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
        log.close()


def _wait_for(predicate, seconds, log):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.3)
    log.seek(0)
    pytest.fail(f"not reached in {seconds}s; beat log:\n{log.read()[-3000:]}")


def test_real_worker_and_beat_make_readyz_ready_and_a_stopped_beat_shows(beat_process, client, settings):
    proc, log = beat_process
    _wait_for(lambda: {"beat", "worker"} <= set(Heartbeat.objects.values_list("name", flat=True)), 45, log)
    response = client.get("/readyz")
    assert response.status_code == 200, response.json()
    assert any(name.startswith("worker:") for name in Heartbeat.objects.values_list("name", flat=True))

    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:  # a beat stuck in a broker call on a loaded machine: stopped is stopped
        proc.kill()
        proc.wait(timeout=10)
    settings.OPS_HEARTBEAT_MAX_AGE = 3
    time.sleep(4)
    stale = client.get("/readyz")
    # No beat, no heartbeat task: the worker goes quiet too (it is alive, but nothing proves it).
    assert stale.status_code == 503 and stale.json()["failed"] == ["worker", "beat"]
    assert stale.json()["checks"]["broker"]["ok"] and stale.json()["checks"]["database"]["ok"]
    assert "beat last seen" in stale.json()["checks"]["beat"]["error"]
