"""Real faults with real processes (issue 16): a worker killed with SIGKILL mid-drain, a warm
shutdown of the whole process group mid-drain, and Redis stopped while changes commit through
web requests. Each ends with every notification handed to the provider exactly once, as the
recording provider (tests/fault_backends.py) saw it, and the database agreeing with it.

Run against Redis and RabbitMQ (CI has both); the Redis outage uses a private redis-server.
"""
import collections
import signal
import subprocess
import time

import pytest
from django.test import override_settings

from notifications.delivery import outbox_sweep
from notifications.models import DeliveryAttempt, Notification
from notifications.outbox import dispatch
from tests.factories import CustomerFactory, OrderFactory, ProductFactory, SellerFactory, StoreFactory
from tests.fault_backends import recorded
from tests.services import broker_url, free_port, redis_server_binary, require_postgres

from .workers import Worker, point_app_at

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

ROWS = 300
LEASE = 2
FAULT_SETTINGS = {"NOTIFY_SMS_BACKEND": "tests.fault_backends.RecordingSmsBackend",
                  "NOTIFY_SEND_LEASE_SECONDS": LEASE, "NOTIFY_SWEEP_AFTER_SECONDS": 2}


@pytest.fixture
def fault_env(tmp_path, monkeypatch):
    require_postgres()
    record = tmp_path / "handoffs.jsonl"
    env = {"FAULT_RECORD_PATH": str(record), "FAULT_SEND_DELAY": "0.03",
           "TEST_SMS_BACKEND": FAULT_SETTINGS["NOTIFY_SMS_BACKEND"],
           "NOTIFY_SEND_LEASE_SECONDS": str(LEASE), "NOTIFY_SWEEP_AFTER_SECONDS": "2"}
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    with override_settings(**FAULT_SETTINGS):
        yield env


def make_rows(n: int) -> list[int]:
    """n queued SMS order.shipped notifications as the outbox writes them: one real row (a real
    shipment, its real context), cloned to n recipients."""
    from unittest import mock

    from tests.notifications.helpers import ship

    store = StoreFactory()
    customer = CustomerFactory(phone="+447911000000", sms_opt_in=True)
    order = OrderFactory(store=store, customer=customer, lines=[(ProductFactory(store=store), 1)],
                         status="processing")
    with mock.patch("notifications.outbox.dispatch"):
        ship(order)
    template = Notification.objects.get(order=order, event="order.shipped", channel="sms")
    rows = []
    for i in range(n):
        clone = Notification(**{f.attname: getattr(template, f.attname) for f in Notification._meta.concrete_fields
                                if f.attname != "id"})
        clone.event_key, clone.recipient_address, clone.status = f"fault-{i}", f"+4479110{i:05d}", "queued"
        rows.append(clone)
    Notification.objects.filter(order=order).update(status="skipped")  # only the clones are under test
    return sorted(r.pk for r in Notification.objects.bulk_create(rows))


def drain(ids, worker, *, timeout=50.0):
    """Run the sweeper (as beat would, more often) until every row is final."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        outbox_sweep(budget_seconds=5)
        left = Notification.objects.filter(pk__in=ids).exclude(status__in=["sent", "failed"]).count()
        if left == 0:
            return
        time.sleep(0.5)
    statuses = collections.Counter(Notification.objects.filter(pk__in=ids).values_list("status", flat=True))
    pytest.fail(f"not drained in {timeout:.0f}s: {dict(statuses)}\nworker log:\n{worker.log_tail()}")


def assert_each_sent_exactly_once(ids):
    handoffs = collections.Counter(row["notification_id"] for row in recorded())
    doubled = {pk: c for pk, c in handoffs.items() if c > 1}
    assert not doubled, f"{len(doubled)} notifications handed to the provider more than once"
    assert set(handoffs) == set(ids), f"{len(set(ids) - set(handoffs))} notifications never reached the provider"
    rows = dict(Notification.objects.filter(pk__in=ids).values_list("pk", "status"))
    assert set(rows.values()) == {"sent"}
    sids = {row["notification_id"]: row["sid"] for row in recorded()}
    assert dict(Notification.objects.filter(pk__in=ids).values_list("pk", "provider_message_id")) == sids


def wait_for_handoffs(count, worker, timeout=30.0):
    deadline = time.monotonic() + timeout
    while len(recorded()) < count:
        if time.monotonic() > deadline:
            pytest.fail(f"only {len(recorded())} hand-offs in {timeout:.0f}s\n{worker.log_tail()}")
        time.sleep(0.02)


@pytest.fixture(params=["redis", "amqp"])
def broker(request):
    return request.param, broker_url(request.param)


def test_sigkill_mid_drain_loses_nothing_and_doubles_nothing(broker, fault_env, tmp_path):
    kind, url = broker
    queue = f"fault-kill-{kind}-{time.monotonic_ns()}"
    ids = make_rows(ROWS)
    restore = point_app_at(url, queue)
    first = Worker(broker=url, queue=queue, log_path=tmp_path / "worker.log")
    second = Worker(broker=url, queue=queue, log_path=tmp_path / "worker.log")
    try:
        first.start()
        dispatch(ids)
        wait_for_handoffs(ROWS * 3 // 10, first)
        first.kill()  # parent and pool children, mid-send
        in_flight = Notification.objects.filter(pk__in=ids, status="sending").count()
        assert 0 < len(recorded()) < ROWS
        second.start()
        drain(ids, second)
    finally:
        first.stop()
        second.stop()
        restore()
    assert_each_sent_exactly_once(ids)
    # Only the messages in the hands of the two killed processes were in doubt, each resolved.
    resolved = DeliveryAttempt.objects.filter(notification_id__in=ids, provider="resolver").count()
    assert in_flight <= 2 and resolved == in_flight


def test_warm_shutdown_of_the_process_group_mid_drain_hands_nothing_over_in_doubt(broker, fault_env, tmp_path):
    """SIGTERM to the whole group (systemd's default KillMode, honcho): the pool children finish
    the task in hand, the parent closes; nothing is left in doubt and nothing is lost."""
    kind, url = broker
    queue = f"fault-term-{kind}-{time.monotonic_ns()}"
    ids = make_rows(ROWS)
    restore = point_app_at(url, queue)
    first = Worker(broker=url, queue=queue, log_path=tmp_path / "worker.log")
    second = Worker(broker=url, queue=queue, log_path=tmp_path / "worker.log")
    try:
        first.start()
        dispatch(ids)
        wait_for_handoffs(ROWS * 3 // 10, first)
        first.signal_group(signal.SIGTERM)
        first.proc.wait(timeout=30)
        assert Notification.objects.filter(pk__in=ids, status="sending").count() == 0
        assert len(recorded()) < ROWS
        second.start()
        drain(ids, second)
    finally:
        first.stop()
        second.stop()
        restore()
    assert_each_sent_exactly_once(ids)
    assert not DeliveryAttempt.objects.filter(notification_id__in=ids, provider="resolver").exists()


@pytest.fixture
def private_redis(tmp_path):
    """A redis-server of this test's own, so it can be stopped and started again."""
    binary = redis_server_binary()
    port = free_port()

    def start():
        proc = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                                 "--appendonly", "no", "--dir", str(tmp_path)],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        import socket

        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                return proc
            except OSError:
                time.sleep(0.05)
        pytest.fail("private redis-server did not start")

    state = {"proc": start()}

    class Control:
        url = f"redis://127.0.0.1:{port}/0"

        def stop(self):
            state["proc"].terminate()
            state["proc"].wait(timeout=10)

        def start(self):
            state["proc"] = start()

    yield Control()
    if state["proc"].poll() is None:
        state["proc"].terminate()
        state["proc"].wait(timeout=10)


def test_redis_stopped_while_orders_change_through_the_web_then_started_again(
        private_redis, fault_env, tmp_path, client, settings):
    """Broker, cache and sessions all on the Redis that goes away: seller pages still answer,
    each order change commits with its outbox rows without waiting on the broker, and once Redis
    is back every message goes out exactly once (the supervised worker reconnects or restarts)."""
    from django.urls import reverse

    url = private_redis.url
    settings.CACHES = {"default": {"BACKEND": "notify_site.cache.ResilientRedisCache", "LOCATION": url}}
    queue = f"fault-redis-{time.monotonic_ns()}"
    store = StoreFactory()
    seller = SellerFactory(store=store)
    product = ProductFactory(store=store, stock_on_hand=100)
    orders = [OrderFactory(store=store, customer=CustomerFactory(phone=f"+4479112{i:05d}", sms_opt_in=True),
                           lines=[(product, 1)], status="processing") for i in range(20)]
    restore = point_app_at(url, queue)
    worker = Worker(broker=url, queue=queue, log_path=tmp_path / "worker.log", supervised=True,
                    env={"CELERY_BROKER_CONNECTION_MAX_RETRIES": "3"})
    try:
        worker.start()
        client.force_login(seller)
        private_redis.stop()
        slowest = 0.0
        for i, order in enumerate(orders):
            started = time.monotonic()
            response = client.post(reverse("seller:order_action", args=[order.number, "ship"]),
                                   {"ship-carrier": "dpd", "ship-tracking_number": f"1551{i:07d}"})
            slowest = max(slowest, time.monotonic() - started)
            assert response.status_code == 302, response.content.decode()[:500]
        assert client.get(reverse("seller:orders")).status_code == 200
        ids = sorted(Notification.objects.filter(order__in=orders, channel="sms").values_list("pk", flat=True))
        assert len(ids) == len(orders)
        assert set(Notification.objects.filter(pk__in=ids).values_list("status", flat=True)) == {"queued"}
        assert slowest < 1.0, f"an order change waited {slowest:.2f}s on the dead broker"
        private_redis.start()
        drain(ids, worker, timeout=55)
    finally:
        worker.stop()
        restore()
    assert_each_sent_exactly_once(ids)
