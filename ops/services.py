"""Heartbeats and readiness checks (for /readyz and /metrics)."""
import datetime
import logging
import socket
import time

from django.conf import settings
from django.db import connection
from django.utils import timezone

from .models import Heartbeat

log = logging.getLogger(__name__)
BEAT, WORKER = "beat", "worker"


def heartbeat_record(*, name: str, at: datetime.datetime | None = None) -> None:
    at = at or timezone.now()
    Heartbeat.objects.update_or_create(name=name[:200], defaults={"last_seen": at})


def heartbeat_worker(*, hostname: str = "") -> None:
    """A worker ran ops.heartbeat: record "worker" (any worker) and this worker by name."""
    now = timezone.now()
    heartbeat_record(name=WORKER, at=now)
    heartbeat_record(name=f"{WORKER}:{hostname or socket.gethostname()}", at=now)


def heartbeat_ages(now=None) -> dict[str, float]:
    """Seconds since each process was last seen, by heartbeat name."""
    now = now or timezone.now()
    return {h.name: max(0.0, (now - h.last_seen).total_seconds()) for h in Heartbeat.objects.all()}


# --- readiness ---------------------------------------------------------------------------------

def check_database() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return ""


def check_broker(timeout: float = 1.0) -> str:
    from notify_site.celery import app

    with app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, interval_start=0, interval_step=0, timeout=timeout)
    return ""


def _check_heartbeat(name: str, what: str) -> str:
    seen = Heartbeat.objects.filter(name=name).values_list("last_seen", flat=True).first()
    max_age = settings.OPS_HEARTBEAT_MAX_AGE
    if seen is None:
        return f"no {what} heartbeat recorded yet"
    age = (timezone.now() - seen).total_seconds()
    if age > max_age:
        return f"{what} last seen {int(age)} s ago (more than {max_age} s)"
    return ""


def check_worker() -> str:
    return _check_heartbeat(WORKER, "worker")


def check_beat() -> str:
    return _check_heartbeat(BEAT, "beat")


CHECKS = {"database": check_database, "broker": check_broker, "worker": check_worker, "beat": check_beat}


def readiness() -> tuple[bool, dict]:
    """Run every check: (all ok, {check: {"ok": bool, "error": str, "ms": int}}). The heartbeat
    checks need the database, so they are reported as failed when it is down."""
    results = {}
    for name, check in CHECKS.items():
        started = time.perf_counter()
        try:
            error = check()
        except Exception as exc:
            error = f"{type(exc).__name__}: {exc}"[:300]
        results[name] = {"ok": not error, "ms": int((time.perf_counter() - started) * 1000)}
        if error:
            results[name]["error"] = error
    return all(r["ok"] for r in results.values()), results
