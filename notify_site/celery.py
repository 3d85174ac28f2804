import os

from celery import Celery
from celery.signals import task_prerun, worker_process_init
from kombu.transport import TRANSPORT_ALIASES

# The embedded broker ("filesystem://") writes whole message files only (see notify_site.broker).
TRANSPORT_ALIASES["filesystem"] = "notify_site.broker:FilesystemTransport"
# Redis: kombu's transport with one redis-py client per channel instead of one per publish or ack.
TRANSPORT_ALIASES["redis"] = TRANSPORT_ALIASES["rediss"] = "notify_site.broker:RedisTransport"

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "notify_site.settings.local")

app = Celery("notify_site")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@task_prerun.connect
def _close_old_db_connections(sender=None, **kwargs):
    """Per task what Django does per request: drop a connection that broke or outlived
    CONN_MAX_AGE (connections are otherwise kept across tasks: CELERY_DB_REUSE_MAX)."""
    if not getattr(getattr(sender, "request", None), "is_eager", False):
        from django.db import close_old_connections

        close_old_connections()


@worker_process_init.connect
def _pool_children_finish_their_task_on_sigterm(**kwargs):
    """systemd (KillMode=control-group) and honcho signal the whole process group. A prefork child
    would die mid-send on SIGTERM; ignoring it lets the parent's warm shutdown wait for the task
    in hand and then close the pool. A second signal (cold shutdown) or SIGKILL still stops them."""
    import signal

    signal.signal(signal.SIGTERM, signal.SIG_IGN)


@app.task(name="notify_site.ping")
def ping(value=None):
    """A no-op task: the liveness check and the benchmark baseline."""
    return value
