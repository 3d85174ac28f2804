"""Celery tasks for promotions: thin, idempotent, safe to run twice.

- ``marketing.fanout``: write a send's rows a chunk at a time (fanout.fanout_run), handing over to
  a fresh task every RUN_BUDGET_SECONDS.
- ``marketing.pump``: once a second while a promotion is sending, release a tick's worth of rows
  per channel at the configured rate (pacing.py).
- ``marketing.count_audience``: the audience size shown on the progress page.
- ``marketing.tick`` (beat): start scheduled promotions, restart a stalled fan-out, restart a pump
  that stopped ticking (a killed worker).
"""
from celery import shared_task
from django.core.cache import cache
from django.utils import timezone

TASK_OPTIONS = {"acks_late": True, "reject_on_worker_lost": True, "ignore_result": True}
PUMP_ALIVE_KEY = "marketing:pump-alive:{}"


@shared_task(name="marketing.fanout", **TASK_OPTIONS)
def fanout_task(fanout_id: int) -> str:
    from .fanout import fanout_run

    result = fanout_run(fanout_id)
    if result == "continue":
        fanout_task.delay(fanout_id)
    return result


@shared_task(name="marketing.count_audience", ignore_result=True)
def count_audience(promotion_id: int) -> int:
    from . import audience
    from .models import FanOut, Promotion

    promotion = Promotion.objects.get(pk=promotion_id)
    total = sum(audience.count(channel) for channel in promotion.channels)
    FanOut.objects.filter(source=FanOut.Source.PROMOTION, source_id=promotion_id).update(audience=total)
    return total


@shared_task(name="marketing.pump", ignore_result=True)
def pump(promotion_id: int) -> str:
    """One tick, then the next one a second later (one chain per promotion: a run whose id is not
    the one the chain expects is a duplicate and stops)."""
    from django.conf import settings

    from .models import Promotion
    from .pacing import TICK_SECONDS, pump_once
    from .services import promotion_finish_if_sent

    alive = PUMP_ALIVE_KEY.format(promotion_id)
    expected = cache.get(alive)
    if expected is not None and pump.request.id is not None and expected != pump.request.id:
        return "duplicate"
    promotion = Promotion.objects.filter(pk=promotion_id).first()
    if promotion is None or promotion.status != Promotion.Status.SENDING:
        cache.delete(alive)
        return "stopped"
    released = pump_once(promotion)
    if not any(released.values()) and promotion_finish_if_sent(promotion):
        cache.delete(alive)
        return "sent"
    if getattr(settings, "CELERY_TASK_ALWAYS_EAGER", False):
        return "ticked"  # tests drive the ticks themselves
    from celery import uuid

    next_id = uuid()
    cache.set(alive, next_id, timeout=int(TICK_SECONDS * 10))
    pump.apply_async(args=[promotion_id], countdown=TICK_SECONDS, task_id=next_id)
    return "ticking"


@shared_task(name="marketing.tick", acks_late=True, ignore_result=True)
def tick() -> dict:
    from .fanout import stalled_fanouts
    from .models import Promotion
    from .services import promotion_launch

    now = timezone.now()
    launched = 0
    for promotion in Promotion.objects.filter(status=Promotion.Status.SCHEDULED, launch_at__lte=now):
        promotion_launch(promotion=promotion)
        launched += 1
    restarted = 0
    for fanout in stalled_fanouts(now):
        fanout_task.delay(fanout.pk)
        restarted += 1
    pumps = 0
    for pk in Promotion.objects.filter(status=Promotion.Status.SENDING).values_list("pk", flat=True):
        if cache.get(PUMP_ALIVE_KEY.format(pk)) is None:
            pump.delay(pk)
            pumps += 1
    return {"launched": launched, "fanouts": restarted, "pumps": pumps}
