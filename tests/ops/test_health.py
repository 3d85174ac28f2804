"""/healthz and /readyz for a load balancer and an orchestrator; the heartbeats behind /readyz."""
import datetime
import time

import pytest
from celery.signals import before_task_publish

from ops.models import Heartbeat
from ops.tasks import heartbeat

pytestmark = pytest.mark.django_db


def _beat_publishes_heartbeat():
    """What beat's publish of ops.heartbeat fires in the beat process (kombu sends this signal)."""
    before_task_publish.send(sender="ops.heartbeat", body=((), {}, {}), exchange="", routing_key="celery",
                             headers={}, properties={}, declare=[], retry_policy=None)


def test_healthz_answers_without_touching_anything(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok"}
    assert response["X-Request-ID"]


def test_readyz_names_the_missing_heartbeats_then_passes_once_worker_and_beat_are_seen(
        client, memory_broker, frozen_clock):
    response = client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "fail" and body["failed"] == ["worker", "beat"]
    assert body["checks"]["database"]["ok"] and body["checks"]["broker"]["ok"]
    assert "no worker heartbeat" in body["checks"]["worker"]["error"]

    _beat_publishes_heartbeat()
    heartbeat.delay()  # eager: runs here, as a worker would
    assert {h.name for h in Heartbeat.objects.all()} >= {"beat", "worker"}
    assert any(h.name.startswith("worker:") for h in Heartbeat.objects.all())
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["status"] == "ok" and ready.json()["failed"] == []

    frozen_clock.shift(datetime.timedelta(seconds=121))
    heartbeat.delay()  # the worker is alive, beat went quiet
    stale = client.get("/readyz")
    assert stale.status_code == 503 and stale.json()["failed"] == ["beat"]
    assert "beat last seen 121 s ago" in stale.json()["checks"]["beat"]["error"]


def test_readyz_fails_fast_when_the_broker_is_unreachable(client, memory_broker):
    from notify_site.celery import app

    _beat_publishes_heartbeat()
    heartbeat.delay()
    app.conf.broker_url = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    started = time.monotonic()
    response = client.get("/readyz")
    assert time.monotonic() - started < 5
    assert response.status_code == 503 and response.json()["failed"] == ["broker"]
    assert response.json()["checks"]["broker"]["error"]


def test_readyz_reports_a_database_outage(client, memory_broker, monkeypatch):
    from ops import services

    def broken():
        from django.db import OperationalError

        raise OperationalError("connection to server at 127.0.0.1 refused")

    monkeypatch.setitem(services.CHECKS, "database", broken)
    response = client.get("/readyz")
    assert response.status_code == 503 and "database" in response.json()["failed"]
    assert "refused" in response.json()["checks"]["database"]["error"]


def test_beat_schedules_the_heartbeat(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["ops.heartbeat"]
    assert entry["task"] == "ops.heartbeat" and entry["schedule"] == settings.OPS_HEARTBEAT_SECONDS
