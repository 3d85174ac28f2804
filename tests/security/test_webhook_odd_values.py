"""Signed carrier webhooks with odd values get the documented 400 with the reason (logged), never a
500, and write nothing; the URLs answer with and without the trailing slash."""
import copy
import json
import logging
from datetime import date

import pytest

from orders.models import CarrierWebhookLog, TrackingEvent
from tests.orders.carrier_helpers import (  # noqa: F401  (fixtures)
    aftership_checkpoint,
    aftership_webhook,
    carrier_secrets,
    easypost_detail,
    easypost_event,
    post_aftership,
    post_easypost,
    ship,
    utc,
)

pytestmark = pytest.mark.django_db
TN = "EZ1000000001"
SCAN = easypost_detail("in_transit", utc(2030, 3, 1, 17, 30), "Accepted", "HOUSTON", "TX")


@pytest.fixture
def shipment(order, carrier_secrets):
    return ship(order, carrier="easypost", tracking_number=TN, eta=date(2030, 3, 4))


def with_scan_time(value):
    event = easypost_event(TN, [copy.deepcopy(SCAN)], status="in_transit")
    event["result"]["tracking_details"][0]["datetime"] = value
    return json.dumps(event).encode()


def nested(depth):
    return ("[" * depth + "]" * depth).encode()


ODD_EASYPOST = {
    "timestamp 1e20": (with_scan_time(1e20), "datetime"),
    "timestamp 300 digits": (with_scan_time(10 ** 300), "datetime"),
    "NaN literal": (json.dumps(easypost_event(TN, [SCAN], status="in_transit")).replace(
        '"mode": "test"', '"mode": NaN', 1).encode(), "NaN"),
    "year 9999 with a zone": (with_scan_time("9999-12-31T23:59:59-05:00"), "datetime"),
    "year 9999 UTC": (with_scan_time("9999-12-31T23:59:59+05:00"), "out of range"),
    "year 1900": (with_scan_time("1900-01-01T00:00:00Z"), "out of range"),
    "lone surrogate": (json.dumps(easypost_event(TN, [{**SCAN, "message": "\ud800"}], status="in_transit"))
                       .encode(), "surrogate"),
    "NUL in a value": (json.dumps(easypost_event(TN, [{**SCAN, "message": "a\u0000b"}], status="in_transit"))
                       .encode(), "NUL"),
    "NUL in a key": (json.dumps({**easypost_event(TN, [SCAN], status="in_transit"), "x\u0000": 1}).encode(), "NUL"),
    "deeply nested": (b'{"object": "Event", "x": ' + nested(100_000) + b"}", "nested deeper"),
    "eta in year 9999": (json.dumps(easypost_event(TN, [SCAN], status="in_transit")).replace(
        '"est_delivery_date": null', '"est_delivery_date": "9999-12-31"').encode(), "out of range"),
}


@pytest.mark.parametrize("name", list(ODD_EASYPOST))
def test_signed_easypost_webhook_with_odd_values_is_a_400_with_the_reason(client, shipment, caplog, name):
    body, reason = ODD_EASYPOST[name]
    with caplog.at_level(logging.WARNING, logger="orders.carriers"):
        response = post_easypost(client, body)
    assert response.status_code == 400, response.content
    assert reason in response.json()["error"]
    assert any("refused (400)" in r.getMessage() for r in caplog.records)
    assert TrackingEvent.objects.count() == 0 and CarrierWebhookLog.objects.count() == 0


@pytest.mark.parametrize("ts", [1e20, -1e20, "NaN", 10 ** 300, "9999-12-31T23:59:59-14:00"])
def test_signed_aftership_webhook_with_odd_timestamps_is_a_400(client, order, carrier_secrets, ts):
    ship(order, carrier="aftership", tracking_number="RM1")
    payload = aftership_webhook("RM1", [aftership_checkpoint("InTransit", utc(2030, 3, 1), "Hub")], tag="InTransit")
    payload["ts"] = ts
    response = post_aftership(client, payload)
    assert response.status_code == 400
    assert "body.ts" in response.json()["error"]
    assert TrackingEvent.objects.count() == 0


def test_carrier_webhook_answers_without_the_trailing_slash(client, shipment):
    body = json.dumps(easypost_event(TN, [SCAN], status="in_transit")).encode()
    from orders.carriers.easypost import sign

    from tests.orders.carrier_helpers import EASYPOST_SECRET

    response = client.post("/webhooks/carriers/easypost", data=body, content_type="application/json",
                           HTTP_X_HMAC_SIGNATURE=sign(body, EASYPOST_SECRET))
    assert response.status_code == 200
    assert response.json()["outcome"] == "processed"
    assert TrackingEvent.objects.filter(shipment=shipment).count() == 1
