"""AfterShip tracking webhooks posted through the URL: signed and unsigned, replayed, out of order."""
import base64
import hashlib
import hmac
import json
import logging
from datetime import date

import pytest

from orders.carriers.aftership import sign
from orders.models import CarrierWebhookLog, OrderEvent, OrderStatus, Shipment, TrackingEvent
from tests.orders.carrier_helpers import (  # noqa: F401  (fixtures)
    AFTERSHIP_SECRET,
    aftership_checkpoint,
    aftership_webhook,
    carrier_secrets,
    post_aftership,
    ship,
    signal_log,
    utc,
)

pytestmark = pytest.mark.django_db

TN = "JD014600006281230704"
INFO = aftership_checkpoint("InfoReceived", utc(2030, 5, 1, 8, 0), "Sender despatching item", location="")
COLLECTED = aftership_checkpoint("InTransit", utc(2030, 5, 1, 18, 5), "Item received at Swindon Mail Centre",
                                 city="Swindon")
HUB = aftership_checkpoint("InTransit", utc(2030, 5, 2, 2, 40), "Item processed at the National Distribution Centre",
                           city="Daventry")
OUT = aftership_checkpoint("OutForDelivery", utc(2030, 5, 2, 7, 15), "Out for delivery", city="Leeds")
ATTEMPT = aftership_checkpoint("AttemptFail", utc(2030, 5, 2, 13, 30),
                               "Sorry we missed you - item held at local delivery office", city="Leeds")
DELIVERED = aftership_checkpoint("Delivered", utc(2030, 5, 3, 10, 5), "Delivered and signed for by PARKER",
                                 city="Leeds")


@pytest.fixture
def shipment(order, carrier_secrets):
    return ship(order, carrier="royalmail", tracking_number=TN, eta=date(2030, 5, 3), carrier_name="Royal Mail")


def snapshot(shipment):
    shipment.refresh_from_db()
    return (shipment.status, shipment.eta, shipment.last_event_at, TrackingEvent.objects.count(),
            OrderEvent.objects.filter(order=shipment.order).count(), CarrierWebhookLog.objects.count())


def test_signed_update_moves_shipment_and_stores_checkpoints(client, shipment, signal_log):
    response = post_aftership(client, aftership_webhook(TN, [INFO, COLLECTED, HUB], tag="InTransit",
                                                        expected_delivery="2030-05-03"))

    assert response.status_code == 200, response.content
    assert response.json() == {"outcome": "processed", "checkpoints_stored": 3}
    shipment.refresh_from_db()
    assert shipment.status == "in_transit"
    hub = TrackingEvent.objects.get(shipment=shipment, occurred_at=utc(2030, 5, 2, 2, 40))
    assert (hub.status, hub.message, hub.location) == (
        "in_transit", "Item processed at the National Distribution Centre", "Daventry, United Kingdom")
    info = TrackingEvent.objects.get(shipment=shipment, occurred_at=utc(2030, 5, 1, 8, 0))
    assert info.status == "label_created" and info.location == "United Kingdom"
    assert signal_log.transitions == [("label_created", "in_transit")]
    assert signal_log.eta == []  # same day as promised


def test_signature_is_base64_hmac_sha256_of_the_raw_body(client, shipment):
    body = json.dumps(aftership_webhook(TN, [INFO], tag="InfoReceived")).encode()
    header = base64.b64encode(hmac.new(AFTERSHIP_SECRET.encode(), body, hashlib.sha256).digest()).decode()

    assert post_aftership(client, body, signature=header).status_code == 200


@pytest.mark.parametrize("signature", [None, "", "bm90IHRoZSBzaWduYXR1cmU=", "%%%"])
def test_missing_or_bad_signature_is_refused_and_writes_nothing(client, shipment, signal_log, signature):
    before = snapshot(shipment)

    response = post_aftership(client, aftership_webhook(TN, [INFO, COLLECTED], tag="InTransit"), secret=None,
                              signature=signature)

    assert response.status_code == 401
    assert snapshot(shipment) == before and signal_log.status == []


def test_hex_signature_or_tampered_body_is_refused(client, shipment):
    body = json.dumps(aftership_webhook(TN, [COLLECTED], tag="InTransit")).encode()
    hex_signature = hmac.new(AFTERSHIP_SECRET.encode(), body, hashlib.sha256).hexdigest()
    before = snapshot(shipment)

    assert post_aftership(client, body, signature=hex_signature).status_code == 401
    assert post_aftership(client, body.replace(b"InTransit", b"Delivered"),
                          signature=sign(body, AFTERSHIP_SECRET)).status_code == 401
    assert snapshot(shipment) == before


@pytest.mark.parametrize("payload,reason", [
    (b"", "Body is not valid JSON"),
    (b"\xff\xfe", "Body is not UTF-8."),
    (json.dumps({"msg": {}}).encode(), "body.event is missing"),
    (json.dumps({"event": "tracking_update", "msg": "InTransit", "ts": 1}).encode(), "body.msg must be"),
    (json.dumps({"event": "tracking_update", "msg": {"slug": "royal-mail"}, "ts": 1}).encode(),
     "msg.tracking_number is missing"),
    (json.dumps({"event": "tracking_update", "msg": {"tracking_number": TN, "checkpoints": {"a": 1}},
                 "ts": 1}).encode(), "msg.checkpoints must be a list."),
    (json.dumps({"event": "tracking_update", "ts": 1, "msg": {
        "tracking_number": TN, "checkpoints": [{"tag": "InTransit", "checkpoint_time": None}]}}).encode(),
     "msg.checkpoints[0].checkpoint_time is not a date-time"),
    (json.dumps({"event": "tracking_update", "ts": 1, "msg": {
        "tracking_number": TN, "checkpoints": [], "tag": "InTransit", "expected_delivery": "soon"}}).encode(),
     "msg.expected_delivery is not a date"),
])
def test_malformed_body_gets_400_with_reason(client, shipment, payload, reason):
    before = snapshot(shipment)

    response = post_aftership(client, payload)

    assert response.status_code == 400
    assert reason in response.json()["error"]
    assert snapshot(shipment) == before


def test_replayed_webhook_changes_nothing(client, shipment, signal_log):
    payload = aftership_webhook(TN, [INFO, COLLECTED], tag="InTransit", expected_delivery="2030-05-05")
    post_aftership(client, payload)
    before = snapshot(shipment)
    counts = (len(signal_log.status), len(signal_log.eta))

    response = post_aftership(client, payload)

    assert response.status_code == 200 and response.json()["outcome"] == "duplicate"
    assert snapshot(shipment)[:5] == before[:5]
    assert (len(signal_log.status), len(signal_log.eta)) == counts


def test_replay_without_event_id_is_deduplicated_by_checkpoint_identity(client, shipment, signal_log):
    payload = aftership_webhook(TN, [INFO, COLLECTED], tag="InTransit")
    del payload["event_id"]
    post_aftership(client, payload)
    before = snapshot(shipment)

    response = post_aftership(client, payload)

    assert response.json() == {"outcome": "processed", "checkpoints_stored": 0}
    assert snapshot(shipment)[:5] == before[:5]
    assert signal_log.transitions == [("label_created", "in_transit")]


def test_checkpoint_hash_from_newer_api_versions_is_the_identity(client, shipment):
    first = dict(COLLECTED, hash="a1b2c3")
    edited = dict(COLLECTED, hash="a1b2c3", message="Item received at Swindon MC")  # carrier re-worded the scan

    post_aftership(client, aftership_webhook(TN, [first], tag="InTransit"))
    post_aftership(client, aftership_webhook(TN, [edited], tag="InTransit"))

    assert list(TrackingEvent.objects.values_list("dedupe_key", "message")) == [
        ("aftership:a1b2c3", "Item received at Swindon Mail Centre")]


def test_out_of_order_webhooks_never_move_backwards_and_delivered_stays_delivered(client, shipment, signal_log):
    post_aftership(client, aftership_webhook(TN, [INFO, COLLECTED, HUB, OUT, DELIVERED], tag="Delivered"))
    post_aftership(client, aftership_webhook(TN, [INFO, COLLECTED, HUB, OUT], tag="OutForDelivery",
                                             expected_delivery="2030-05-06"))
    post_aftership(client, aftership_webhook(TN, [INFO, COLLECTED], tag="InTransit"))

    shipment.refresh_from_db()
    assert shipment.status == "delivered"
    assert shipment.order.status == OrderStatus.COMPLETED
    assert shipment.eta == date(2030, 5, 3)
    assert TrackingEvent.objects.filter(shipment=shipment).count() == 5
    assert signal_log.transitions == [("label_created", "delivered")]


def test_earlier_checkpoint_arriving_later_is_stored_but_does_not_move(client, shipment, signal_log):
    post_aftership(client, aftership_webhook(TN, [INFO, COLLECTED, HUB, OUT], tag="OutForDelivery"))
    post_aftership(client, aftership_webhook(TN, [COLLECTED], tag="InTransit"))  # stale partial view

    shipment.refresh_from_db()
    assert shipment.status == "out_for_delivery"
    assert signal_log.transitions == [("label_created", "out_for_delivery")]


def test_failed_attempt_is_an_exception_carrying_the_carrier_message(client, shipment, signal_log):
    post_aftership(client, aftership_webhook(TN, [INFO, COLLECTED, HUB, OUT], tag="OutForDelivery"))

    post_aftership(client, aftership_webhook(TN, [INFO, COLLECTED, HUB, OUT, ATTEMPT], tag="AttemptFail",
                                             expected_delivery="2030-05-04"))

    shipment.refresh_from_db()
    assert shipment.status == "exception"
    assert signal_log.transitions[-1] == ("out_for_delivery", "exception")
    assert signal_log.status[-1]["reason"] == "Sorry we missed you - item held at local delivery office"
    [delay] = signal_log.eta
    assert (delay["old_eta"], delay["new_eta"]) == (date(2030, 5, 3), date(2030, 5, 4))
    assert delay["reason"] == "Sorry we missed you - item held at local delivery office"
    assert shipment.order.estimated_delivery == date(2030, 5, 4)


def test_edd_revise_moves_the_eta_without_a_new_checkpoint(client, shipment, signal_log):
    post_aftership(client, aftership_webhook(TN, [INFO, COLLECTED], tag="InTransit", ts=utc(2030, 5, 1, 19)))

    revised = aftership_webhook(TN, [INFO, COLLECTED], tag="InTransit", event="edd_revise",
                                expected_delivery="2030-05-06", ts=utc(2030, 5, 2, 9))
    response = post_aftership(client, revised)

    assert response.json() == {"outcome": "processed", "checkpoints_stored": 0}
    shipment.refresh_from_db()
    assert shipment.eta == date(2030, 5, 6)
    assert [(c["old_eta"], c["new_eta"]) for c in signal_log.eta] == [(date(2030, 5, 3), date(2030, 5, 6))]
    assert signal_log.transitions == [("label_created", "in_transit")]


def test_newer_estimate_fields_are_read_when_expected_delivery_is_absent(client, shipment, signal_log):
    payload = aftership_webhook(TN, [INFO, COLLECTED], tag="InTransit")
    payload["msg"]["courier_estimated_delivery_date"] = {
        "estimated_delivery_date": "2030-05-07", "estimated_delivery_date_min": None,
        "estimated_delivery_date_max": None}

    post_aftership(client, payload)

    shipment.refresh_from_db()
    assert shipment.eta == date(2030, 5, 7)


def test_returned_to_sender_is_final(client, shipment, signal_log):
    returned = aftership_checkpoint("Exception", utc(2030, 5, 9, 9, 0), "Item returned to sender", city="Swindon",
                                    subtag="Exception_011")
    post_aftership(client, aftership_webhook(TN, [INFO, COLLECTED, returned], tag="Exception"))
    late = aftership_checkpoint("Delivered", utc(2030, 5, 10, 9, 0), "Delivered", city="Leeds")
    post_aftership(client, aftership_webhook(TN, [INFO, COLLECTED, returned, late], tag="Delivered"))

    shipment.refresh_from_db()
    assert shipment.status == "returned"
    assert signal_log.transitions == [("label_created", "returned")]
    assert shipment.order.status == OrderStatus.SHIPPED  # a return to sender does not complete the order


def test_unknown_tracking_number_is_acknowledged_and_logged(client, shipment, caplog):
    before = snapshot(shipment)

    with caplog.at_level(logging.WARNING, logger="orders.carriers"):
        response = post_aftership(client, aftership_webhook("RR123456785GB", [COLLECTED], tag="InTransit"))

    assert response.status_code == 200 and response.json()["outcome"] == "unknown_tracking"
    assert "RR123456785GB" in caplog.text
    assert snapshot(shipment)[:5] == before[:5]
    assert Shipment.objects.count() == 1


def test_slug_of_another_carrier_does_not_match(client, shipment):
    response = post_aftership(client, aftership_webhook(TN, [COLLECTED], tag="InTransit", slug="dpd-uk"))

    assert response.json()["outcome"] == "unknown_tracking"
    assert TrackingEvent.objects.count() == 0


def test_shipment_entered_as_aftership_matches_any_slug(client, order, carrier_secrets, signal_log):
    shipment = ship(order, carrier="aftership", tracking_number="1Z9999W99999999999")

    post_aftership(client, aftership_webhook("1Z9999W99999999999", [COLLECTED], tag="InTransit", slug="ups"))

    shipment.refresh_from_db()
    assert shipment.status == "in_transit"


def test_other_events_are_acknowledged_and_ignored(client, shipment):
    payload = aftership_webhook(TN, [COLLECTED], tag="InTransit", event="tracking_pending_time")

    response = post_aftership(client, payload)

    assert response.status_code == 200 and response.json()["outcome"] == "ignored"
    assert TrackingEvent.objects.count() == 0


def test_no_secret_configured_refuses(client, shipment, settings):
    settings.AFTERSHIP_WEBHOOK_SECRET = ""

    response = post_aftership(client, aftership_webhook(TN, [COLLECTED], tag="InTransit"), secret="")

    assert response.status_code == 403
    assert TrackingEvent.objects.count() == 0
