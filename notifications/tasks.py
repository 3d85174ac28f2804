"""Celery tasks: thin. Ids in, a service call, retry on what the service says."""
from celery import shared_task

from .delivery import notification_deliver, outbox_sweep


@shared_task(bind=True, name="notifications.deliver", acks_late=True, reject_on_worker_lost=True,
             max_retries=None, ignore_result=True)
def deliver(self, notification_id: int) -> str:
    """Deliver one Notification. Idempotent: a row that is not queued any more is left alone,
    so a duplicate or redelivered message sends nothing. The retry limit lives in the service
    (PlatformSettings.max_attempts), the countdown is bounded far below the visibility timeout."""
    outcome = notification_deliver(notification_id=notification_id, retries=self.request.retries)
    if outcome.result == "retry":
        raise self.retry(countdown=outcome.countdown)
    return outcome.result


@shared_task(name="notifications.sweep_outbox", acks_late=True, ignore_result=True)
def sweep_outbox() -> dict:
    """Beat, every minute: re-queue stuck / due outbox rows, fail rows lost mid-send."""
    return outbox_sweep()
