"""The simulated carrier: a seeded journey that advances with the time since shipping."""
from datetime import date, timedelta

import pytest

from orders.carriers.polling import carrier_poll_dispatch, shipment_poll
from orders.carriers.simulated import DEPOTS, HUBS, checkpoints_due, journey, new_tracking_number
from orders.models import OrderStatus, Shipment, TrackingEvent
from tests.orders.carrier_helpers import ship, signal_log, utc  # noqa: F401  (fixtures)
from tests.orders.test_tracking_polling import Clock

pytestmark = pytest.mark.django_db


def numbers(n=400):
    return [f"SM{i:09d}GB" for i in range(n)]


def with_exception():
    return next(tn for tn in numbers() if any(s.key == "exception" for s in journey(tn)))


def smooth():
    return next(tn for tn in numbers() if not any(s.eta_slip_days for s in journey(tn)))


@pytest.fixture
def clock(monkeypatch):
    clock = Clock(utc(2030, 7, 1, 9, 0, 0))
    monkeypatch.setattr("django.utils.timezone.now", clock)
    return clock


def test_journey_is_the_same_every_time_for_a_tracking_number():
    tn = new_tracking_number()
    assert journey(tn) == journey(tn)
    assert journey(tn, "York") == journey(tn, "York")
    assert len({tuple(s.location for s in journey(t)) for t in numbers(30)}) > 20  # but parcels differ


def test_some_parcels_hit_an_exception_and_some_eta_slips():
    journeys = [journey(tn) for tn in numbers()]
    exceptions = sum(any(s.status == "exception" for s in j) for j in journeys) / len(journeys)
    slips = sum(any(s.eta_slip_days for s in j) for j in journeys) / len(journeys)
    assert 0.15 < exceptions < 0.35
    assert exceptions < slips < 0.55
    for j in journeys:
        assert [s.status for s in j][0] == "label_created" and j[-1].status in ("delivered", "returned")
        assert j[-2].status == "out_for_delivery"
        assert [s.at for s in j] == sorted(s.at for s in j)


def test_checkpoints_follow_the_clock_and_use_plausible_uk_places(settings):
    settings.CARRIER_SIMULATED_JOURNEY_MINUTES = 6
    tn, shipped = with_exception(), utc(2030, 7, 1, 9)

    seen = [checkpoints_due(tn, shipped_at=shipped, now=shipped + timedelta(seconds=s), base_eta=date(2030, 7, 3),
                            destination="Leeds") for s in range(0, 600, 20)]

    counts = [len(x) for x in seen]
    assert counts == sorted(counts) and counts[0] == 1 and counts[-1] == len(journey(tn, "Leeds"))
    final = seen[-1]
    assert all(a.dedupe_key == b.dedupe_key for a, b in zip(seen[10], final))  # earlier answers are a prefix
    places = " ".join(u.location for u in final)
    assert any(city in places for city in DEPOTS) and any(hub in places for hub in HUBS)
    assert final[-1].location == "Leeds" and final[-1].status == "delivered"
    assert timedelta(minutes=5) <= final[-1].occurred_at - shipped <= timedelta(minutes=8)


def test_a_shipment_moves_step_by_step_through_an_exception_and_an_eta_slip(clock, settings, signal_log):
    from tests.factories import OrderFactory

    settings.CARRIER_SIMULATED_JOURNEY_MINUTES = 6
    tn = with_exception()
    shipment = ship(OrderFactory(), carrier="simulated", tracking_number=tn, eta=date(2030, 7, 3))
    slip = next(s.eta_slip_days for s in journey(tn, shipment.order.shipping_city) if s.eta_slip_days)
    exception_message = next(s.message for s in journey(tn, shipment.order.shipping_city) if s.key == "exception")

    statuses = []
    for _ in range(40):  # ten minutes, polled every 15 seconds
        shipment_poll(shipment_id=shipment.pk)
        statuses.append(Shipment.objects.get(pk=shipment.pk).status)
        clock.advance(seconds=15)

    assert signal_log.transitions == [("label_created", "in_transit"), ("in_transit", "exception"),
                                      ("exception", "in_transit"), ("in_transit", "out_for_delivery"),
                                      ("out_for_delivery", "delivered")]
    assert signal_log.status[1]["reason"] == exception_message
    [delay] = signal_log.eta
    assert (delay["old_eta"], delay["new_eta"]) == (date(2030, 7, 3), date(2030, 7, 3) + timedelta(days=slip))
    assert delay["reason"] == exception_message
    shipment.refresh_from_db()
    assert shipment.order.status == OrderStatus.COMPLETED
    assert shipment.order.estimated_delivery == date(2030, 7, 3) + timedelta(days=slip)
    assert timedelta(minutes=5) <= shipment.delivered_at - shipment.shipped_at <= timedelta(minutes=8)
    assert statuses.index("delivered") < len(statuses) - 1
    events = TrackingEvent.objects.filter(shipment=shipment)
    assert events.count() == len(journey(tn, shipment.order.shipping_city))
    assert set(events.values_list("source", flat=True)) == {"simulated"}


def test_a_smooth_journey_keeps_its_eta_and_the_first_estimate_is_not_a_delay(clock, settings, signal_log):
    from tests.factories import OrderFactory

    tn = smooth()
    shipment = ship(OrderFactory(), carrier="simulated", tracking_number=tn)  # the seller gave no ETA

    for _ in range(40):
        shipment_poll(shipment_id=shipment.pk)
        clock.advance(seconds=15)

    shipment.refresh_from_db()
    assert shipment.status == "delivered"
    # One ETA signal: the carrier's first estimate (nothing promised before it).
    [first] = signal_log.eta
    assert first["old_eta"] is None and first["new_eta"] == date(2030, 7, 3)
    assert "exception" not in [to for _, to in signal_log.transitions]


def test_a_parcel_shipped_long_ago_catches_up_in_one_poll_with_one_notification(clock, settings, signal_log):
    from tests.factories import OrderFactory

    tn = with_exception()
    shipment = ship(OrderFactory(), carrier="simulated", tracking_number=tn, eta=date(2030, 7, 3))
    clock.advance(minutes=30)

    assert shipment_poll(shipment_id=shipment.pk) == f"stored {len(journey(tn, shipment.order.shipping_city))}"

    shipment.refresh_from_db()
    assert shipment.status == "delivered" and shipment.order.status == OrderStatus.COMPLETED
    assert signal_log.transitions == [("label_created", "delivered")]
    # Polling the same parcel again changes nothing.
    assert shipment_poll(shipment_id=shipment.pk) == "skipped"


def test_journey_speed_is_a_setting(clock, settings):
    from tests.factories import OrderFactory

    settings.CARRIER_SIMULATED_JOURNEY_MINUTES = 2
    shipment = ship(OrderFactory(), carrier="simulated", tracking_number=smooth())
    clock.advance(minutes=2, seconds=1)

    shipment_poll(shipment_id=shipment.pk)

    shipment.refresh_from_db()
    assert shipment.status == "delivered"


def test_beat_dispatch_moves_a_fresh_demo_shipment_along_within_minutes(clock, settings, client,
                                                                         django_capture_on_commit_callbacks):
    from tests.factories import OrderFactory

    settings.CARRIER_SIMULATED_JOURNEY_MINUTES = 6
    # A parcel that arrives (some simulated journeys end back at the shop); the same every run.
    tn = next(t for t in numbers() if journey(t)[-1].key == "delivered")
    shipment = ship(OrderFactory(), carrier="simulated", tracking_number=tn)
    assert shipment.tracking_url.endswith(f"/track/simulated/{tn}/")

    seen = []
    for _minute in range(10):
        with django_capture_on_commit_callbacks(execute=True):
            carrier_poll_dispatch()
        seen.append(Shipment.objects.get(pk=shipment.pk).status)
        clock.advance(minutes=1)

    assert seen[0] == "label_created"
    assert "in_transit" in seen[:3]
    assert seen[-1] == "delivered"
    page = client.get(f"/track/simulated/{tn}/")
    assert b"Collected by the courier" in page.content and b"Delivered" in page.content
