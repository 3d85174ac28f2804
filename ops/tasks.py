from celery import shared_task

from .services import heartbeat_worker


@shared_task(name="ops.heartbeat", bind=True, ignore_result=True)
def heartbeat(self) -> None:
    """Beat sends it every OPS_HEARTBEAT_SECONDS (recording beat as seen when it does, see
    ops.signals); the worker that runs it records itself."""
    heartbeat_worker(hostname=self.request.hostname or "")
