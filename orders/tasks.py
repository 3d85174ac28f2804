"""Celery tasks for orders: thin (ids in, a service call, nothing else)."""
from celery import shared_task


@shared_task(name="orders.poll_due_shipments", ignore_result=True)
def poll_due_shipments():
    """Beat, every minute: queue tracking polls for the shipments that are due."""
    from .carriers.polling import carrier_poll_dispatch

    return carrier_poll_dispatch()


@shared_task(name="orders.poll_shipment", ignore_result=True)
def poll_shipment(shipment_id: int):
    """Ask the shipment's carrier for news and record it (idempotent: checkpoints are stored once)."""
    from .carriers.polling import shipment_poll

    return shipment_poll(shipment_id=shipment_id)


@shared_task(name="orders.unpaid_orders_sweep", ignore_result=True)
def unpaid_orders_sweep():
    """Beat: remind unpaid card orders before their deadline and cancel them after it."""
    from .unpaid import unpaid_orders_sweep as sweep

    return sweep()


@shared_task(name="orders.sla_sweep", ignore_result=True)
def sla_sweep():
    """Beat: alert the sellers of orders past their shipping deadline, then platform staff."""
    from .sla import sla_sweep as sweep

    return sweep()


@shared_task(name="orders.demo_keep_moving", ignore_result=True)
def demo_keep_moving():
    """Beat, while DEMO_LIVE is on (`make run`): keep simulated parcels on their way."""
    from django.conf import settings

    if not settings.DEMO_LIVE:
        return []
    from .demo import demo_keep_moving as keep_moving

    return keep_moving()


@shared_task(name="orders.register_tracker", bind=True, ignore_result=True, max_retries=6)
def register_tracker(self, tracker_id: int):
    """Register a shipment with the tracking aggregator; retry a passing failure with backoff."""
    from .carriers.aggregators import aggregator_tracker_register
    from .carriers.base import CarrierUnavailable

    try:
        return aggregator_tracker_register(tracker_id=tracker_id)
    except CarrierUnavailable as exc:
        raise self.retry(exc=exc, countdown=min(3600, 60 * 2 ** self.request.retries)) from None


@shared_task(name="orders.poll_quiet_trackers", ignore_result=True)
def poll_quiet_trackers():
    """Beat: ask the aggregator about trackers whose webhooks have gone quiet."""
    from .carriers.aggregators import aggregator_poll_quiet

    return aggregator_poll_quiet()
