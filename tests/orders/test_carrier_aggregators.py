"""Aggregator tracker registration (EasyPost library, AfterShip REST) and polling of quiet trackers."""
import datetime
import json

import pytest
import responses
import time_machine

from orders.carriers.aggregators import aggregator_poll_quiet
from orders.models import AggregatorTracker, TrackingStatus
from orders.services import order_transition, shipment_create

pytestmark = pytest.mark.django_db
START = datetime.datetime(2030, 1, 16, 11, 0, tzinfo=datetime.UTC)
EASYPOST = "https://api.easypost.com/v2/trackers"
AFTERSHIP = "https://api.aftership.com/tracking/2024-10/trackings"


@pytest.fixture
def commit(django_capture_on_commit_callbacks):
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture
def clock():
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


def ship(order, commit, carrier="royalmail", number="RM123456785GB"):
    order_transition(order=order, to="processing", actor="system")
    with commit():
        return shipment_create(order=order, carrier=carrier, carrier_name="Royal Mail", tracking_number=number)


def easypost_tracker(status="pre_transit", details=()):
    """An EasyPost Tracker as its API returns it."""
    return {"id": "trk_c8e0edb5bb284caa934a0d3db23a148z", "object": "Tracker", "mode": "production",
            "tracking_code": "RM123456785GB", "status": status, "status_detail": "status_update",
            "created_at": "2030-01-16T11:00:00Z", "updated_at": "2030-01-17T08:00:00Z", "signed_by": None,
            "weight": None, "est_delivery_date": "2030-01-18T00:00:00Z", "shipment_id": None, "carrier": "RoyalMail",
            "tracking_details": list(details), "carrier_detail": None,
            "public_url": "https://track.easypost.com/djE6dHJrX2M4", "fees": []}


def detail(status, when, message, city="London"):
    return {"object": "TrackingDetail", "message": message, "description": "", "status": status,
            "status_detail": "arrived_at_facility", "datetime": when, "source": "RoyalMail", "carrier_code": "",
            "tracking_location": {"object": "TrackingLocation", "city": city, "state": None, "country": "GB",
                                  "zip": None}}


def test_no_key_no_registration(order, commit, settings):
    settings.EASYPOST_API_KEY = settings.AFTERSHIP_API_KEY = ""
    with responses.RequestsMock():  # any HTTP call would fail the test
        ship(order, commit)
    assert not AggregatorTracker.objects.exists()


def test_easypost_registers_a_tracker_and_quiet_trackers_are_polled(order, commit, settings, clock):
    settings.EASYPOST_API_KEY = "EZAK_test_key"
    settings.AFTERSHIP_API_KEY = ""
    with responses.RequestsMock() as rsps:
        rsps.post(EASYPOST, json=easypost_tracker(), status=201)
        shipment = ship(order, commit)
        sent = json.loads(rsps.calls[0].request.body)
        assert sent["tracker"] == {"tracking_code": "RM123456785GB", "carrier": "RoyalMail"}
    tracker = AggregatorTracker.objects.get(shipment=shipment)
    assert tracker.provider == "easypost" and tracker.status == "registered"
    assert tracker.tracker_id == "trk_c8e0edb5bb284caa934a0d3db23a148z"

    # Webhooks arrive (or not); before the quiet period nobody asks.
    with responses.RequestsMock():
        assert aggregator_poll_quiet()["polled"] == 0
    clock.move_to(START + datetime.timedelta(hours=settings.AGGREGATOR_QUIET_HOURS, minutes=1))
    with responses.RequestsMock() as rsps:
        rsps.get(f"{EASYPOST}/{tracker.tracker_id}", json=easypost_tracker("out_for_delivery", [
            detail("in_transit", "2030-01-16T20:00:00Z", "Arrived at Mail Centre", "Manchester"),
            detail("out_for_delivery", "2030-01-17T07:00:00Z", "Out for delivery"),
        ]))
        result = aggregator_poll_quiet()
    assert result == {"polled": 1, "stored": 2}
    shipment.refresh_from_db()
    assert shipment.status == TrackingStatus.OUT_FOR_DELIVERY and shipment.eta == datetime.date(2030, 1, 18)
    # Polled once per quiet period, not every beat.
    with responses.RequestsMock():
        assert aggregator_poll_quiet()["polled"] == 0


def test_aftership_registers_with_its_rest_api(order, commit, settings):
    settings.EASYPOST_API_KEY = ""
    settings.AFTERSHIP_API_KEY = "asat_test_key"
    with responses.RequestsMock() as rsps:
        rsps.post(AFTERSHIP, status=201, json={"meta": {"code": 201, "message": "Created", "type": "Created"},
                                               "data": {"id": "5b7658cec7c33c0e007de3c5", "slug": "dpd-uk",
                                                        "tracking_number": "15501234567890", "tag": "Pending",
                                                        "checkpoints": []}})
        shipment = ship(order, commit, carrier="dpd", number="15501234567890")
        request = rsps.calls[0].request
        assert request.headers["as-api-key"] == "asat_test_key"
        assert json.loads(request.body)["slug"] == "dpd-uk"
    tracker = AggregatorTracker.objects.get(shipment=shipment)
    assert tracker.status == "registered" and tracker.tracker_id == "5b7658cec7c33c0e007de3c5"


def test_aftership_refusal_is_recorded_and_a_passing_error_is_retried(order, commit, settings):
    settings.EASYPOST_API_KEY = ""
    settings.AFTERSHIP_API_KEY = "asat_test_key"
    with responses.RequestsMock() as rsps:
        rsps.post(AFTERSHIP, status=400, json={"meta": {"code": 4005, "message": "The value of `slug` is invalid.",
                                                        "type": "BadRequest"}, "data": {}})
        shipment = ship(order, commit, carrier="ups", number="1Z999AA10123456784")
    tracker = AggregatorTracker.objects.get(shipment=shipment)
    assert tracker.status == "failed" and "4005" in tracker.error


def test_simulated_and_aggregator_shipments_are_not_registered(order, commit, settings):
    settings.EASYPOST_API_KEY = "EZAK_test_key"
    with responses.RequestsMock():
        ship(order, commit, carrier="simulated", number="SIM123456")
    assert not AggregatorTracker.objects.exists()


def test_a_passing_aftership_error_leaves_it_pending_for_a_retry(order, commit, settings, clock):
    settings.EASYPOST_API_KEY = ""
    settings.AFTERSHIP_API_KEY = "asat_test_key"
    with responses.RequestsMock() as rsps:
        rsps.post(AFTERSHIP, status=503, body="Service Unavailable")
        shipment = ship(order, commit, carrier="fedex", number="449044304137821")
    tracker = AggregatorTracker.objects.get(shipment=shipment)
    assert tracker.status == "pending"
    # The beat picks up registrations still pending after ten minutes.
    clock.move_to(START + datetime.timedelta(minutes=11))
    with responses.RequestsMock() as rsps:
        rsps.post(AFTERSHIP, status=201, json={"meta": {"code": 201}, "data": {"id": "as_fedex_1"}})
        aggregator_poll_quiet()
    tracker.refresh_from_db()
    assert tracker.status == "registered" and tracker.tracker_id == "as_fedex_1"
