"""EasyPost tracker webhooks posted through the URL: signed and unsigned, replayed, out of order."""
import json
import logging
from datetime import date

import pytest
from django.test import Client

from orders.carriers.easypost import sign
from orders.models import CarrierWebhookLog, OrderEvent, OrderStatus, Shipment, TrackingEvent
from tests.orders.carrier_helpers import (  # noqa: F401  (fixtures)
    EASYPOST_SECRET,
    carrier_secrets,
    easypost_detail,
    easypost_event,
    post_easypost,
    ship,
    signal_log,
    utc,
)

pytestmark = pytest.mark.django_db

TN = "EZ1000000001"
LABEL = easypost_detail("pre_transit", utc(2030, 3, 1, 9, 0), "Pre-Shipment Info Sent to USPS")
ACCEPTED = easypost_detail("in_transit", utc(2030, 3, 1, 17, 30), "Shipping Label Created, USPS Awaiting Item",
                           "HOUSTON", "TX", "US", "77063")
HUB = easypost_detail("in_transit", utc(2030, 3, 2, 4, 10), "Arrived at USPS Regional Origin Facility",
                      "NORTH HOUSTON TX DISTRIBUTION CENTER", "TX")
OUT = easypost_detail("out_for_delivery", utc(2030, 3, 3, 7, 45), "Out for Delivery", "CHARLESTON", "SC")
DELIVERED = easypost_detail("delivered", utc(2030, 3, 3, 14, 2), "Delivered, In/At Mailbox", "CHARLESTON", "SC")


@pytest.fixture
def shipment(order, carrier_secrets):
    return ship(order, carrier="easypost", tracking_number=TN, eta=date(2030, 3, 4))


def snapshot(shipment):
    shipment.refresh_from_db()
    return (shipment.status, shipment.eta, shipment.last_event_at, TrackingEvent.objects.count(),
            OrderEvent.objects.filter(order=shipment.order).count(), CarrierWebhookLog.objects.count())


def test_signed_update_moves_shipment_records_checkpoints_and_signals_once(client, shipment, signal_log):
    response = post_easypost(client, easypost_event(TN, [LABEL, ACCEPTED, HUB], status="in_transit"))

    assert response.status_code == 200, response.content
    assert response.json() == {"outcome": "processed", "checkpoints_stored": 3}
    shipment.refresh_from_db()
    assert shipment.status == "in_transit"
    assert shipment.last_event_at == utc(2030, 3, 2, 4, 10)
    hub = TrackingEvent.objects.get(shipment=shipment, occurred_at=utc(2030, 3, 2, 4, 10))
    assert (hub.status, hub.message, hub.location, hub.source) == (
        "in_transit", "Arrived at USPS Regional Origin Facility", "NORTH HOUSTON TX DISTRIBUTION CENTER, TX, US",
        "webhook")
    # The timeline shows each checkpoint in time order, then the one status change.
    tracking_rows = list(OrderEvent.objects.filter(order=shipment.order, kind="tracking").values_list("note", flat=True))
    assert tracking_rows == ["Pre-Shipment Info Sent to USPS · US",
                             "Shipping Label Created, USPS Awaiting Item · HOUSTON, TX, US",
                             "Arrived at USPS Regional Origin Facility · NORTH HOUSTON TX DISTRIBUTION CENTER, TX, US"]
    assert signal_log.transitions == [("label_created", "in_transit")]
    assert signal_log.status[0]["reason"] == "Arrived at USPS Regional Origin Facility"
    assert signal_log.status[0]["tracking_event"] == hub
    log = CarrierWebhookLog.objects.get()
    assert (log.carrier, log.outcome, log.event_type, log.tracking_numbers) == (
        "easypost", "processed", "tracker.updated", TN)


@pytest.mark.parametrize("signature", [None, "", "hmac-sha256-hex=" + "0" * 64, "not-a-signature", "hmac-sha256-hex=ñ"])
def test_missing_or_bad_signature_is_refused_and_writes_nothing(client, shipment, signal_log, signature):
    before = snapshot(shipment)
    event = easypost_event(TN, [LABEL, ACCEPTED], status="in_transit")

    response = post_easypost(client, event, secret=None, signature=signature)

    assert response.status_code == 401
    assert response.json() == {"error": "Missing or invalid signature."}
    assert snapshot(shipment) == before
    assert signal_log.status == [] and signal_log.eta == []


def test_signature_with_another_secret_or_over_another_body_is_refused(client, shipment):
    before = snapshot(shipment)
    body = json.dumps(easypost_event(TN, [ACCEPTED], status="in_transit")).encode()

    assert post_easypost(client, body, secret="someone-elses-secret").status_code == 401
    tampered = body.replace(b'"in_transit"', b'"delivered"')
    assert post_easypost(client, tampered, signature=sign(body, EASYPOST_SECRET)).status_code == 401
    assert snapshot(shipment) == before


def test_signature_uses_the_nfkd_normalised_secret(client, shipment):
    import hashlib
    import hmac
    import unicodedata

    body = json.dumps(easypost_event(TN, [ACCEPTED], status="in_transit")).encode()
    key = unicodedata.normalize("NFKD", EASYPOST_SECRET).encode("utf-8")
    header = "hmac-sha256-hex=" + hmac.new(key, body, hashlib.sha256).hexdigest()

    assert post_easypost(client, body, signature=header).status_code == 200


def test_no_secret_configured_refuses_everything(client, shipment, settings):
    settings.EASYPOST_WEBHOOK_SECRET = ""
    before = snapshot(shipment)

    response = post_easypost(client, easypost_event(TN, [ACCEPTED], status="in_transit"), secret="")

    assert response.status_code == 403
    assert snapshot(shipment) == before


@pytest.mark.parametrize("body,reason", [
    (b"{not json", "Body is not valid JSON"),
    (b"[1, 2]", "Body must be a JSON object."),
    (json.dumps({"object": "Tracker", "id": "trk_1"}).encode(), 'Expected an EasyPost Event object'),
    (json.dumps({"object": "Event", "id": "evt_1", "description": "tracker.updated", "result": None}).encode(),
     "event.result must be a Tracker object"),
    (json.dumps({"object": "Event", "id": "evt_1", "description": "tracker.updated",
                 "result": {"object": "Tracker", "status": "in_transit"}}).encode(),
     "result.tracking_code is missing"),
])
def test_malformed_body_gets_400_with_reason_and_writes_nothing(client, shipment, body, reason):
    before = snapshot(shipment)

    response = post_easypost(client, body)

    assert response.status_code == 400
    assert reason in response.json()["error"]
    assert snapshot(shipment) == before


def test_a_bad_checkpoint_rejects_the_whole_webhook(client, shipment, signal_log):
    broken = dict(HUB, datetime="yesterday-ish")
    before = snapshot(shipment)

    response = post_easypost(client, easypost_event(TN, [ACCEPTED, broken], status="in_transit",
                                                    updated_at=utc(2030, 3, 2)))

    assert response.status_code == 400
    assert "result.tracking_details[1].datetime is not a date-time" in response.json()["error"]
    assert snapshot(shipment) == before and signal_log.status == []


def test_replayed_event_changes_nothing(client, shipment, signal_log):
    event = easypost_event(TN, [LABEL, ACCEPTED], status="in_transit", est_delivery=utc(2030, 3, 6))
    assert post_easypost(client, event).status_code == 200
    before = snapshot(shipment)
    signals_before = (len(signal_log.status), len(signal_log.eta))

    response = post_easypost(client, event)

    assert response.status_code == 200
    assert response.json()["outcome"] == "duplicate"
    after = snapshot(shipment)
    assert after[:5] == before[:5]
    assert (len(signal_log.status), len(signal_log.eta)) == signals_before


def test_same_checkpoints_under_a_new_event_id_are_stored_once(client, shipment, signal_log):
    assert post_easypost(client, easypost_event(TN, [LABEL, ACCEPTED], status="in_transit")).status_code == 200
    before = snapshot(shipment)

    response = post_easypost(client, easypost_event(TN, [LABEL, ACCEPTED], status="in_transit"))

    assert response.json() == {"outcome": "processed", "checkpoints_stored": 0}
    assert snapshot(shipment)[:5] == before[:5]
    assert signal_log.transitions == [("label_created", "in_transit")]


def test_out_of_order_events_never_move_the_shipment_backwards(client, shipment, signal_log):
    assert post_easypost(client, easypost_event(TN, [LABEL, ACCEPTED, HUB, OUT, DELIVERED],
                                                status="delivered")).status_code == 200
    shipment.refresh_from_db()
    assert shipment.status == "delivered"

    # An older tracker.updated, delayed in EasyPost's queue, arrives after delivery with a scan we never saw.
    late_scan = easypost_detail("in_transit", utc(2030, 3, 2, 20, 0), "Departed USPS Regional Facility",
                                "COLUMBIA SC DISTRIBUTION CENTER", "SC")
    response = post_easypost(client, easypost_event(TN, [LABEL, ACCEPTED, HUB, late_scan], status="in_transit",
                                                    est_delivery=utc(2030, 3, 9)))

    assert response.json() == {"outcome": "processed", "checkpoints_stored": 1}
    shipment.refresh_from_db()
    assert shipment.status == "delivered"
    assert shipment.last_event_at == utc(2030, 3, 3, 14, 2)
    assert shipment.eta == date(2030, 3, 4)  # a delivered parcel's ETA no longer moves
    assert TrackingEvent.objects.filter(shipment=shipment, message="Departed USPS Regional Facility").exists()
    # One signal for the backlog: straight to where the parcel is now.
    assert signal_log.transitions == [("label_created", "delivered")]
    assert signal_log.eta == []


def test_out_for_delivery_then_delivered_completes_the_order(client, shipment, signal_log):
    post_easypost(client, easypost_event(TN, [LABEL, ACCEPTED, HUB], status="in_transit"))
    post_easypost(client, easypost_event(TN, [LABEL, ACCEPTED, HUB, OUT], status="out_for_delivery"))
    shipment.refresh_from_db()
    assert shipment.order.status == OrderStatus.SHIPPED

    post_easypost(client, easypost_event(TN, [LABEL, ACCEPTED, HUB, OUT, DELIVERED], status="delivered"))

    shipment.refresh_from_db()
    assert shipment.status == "delivered"
    assert shipment.delivered_at == utc(2030, 3, 3, 14, 2)
    assert shipment.order.status == OrderStatus.COMPLETED
    assert signal_log.transitions == [("label_created", "in_transit"), ("in_transit", "out_for_delivery"),
                                      ("out_for_delivery", "delivered")]
    completed = OrderEvent.objects.filter(order=shipment.order, kind="status", to_status="completed").get()
    assert completed.actor_label == "carrier"


def test_later_eta_signals_the_delay_with_old_and_new_dates(client, shipment, signal_log):
    post_easypost(client, easypost_event(TN, [LABEL, ACCEPTED], status="in_transit", est_delivery=utc(2030, 3, 4)))
    assert signal_log.eta == []  # same as the promised date: nothing to say

    post_easypost(client, easypost_event(TN, [LABEL, ACCEPTED, HUB], status="in_transit",
                                         est_delivery=utc(2030, 3, 7)))

    shipment.refresh_from_db()
    assert shipment.eta == date(2030, 3, 7)
    assert shipment.order.estimated_delivery == date(2030, 3, 7)
    assert [(c["old_eta"], c["new_eta"]) for c in signal_log.eta] == [(date(2030, 3, 4), date(2030, 3, 7))]
    assert OrderEvent.objects.filter(order=shipment.order, note="ETA changed from 2030-03-04 to 2030-03-07").exists()


def test_eta_revision_without_a_new_scan_counts_but_an_older_one_never_wins(client, shipment, signal_log):
    first = easypost_event(TN, [LABEL, ACCEPTED], status="in_transit", est_delivery=utc(2030, 3, 4),
                           updated_at=utc(2030, 3, 1, 18))
    revised = easypost_event(TN, [LABEL, ACCEPTED], status="in_transit", est_delivery=utc(2030, 3, 8),
                             updated_at=utc(2030, 3, 2, 6))
    post_easypost(client, first)
    post_easypost(client, revised)
    shipment.refresh_from_db()
    assert shipment.eta == date(2030, 3, 8)

    # EasyPost retries the first event under a new delivery (our earlier reply was lost): it is older.
    stale_retry = dict(first, id="evt_retry_of_first")
    assert post_easypost(client, stale_retry).status_code == 200

    shipment.refresh_from_db()
    assert shipment.eta == date(2030, 3, 8)
    assert [(c["old_eta"], c["new_eta"]) for c in signal_log.eta] == [(date(2030, 3, 4), date(2030, 3, 8))]


def test_failure_raises_exception_with_the_carrier_message(client, shipment, signal_log):
    failure = easypost_detail("failure", utc(2030, 3, 2, 9, 0), "Delivery Exception: Damaged in transit",
                              "MEMPHIS", "TN")
    post_easypost(client, easypost_event(TN, [LABEL, ACCEPTED, HUB], status="in_transit"))

    post_easypost(client, easypost_event(TN, [LABEL, ACCEPTED, HUB, failure], status="failure",
                                         est_delivery=utc(2030, 3, 6)))

    shipment.refresh_from_db()
    assert shipment.status == "exception"
    assert signal_log.transitions[-1] == ("in_transit", "exception")
    assert signal_log.status[-1]["reason"] == "Delivery Exception: Damaged in transit"
    assert signal_log.eta[-1]["reason"] == "Delivery Exception: Damaged in transit"
    assert signal_log.eta[-1]["new_eta"] == date(2030, 3, 6)


def test_failed_attempt_after_out_for_delivery_is_an_exception_then_delivery_still_lands(client, shipment,
                                                                                        signal_log):
    attempt = easypost_detail("failure", utc(2030, 3, 3, 12, 0), "Notice Left (No Authorized Recipient Available)",
                              "CHARLESTON", "SC")
    redelivered = easypost_detail("delivered", utc(2030, 3, 4, 11, 0), "Delivered, Front Door/Porch",
                                  "CHARLESTON", "SC")
    post_easypost(client, easypost_event(TN, [LABEL, ACCEPTED, HUB, OUT], status="out_for_delivery"))
    post_easypost(client, easypost_event(TN, [LABEL, ACCEPTED, HUB, OUT, attempt], status="failure"))
    post_easypost(client, easypost_event(TN, [LABEL, ACCEPTED, HUB, OUT, attempt, redelivered], status="delivered"))

    assert signal_log.transitions == [("label_created", "out_for_delivery"), ("out_for_delivery", "exception"),
                                      ("exception", "delivered")]


def test_unknown_tracking_number_is_acknowledged_logged_and_creates_nothing(client, shipment, caplog):
    before = snapshot(shipment)

    with caplog.at_level(logging.WARNING, logger="orders.carriers"):
        response = post_easypost(client, easypost_event("EZ9999999999", [ACCEPTED], status="in_transit"))

    assert response.status_code == 200
    assert response.json()["outcome"] == "unknown_tracking"
    assert "EZ9999999999" in caplog.text
    assert snapshot(shipment)[:5] == before[:5]
    assert Shipment.objects.count() == 1
    log = CarrierWebhookLog.objects.get()
    assert log.outcome == "unknown_tracking" and "EZ9999999999" in log.detail


def test_carrier_named_in_the_tracker_finds_a_shipment_entered_under_that_carrier(client, order, carrier_secrets,
                                                                                   signal_log):
    usps = ship(order, carrier="usps", tracking_number="9400100000000000000000", carrier_name="USPS")

    post_easypost(client, easypost_event("9400100000000000000000", [ACCEPTED], status="in_transit"))

    usps.refresh_from_db()
    assert usps.status == "in_transit"


def test_other_event_types_are_acknowledged_and_ignored(client, shipment):
    event = {"object": "Event", "id": "evt_batch", "description": "batch.updated", "result": {"object": "Batch"}}

    response = post_easypost(client, event)

    assert response.status_code == 200 and response.json()["outcome"] == "ignored"
    assert TrackingEvent.objects.count() == 0


def test_tracker_created_before_any_scan_records_the_tracker_status(client, shipment, signal_log):
    event = easypost_event(TN, [], status="pre_transit", description="tracker.created", est_delivery=utc(2030, 3, 5),
                           updated_at=utc(2030, 3, 1, 8))

    assert post_easypost(client, event).status_code == 200

    checkpoint = TrackingEvent.objects.get(shipment=shipment)
    assert (checkpoint.status, checkpoint.message) == ("label_created", "Arrived at facility")
    shipment.refresh_from_db()
    assert shipment.eta == date(2030, 3, 5)
    assert signal_log.status == []


def test_webhook_needs_no_csrf_token_and_only_accepts_post(shipment):
    csrf_client = Client(enforce_csrf_checks=True)

    assert post_easypost(csrf_client, easypost_event(TN, [ACCEPTED], status="in_transit")).status_code == 200
    assert csrf_client.get("/webhooks/carriers/easypost/").status_code == 405
    assert csrf_client.post("/webhooks/carriers/royalmail/", data=b"{}",
                            content_type="application/json").status_code == 404
