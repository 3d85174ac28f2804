"""Polling on the real stack: PostgreSQL row claims and a real Celery worker on Redis."""
import threading
import time
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from orders.carriers.polling import carrier_poll_dispatch
from orders.carriers.simulated import journey
from orders.models import OrderStatus, Shipment, TrackingEvent
from tests.factories import OrderFactory
from tests.integration.conftest import celery_worker_process  # noqa: F401  (fixture)
from tests.orders.carrier_helpers import ship
from tests.services import require_postgres

pytestmark = pytest.mark.services


@pytest.mark.django_db(transaction=True)
def test_concurrent_dispatches_never_claim_the_same_shipment(monkeypatch):
    require_postgres()
    from orders.tasks import poll_shipment

    queued = []
    lock = threading.Lock()

    def record(args, countdown):
        with lock:
            queued.append(args[0])

    monkeypatch.setattr(poll_shipment, "apply_async", record)
    ids = {ship(OrderFactory(), carrier="simulated", tracking_number=f"SM{i:09d}GB").pk for i in range(30)}
    barrier = threading.Barrier(3)

    def dispatch():
        try:
            barrier.wait()
            carrier_poll_dispatch()
        finally:
            connection.close()

    threads = [threading.Thread(target=dispatch) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert sorted(queued) == sorted(ids)  # every due shipment queued exactly once


def test_real_worker_polls_a_simulated_shipment_to_delivery(celery_worker_process):  # noqa: F811
    tn = "SM000000007GB"
    shipment = ship(OrderFactory(), carrier="simulated", tracking_number=tn)
    Shipment.objects.filter(pk=shipment.pk).update(shipped_at=timezone.now() - timedelta(minutes=30))

    assert carrier_poll_dispatch() == {"simulated": 1}  # autocommit: the task goes out at once

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        shipment.refresh_from_db()
        # The poll records the delivery, then (a moment later, same task) drops the parcel from polling.
        if shipment.status == "delivered" and shipment.next_poll_at is None:
            break
        time.sleep(0.3)
    assert shipment.status == "delivered"
    assert shipment.next_poll_at is None and shipment.last_polled_at is not None
    assert shipment.order.status == OrderStatus.COMPLETED
    assert TrackingEvent.objects.filter(shipment=shipment, source="simulated").count() == len(
        journey(tn, shipment.order.shipping_city))
