"""What an order change costs the request that makes it (issue 11: the outbox is no slower).

The queries of one change are a fixed handful: they must not grow with the number of recipients
or channels (rows are written by one INSERT), and shipping reuses the order it locked instead of
reading it again. bench/producer.py measures the same thing on PostgreSQL.
"""
import datetime
from unittest import mock

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from notifications.models import Notification, QuietHours, SellerNotificationSetting
from notifications.outbox import notification_enqueue
from orders.models import OrderEvent
from orders.services import shipment_create
from tests.factories import CustomerFactory, OrderFactory, SellerFactory

pytestmark = pytest.mark.django_db

# shipment_create with its outbox rows, inside the test's transaction (so its own atomic blocks are
# savepoints): lock with the store, switches, customer and quiet hours (1); shipment (1); both
# timeline rows in one INSERT (1); the order's ETA and status in one UPDATE (1); no webhook endpoint query (the store,
# read with the lock, has none: Store.webhook_events); the platform event setting, platform
# settings and store note, and on PostgreSQL in the same statement the order's lines, its latest
# payment and whether the customer has a browser subscribed to push (1; on SQLite those are 3
# more: lines, payment, and push for a customer with an account); the SMS numbers' count for the
# daily cap (1); the rows (1); savepoint and release (2).
SHIP_QUERIES_POSTGRESQL = 9
SHIP_QUERIES = SHIP_QUERIES_POSTGRESQL if connection.vendor == "postgresql" else SHIP_QUERIES_POSTGRESQL + 3


def _ship(order, n: int):
    with mock.patch("notifications.outbox.dispatch"), CaptureQueriesContext(connection) as ctx:
        shipment_create(order=order, carrier="royalmail", carrier_name="Royal Mail", tracking_number=f"RM{n:09d}GB",
                        eta=datetime.date(2030, 1, 20))
    return ctx


def _sms_customer():
    customer = CustomerFactory(sms_opt_in=True, time_zone="America/New_York")
    QuietHours.objects.create(user=customer, enabled=False)
    return customer


def test_shipping_costs_the_same_queries_for_one_row_as_for_three(product):
    guest = OrderFactory(customer=None, phone="", store=product.store, lines=[(product, 1)], status="processing")
    member = OrderFactory(customer=_sms_customer(), sms_opt_in=True, store=product.store, lines=[(product, 2)],
                          status="processing")

    one = _ship(guest, 1)
    three = _ship(member, 2)

    assert Notification.objects.filter(order=guest, event="order.shipped").count() == 1  # email
    assert sorted(Notification.objects.filter(order=member, event="order.shipped")
                  .values_list("channel", flat=True)) == ["email", "inapp", "sms"]
    assert len(three) == SHIP_QUERIES, "\n".join(q["sql"][:120] for q in three.captured_queries)
    # A guest with no SMS number: no daily-cap count (and on SQLite no push look-up).
    assert len(one) == SHIP_QUERIES - (1 if connection.vendor == "postgresql" else 2)
    # The order is read once (the lock); the timeline rows are one INSERT, the outbox rows another.
    assert sum(q["sql"].startswith('INSERT INTO "orders_orderevent"') for q in three.captured_queries) == 1
    assert list(OrderEvent.objects.filter(order=member).order_by("id").values_list("kind", "to_status"))[-2:] == [
        ("shipment", ""), ("status", "shipped")]
    assert sum('FROM "orders_order"' in q["sql"] for q in three.captured_queries) == 1
    assert sum(q["sql"].startswith('INSERT INTO "notifications_notification"') for q in three.captured_queries) == 1


def test_a_store_with_a_webhook_endpoint_reads_its_endpoints_and_gets_its_rows(product):
    from webhooks.services import endpoint_create

    order = OrderFactory(customer=None, phone="", store=product.store, lines=[(product, 1)], status="processing")
    endpoint_create(store=product.store, url="https://hooks.example.com/in", events=["shipment.created"])
    ctx = _ship(order, 3)

    # One endpoint query, for the one event type it wants; order.status_changed costs none.
    assert sum('FROM "webhooks_webhookendpoint"' in q["sql"] for q in ctx.captured_queries) == 1
    assert list(Notification.objects.filter(order=order, channel="webhook").values_list("event", flat=True)) == [
        "shipment.created"]


def test_an_order_event_to_five_sellers_costs_what_it_costs_to_one(store, product):
    def enqueue_for(order, key):
        with mock.patch("notifications.outbox.dispatch"), CaptureQueriesContext(connection) as ctx:
            notification_enqueue(event="order.placed", event_key=key, order=order, change={"placed_by": "Ada"})
        return ctx

    order = OrderFactory(store=store, lines=[(product, 1)])
    SellerNotificationSetting.objects.create(store=store, event="order.placed", channel="sms", enabled=True)
    SellerFactory(store=store, phone="+447700900400")
    alone = enqueue_for(order, "order.placed:one")
    for i in range(1, 5):
        SellerFactory(store=store, phone=f"+44770090040{i}")
    five = enqueue_for(order, "order.placed:five")

    seller_rows = Notification.objects.filter(event_key="order.placed:five", audience="seller")
    assert seller_rows.count() == 15  # email, SMS (switched on, numbers verified) and in-app each
    assert len(five) == len(alone)  # one INSERT, and the daily SMS cap counted for all numbers at once


def test_shipping_with_the_locked_order_says_what_a_fresh_read_says(frozen_clock, product):
    customer = _sms_customer()
    order = OrderFactory(customer=customer, sms_opt_in=True, store=product.store, lines=[(product, 2)],
                         status="processing", estimated_delivery=datetime.date(2030, 1, 25))

    _ship(order, 3)

    order.refresh_from_db()
    assert order.status == "shipped" and order.estimated_delivery == datetime.date(2030, 1, 20)
    kinds = list(OrderEvent.objects.filter(order=order).order_by("id").values_list("kind", "to_status"))
    assert kinds[-2:] == [("shipment", ""), ("status", "shipped")]
    rows = {n.channel: n for n in Notification.objects.filter(order=order, event="order.shipped")}
    ctx = rows["email"].context
    assert ctx["store"]["name"] == product.store.name
    assert ctx["recipient"]["first_name"] == customer.first_name
    assert ctx["order"]["estimated_delivery"] == "Sun 20 Jan 2030"
    assert ctx["shipment"]["tracking_number"] == "RM000000003GB"
    # The customer's own time zone (read with the lock) is the one the message speaks in.
    assert ctx["order"]["placed_at"].endswith("EST")
    # Every row stored its whole context, the same one the caller got back.
    assert rows["sms"].context == rows["email"].context == rows["inapp"].context


def test_the_settings_of_a_change_are_read_in_one_query_with_their_types(store):
    from notifications.change_settings import change_settings_load
    from notifications.models import PlatformEventSetting, PlatformSettings, StoreMessageSetting

    with CaptureQueriesContext(connection) as ctx:
        before = change_settings_load("order.shipped", store.pk)
    assert len(ctx) == 1
    assert before.store_message is None  # the store wrote no note for this event

    PlatformEventSetting.objects.update_or_create(event="order.shipped", defaults={
        "enabled": False, "customer_channels": ["email"], "seller_channels": []})
    PlatformSettings.objects.update_or_create(pk=1, defaults={
        "quiet_hours_start": datetime.time(22, 30), "quiet_hours_end": datetime.time(7),
        "sms_allowed_countries": "44,33", "sms_daily_cap": 3})
    StoreMessageSetting.objects.create(store=store, event="order.shipped", personal_note="Packed by hand",
                                       discount_code="THANKS")
    StoreMessageSetting.objects.create(store=store, event="order.placed", personal_note="Another event's note")
    saved = change_settings_load("order.shipped", store.pk)
    assert saved.event_setting.enabled is False and saved.event_setting.customer_channels == ["email"]
    assert saved.platform.quiet_hours_start == datetime.time(22, 30) and saved.platform.sms_daily_cap == 3
    assert saved.platform.sms_allowed_countries == "44,33"
    assert (saved.store_message.personal_note, saved.store_message.discount_code) == ("Packed by hand", "THANKS")
    # A switched-off event writes nothing.
    order = OrderFactory(store=store, status="processing")
    _ship(order, 4)
    assert not Notification.objects.filter(order=order, event="order.shipped").exists()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL column compression")
def test_the_outbox_large_columns_are_compressed_with_lz4():
    with connection.cursor() as cursor:
        cursor.execute("SELECT attrelid::regclass::text, attname, attcompression FROM pg_attribute WHERE attrelid IN "
                       "('notifications_notification'::regclass, 'orders_orderevent'::regclass) "
                       "AND attname IN ('context', 'body_html', 'body_text', 'data')")
        found = {(table, column): method for table, column, method in cursor.fetchall()}
    assert found == {("notifications_notification", "context"): "l", ("notifications_notification", "body_html"): "l",
                     ("notifications_notification", "body_text"): "l", ("orders_orderevent", "data"): "l"}
