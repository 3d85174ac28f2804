"""Issue 9, item 10: the demo keeps a parcel moving for as long as it runs."""
import pytest
from django.test import override_settings

from orders.demo import demo_keep_moving
from orders.models import Order, Shipment, TrackingStatus
from orders.tasks import demo_keep_moving as demo_task
from tests.factories import CustomerFactory, ProductFactory, SellerFactory, StoreFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo_shop(db):
    store = StoreFactory()
    SellerFactory(store=store)
    ProductFactory(store=store, stock_on_hand=20)
    CustomerFactory(email="demo@example.com")
    return store


def test_when_every_parcel_is_delivered_a_new_order_is_placed_and_shipped(demo_shop, settings):
    settings.DEMO_PARCELS_IN_FLIGHT = 1
    done = demo_keep_moving()
    assert [d.split()[0] for d in done] == ["placed", "shipped"]
    shipment = Shipment.objects.get(carrier="simulated")
    assert shipment.order.status == "shipped"
    assert demo_keep_moving() == []  # one already in flight
    Shipment.objects.filter(pk=shipment.pk).update(status=TrackingStatus.DELIVERED)
    Order.objects.filter(pk=shipment.order_id).update(status="completed")
    assert len(demo_keep_moving()) == 2
    assert Shipment.objects.filter(carrier="simulated").count() == 2
    assert len(set(Shipment.objects.values_list("tracking_number", flat=True))) == 2


def test_beat_task_does_nothing_outside_the_demo(demo_shop):
    with override_settings(DEMO_LIVE=False):
        assert demo_task() == []
    assert not Shipment.objects.exists()
    with override_settings(DEMO_LIVE=True, DEMO_PARCELS_IN_FLIGHT=1):
        demo_task()
    assert Shipment.objects.count() == 1


def test_demo_is_on_the_beat_schedule(settings):
    assert settings.CELERY_BEAT_SCHEDULE["orders.demo-keep-moving"]["task"] == "orders.demo_keep_moving"


def test_sqlite_waits_for_the_write_lock_instead_of_failing(settings):
    from django.db import connection

    if connection.vendor != "sqlite":
        pytest.skip("SQLite only")
    options = settings.DATABASES["default"]["OPTIONS"]
    assert options["transaction_mode"] == "IMMEDIATE" and options["timeout"] >= 20
    assert "journal_mode=WAL" in options["init_command"]
