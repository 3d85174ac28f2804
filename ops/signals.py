"""Celery signal handlers (connected in OpsConfig.ready): the beat heartbeat, the log context of
a task, and the sweeper's work counters."""
import logging

from celery.signals import before_task_publish, task_postrun, task_prerun

from . import logs
from .counters import count

log = logging.getLogger(__name__)
_task_tokens: dict = {}


@before_task_publish.connect(dispatch_uid="ops.beat_heartbeat")
def _beat_publishing(sender=None, **kwargs):
    """Beat is the only publisher of ops.heartbeat: publishing it is beat's sign of life."""
    if sender != "ops.heartbeat":
        return
    try:
        from .services import BEAT, heartbeat_record

        heartbeat_record(name=BEAT)
    except Exception:
        log.warning("Could not record the beat heartbeat", exc_info=True)


@task_prerun.connect(dispatch_uid="ops.task_log_context")
def _bind_task_context(sender=None, task_id=None, task=None, args=None, kwargs=None, **extra):
    values = {"task_id": task_id}
    name = getattr(task, "name", "")
    if name == "notifications.deliver" and args:
        values["notification_id"] = args[0]
    elif name == "notifications.deliver_batch" and args:
        values["notification_id"] = ",".join(str(i) for i in args[0])[:200]
    _task_tokens[task_id] = logs.bind_values(**values)


@task_postrun.connect(dispatch_uid="ops.task_postrun")
def _task_finished(sender=None, task_id=None, task=None, retval=None, **extra):
    token = _task_tokens.pop(task_id, None)
    if token is not None:
        try:
            logs.unbind(token)
        except ValueError:  # bound in another context (eager task inside a request): let it be
            pass
    if getattr(task, "name", "") == "notifications.sweep_outbox" and isinstance(retval, dict):
        count("sweeper_runs")
        for key, value in retval.items():
            if isinstance(value, int) and value:
                count("sweeper_rows", value, action=key)
            elif isinstance(value, dict):  # rows in doubt, by how each was resolved
                for outcome, n in value.items():
                    if isinstance(n, int) and n:
                        count("sweeper_rows", n, action=f"{key}_{outcome}")
