"""The polling schedule, with a fake carrier client: rate limits respected, finished shipments not polled."""
import logging
from datetime import timedelta

import pytest
from django.conf import settings as django_settings

from orders import carriers
from orders.carriers.base import CarrierAdapter, CarrierUnavailable
from orders.carriers.polling import carrier_poll_dispatch
from orders.models import Shipment, TrackingEvent
from orders.services import TrackingUpdate
from tests.factories import OrderFactory
from tests.orders.carrier_helpers import ship, signal_log, utc  # noqa: F401  (fixtures)

pytestmark = pytest.mark.django_db


class FakeCarrier(CarrierAdapter):
    """A carrier client that records every look-up and answers from a script."""

    code = "fakepost"
    name = "FakePost"
    pollable = True
    poll_interval = timedelta(minutes=30)

    def __init__(self):
        self.calls: list[str] = []
        self.answers: dict[str, list[TrackingUpdate]] = {}
        self.down = False

    def poll(self, tracking_number, *, shipment=None):
        self.calls.append(tracking_number)
        if self.down:
            raise CarrierUnavailable("503 Service Unavailable")
        return self.answers.get(tracking_number, [])


class Clock:
    def __init__(self, now):
        self.now = now

    def __call__(self):
        return self.now

    def advance(self, **kwargs):
        self.now += timedelta(**kwargs)


@pytest.fixture
def clock(monkeypatch):
    clock = Clock(utc(2030, 6, 1, 12, 0, 5))
    monkeypatch.setattr("django.utils.timezone.now", clock)
    return clock


@pytest.fixture
def fake():
    adapter = FakeCarrier()
    previous = carriers.register(adapter)
    yield adapter
    carriers.unregister(adapter.code, previous)


@pytest.fixture
def dispatch(django_capture_on_commit_callbacks):
    """Run the beat task's dispatch and the polls it queues (eager Celery), as the worker would."""
    def run():
        with django_capture_on_commit_callbacks(execute=True):
            return carrier_poll_dispatch()
    return run


def make_shipments(n, *, carrier="fakepost", prefix="FP", status=None, product=None):
    shipments = []
    for i in range(n):
        order = OrderFactory(lines=[(product, 1)] if product else [])
        shipment = ship(order, carrier=carrier, tracking_number=f"{prefix}{i:04d}")
        if status:
            Shipment.objects.filter(pk=shipment.pk).update(status=status)
        shipments.append(shipment)
    return shipments


def test_beat_schedule_runs_the_dispatch_every_minute():
    from celery import current_app
    from django_celery_beat.models import PeriodicTask
    from django_celery_beat.schedulers import DatabaseScheduler

    import orders.tasks  # noqa: F401  (registers the tasks, as autodiscovery does in the worker)

    entry = django_settings.CELERY_BEAT_SCHEDULE["orders.poll-carriers"]
    assert entry["task"] in current_app.tasks
    # What `celery beat --scheduler django_celery_beat...DatabaseScheduler` does at start-up.
    DatabaseScheduler.Entry.from_entry("orders.poll-carriers", app=current_app, **entry)
    task = PeriodicTask.objects.get(name="orders.poll-carriers")
    assert task.task == "orders.poll_due_shipments"
    assert (task.interval.every, task.interval.period) == (60, "seconds")


def test_never_more_than_the_carrier_rate_per_minute(settings, clock, fake, dispatch):
    settings.CARRIER_POLL_RATES = {"fakepost": 3}
    make_shipments(10)

    assert dispatch()["fakepost"] == 3
    assert len(fake.calls) == 3

    # Within the same minute a second dispatch (beat restarted, or a slow run overlapping) finds
    # three more due shipments, but the minute's quota is spent: nobody is asked.
    assert dispatch()["fakepost"] == 3
    assert len(fake.calls) == 3
    deferred = Shipment.objects.filter(next_poll_at=utc(2030, 6, 1, 12, 1))
    assert deferred.count() == 3

    clock.advance(minutes=1)
    dispatch()
    assert len(fake.calls) == 6
    assert len(set(fake.calls)) == 6  # the deferred ones went first, nobody twice


def test_every_due_shipment_is_polled_once_per_interval(settings, clock, fake, dispatch):
    settings.CARRIER_POLL_RATES = {"fakepost": 4}
    make_shipments(8)

    for _ in range(5):
        dispatch()
        clock.advance(minutes=1)

    assert sorted(fake.calls) == sorted(f"FP{i:04d}" for i in range(8))
    polled = Shipment.objects.get(tracking_number="FP0000")
    assert polled.last_polled_at == utc(2030, 6, 1, 12, 0, 5)
    assert polled.next_poll_at == utc(2030, 6, 1, 12, 30, 5)

    clock.advance(minutes=30)
    dispatch()
    assert len(fake.calls) == 12


def test_polls_are_spread_over_the_minute(settings, clock, fake, monkeypatch, django_capture_on_commit_callbacks):
    from orders.tasks import poll_shipment

    queued = []
    monkeypatch.setattr(poll_shipment, "apply_async", lambda args, countdown: queued.append((args[0], countdown)))
    settings.CARRIER_POLL_RATES = {"fakepost": 60}
    shipments = make_shipments(4)

    with django_capture_on_commit_callbacks(execute=True):
        carrier_poll_dispatch()

    assert [countdown for _, countdown in queued] == [0, 15, 30, 45]
    assert [sid for sid, _ in queued] == [s.pk for s in shipments]


def test_finished_shipments_and_other_carriers_are_never_polled(settings, clock, fake, dispatch):
    make_shipments(2, prefix="DELIV", status="delivered")
    make_shipments(1, prefix="RTS", status="returned")
    make_shipments(1, carrier="royalmail", prefix="RM")  # no adapter: a tracking link only
    make_shipments(1, carrier="easypost", prefix="EZ")  # pushes webhooks, not polled
    [active] = make_shipments(1, prefix="LIVE")

    for _ in range(3):
        dispatch()
        clock.advance(minutes=31)

    assert set(fake.calls) == {active.tracking_number}


def test_polling_stops_once_delivered(clock, fake, dispatch, signal_log):
    [shipment] = make_shipments(1)
    fake.answers[shipment.tracking_number] = [
        TrackingUpdate(dedupe_key="fp-1", status="in_transit", occurred_at=utc(2030, 6, 1, 9), message="Collected",
                       location="Leeds"),
        TrackingUpdate(dedupe_key="fp-2", status="delivered", occurred_at=utc(2030, 6, 1, 11), message="Delivered",
                       location="York"),
    ]

    dispatch()
    shipment.refresh_from_db()
    assert shipment.status == "delivered"
    assert shipment.next_poll_at is None
    assert TrackingEvent.objects.filter(shipment=shipment, source="poll").count() == 2
    assert signal_log.transitions == [("label_created", "delivered")]

    clock.advance(hours=2)
    dispatch()
    assert fake.calls == [shipment.tracking_number]


def test_a_carrier_outage_writes_nothing_and_retries_next_interval(clock, fake, dispatch, caplog):
    [shipment] = make_shipments(1)
    fake.down = True

    with caplog.at_level(logging.WARNING, logger="orders.carriers"):
        dispatch()

    assert "503 Service Unavailable" in caplog.text
    shipment.refresh_from_db()
    assert shipment.status == "label_created" and shipment.last_polled_at is None
    assert shipment.next_poll_at == utc(2030, 6, 1, 12, 30, 5)
    assert TrackingEvent.objects.count() == 0

    fake.down = False
    clock.advance(minutes=30)
    dispatch()
    assert fake.calls == [shipment.tracking_number] * 2


def test_the_beat_task_runs_the_dispatch(clock, fake, django_capture_on_commit_callbacks):
    from orders.tasks import poll_due_shipments

    make_shipments(2)

    with django_capture_on_commit_callbacks(execute=True):
        poll_due_shipments.delay()

    assert sorted(fake.calls) == ["FP0000", "FP0001"]
