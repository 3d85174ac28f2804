"""Celery tasks: thin. Ids in, a service call, a retry when the service says so.

Both delivery tasks are idempotent (a row that is not queued any more is left alone, so a
duplicate or redelivered message sends nothing), ack late and are re-queued if the worker dies.
A retry is a new message with a countdown (exponential backoff + jitter, at most 10 minutes, far
below the broker's visibility timeout); the attempt limit lives in PlatformSettings.max_attempts.
"""
from celery import shared_task

from .delivery import notification_deliver, notification_deliver_many, outbox_sweep

TASK_OPTIONS = {"acks_late": True, "reject_on_worker_lost": True, "ignore_result": True}


def _retry_later(notification_id: int, retries: int, countdown: float) -> None:
    deliver.apply_async(args=[notification_id], kwargs={"retries": retries}, countdown=countdown)


@shared_task(name="notifications.deliver", **TASK_OPTIONS)
def deliver(notification_id: int, retries: int = 0) -> str:
    """Deliver one Notification (retries and single rows)."""
    outcome = notification_deliver(notification_id=notification_id, retries=retries)
    if outcome.result == "retry":
        _retry_later(notification_id, retries + 1, outcome.countdown)
    return outcome.result


@shared_task(name="notifications.deliver_batch", **TASK_OPTIONS)
def deliver_batch(notification_ids: list[int]) -> dict:
    """Deliver the rows of one event together; a row that needs a retry continues on its own."""
    outcomes = notification_deliver_many(notification_ids=notification_ids)
    for pk, outcome in outcomes.items():
        if outcome.result == "retry":
            _retry_later(pk, 1, outcome.countdown)
    return {str(pk): o.result for pk, o in outcomes.items()}


@shared_task(name="notifications.sweep_outbox", acks_late=True, ignore_result=True)
def sweep_outbox() -> dict:
    """Beat, every minute: re-queue stuck / due outbox rows, fail rows lost mid-send."""
    return outbox_sweep()


@shared_task(name="notifications.digest_close_due", ignore_result=True)
def digest_close_due() -> dict:
    """Beat, every minute: send one digest per seller × channel for each window that has closed."""
    from .digest import digest_close_due as close

    return close()


@shared_task(name="notifications.stats_rollup", acks_late=True, ignore_result=True)
def stats_rollup() -> int:
    """Beat: rebuild the delivery statistics of the last few days (notifications/stats.py)."""
    from .stats import stats_rollup_recent

    return stats_rollup_recent()
