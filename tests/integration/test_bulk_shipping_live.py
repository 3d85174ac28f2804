"""Bulk shipping by CSV with a real Celery worker on Redis: the upload's progress advances chunk
by chunk to done, every good line ships once and each customer's "shipped" message is written."""
import time
import uuid

import pytest

from notifications.models import Notification
from orders.models import Order, OrderStatus, Shipment
from seller.bulk_shipping import shipment_upload_create
from seller.models import ShipmentUpload
from tests.factories import OrderFactory, ProductFactory, SellerFactory
from tests.services import broker_url, require_postgres

from .workers import Worker, point_app_at


@pytest.mark.services
def test_a_live_worker_ships_the_upload_in_chunks(transactional_db, tmp_path):
    require_postgres()
    broker = broker_url("redis")
    queue = f"test-bulk-{uuid.uuid4().hex[:8]}"
    worker = Worker(broker=broker, queue=queue, log_path=tmp_path / "worker.log",
                    env={"SHIPMENT_UPLOAD_CHUNK": "2"})
    restore = point_app_at(broker, queue)
    seller = SellerFactory()
    product = ProductFactory(store=seller.store)
    orders = [OrderFactory(store=seller.store, lines=[(product, 1)]) for _ in range(7)]
    Order.objects.filter(pk__in=[o.pk for o in orders]).update(status=OrderStatus.PROCESSING)
    data = ("order_number,carrier,tracking_number\n"
            + "".join(f"{o.number},dpd,DPD{i:07d}\n" for i, o in enumerate(orders))
            + "NS-ZZZZ-ZZZZ,dpd,DPD9999999\n").encode()
    try:
        worker.start()
        upload, created = shipment_upload_create(store=seller.store, user=seller, file_name="live.csv", data=data)
        assert created
        seen, deadline = [], time.monotonic() + 60
        while time.monotonic() < deadline:
            upload.refresh_from_db()
            if not seen or seen[-1] != upload.processed_rows:
                seen.append(upload.processed_rows)
            if upload.status == ShipmentUpload.Status.DONE:
                break
            time.sleep(0.05)
        else:
            pytest.fail(f"upload not done: {upload.processed_rows}/{upload.total_rows}\n{worker.log_tail()}")
    finally:
        worker.stop()
        restore()
    assert (upload.total_rows, upload.shipped_rows, upload.error_rows) == (8, 7, 1)
    assert seen == sorted(seen) and seen[-1] == 8
    assert Shipment.objects.filter(order__in=orders).count() == 7
    assert Notification.objects.filter(event="order.shipped", audience="customer", channel="email",
                                       order__in=orders).count() == 7
