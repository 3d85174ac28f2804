"""Carrier updates end to end: webhook or poll → shipment → Notification outbox rows, once per real change."""
from collections import Counter
from datetime import date, timedelta

import pytest

from notifications.models import Notification
from orders.carriers.polling import shipment_poll
from orders.carriers.simulated import journey
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
from tests.orders.test_tracking_polling import Clock

pytestmark = pytest.mark.django_db

TN = "EZ2000000002"
ACCEPTED = easypost_detail("in_transit", utc(2030, 3, 1, 17, 30), "Accepted at USPS Origin Facility", "HOUSTON", "TX")
OUT = easypost_detail("out_for_delivery", utc(2030, 3, 3, 7, 45), "Out for Delivery", "CHARLESTON", "SC")
DELIVERED = easypost_detail("delivered", utc(2030, 3, 3, 14, 2), "Delivered, Front Door/Porch", "CHARLESTON", "SC")


@pytest.fixture
def commit(django_capture_on_commit_callbacks):
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture
def shipped(order, seller, carrier_secrets, commit):
    """A shipped order of a store with a seller (who gets seller alerts)."""
    with commit():
        return ship(order, carrier="easypost", tracking_number=TN, eta=date(2030, 3, 4))


def outbox(event, **filters):
    return Notification.objects.filter(event=event, channel="email", **filters)


def tracking_outbox(order):
    """(event, audience) → rows, for everything the carrier side caused."""
    rows = Notification.objects.filter(order=order, channel="email").exclude(
        event__in=["order.placed", "order.processing", "order.shipped"])
    return Counter(rows.values_list("event", "audience"))


def test_each_step_notifies_once_and_replays_notify_nobody(client, shipped, commit):
    events = [
        easypost_event(TN, [ACCEPTED], status="in_transit"),
        easypost_event(TN, [ACCEPTED, OUT], status="out_for_delivery"),
        easypost_event(TN, [ACCEPTED, OUT, DELIVERED], status="delivered"),
    ]
    for event in events:
        with commit():
            assert post_easypost(client, event).status_code == 200

    assert tracking_outbox(shipped.order) == {
        ("shipment.in_transit", "customer"): 1,
        ("shipment.out_for_delivery", "customer"): 1,
        ("shipment.delivered", "customer"): 1,
        ("shipment.delivered", "seller"): 1,
    }
    delivered = outbox("shipment.delivered", order=shipped.order, audience="customer").get()
    assert delivered.context["change"]["review_invite"] in (True, False)
    assert "Accepted at USPS Origin Facility" in outbox("shipment.in_transit", order=shipped.order).get().body_text
    total = Notification.objects.count()

    for event in events + [dict(e, id=f"evt_again_{i}") for i, e in enumerate(events)]:
        with commit():
            assert post_easypost(client, event).status_code == 200

    assert Notification.objects.count() == total


def test_exception_with_a_later_eta_is_one_delay_notice_to_customer_and_seller(client, order, seller,
                                                                             carrier_secrets, commit):
    with commit():
        shipment = ship(order, carrier="royalmail", tracking_number="JD0146", eta=date(2030, 5, 3))
    collected = aftership_checkpoint("InTransit", utc(2030, 5, 1, 18), "Item received at Swindon Mail Centre",
                                     city="Swindon")
    weather = aftership_checkpoint("Exception", utc(2030, 5, 2, 9), "Delayed due to severe weather",
                                   city="Swindon", subtag="Exception_005")
    with commit():
        post_aftership(client, aftership_webhook("JD0146", [collected], tag="InTransit"))
    with commit():
        post_aftership(client, aftership_webhook("JD0146", [collected, weather], tag="Exception",
                                                 expected_delivery="2030-05-06"))

    delays = outbox("order.delayed", order=shipment.order)
    assert Counter(delays.values_list("audience", flat=True)) == {"customer": 1, "seller": 1}
    for notice in delays:
        assert notice.context["change"]["reason"] == "Delayed due to severe weather"
        assert "3 May 2030" in notice.context["change"]["old_eta"]
        assert "6 May 2030" in notice.context["change"]["new_eta"]
        assert "Delayed due to severe weather" in notice.body_text


def test_eta_revision_without_a_new_scan_sends_the_delay_with_both_dates(client, order, seller, carrier_secrets,
                                                                         commit):
    with commit():
        shipment = ship(order, carrier="royalmail", tracking_number="JD0147", eta=date(2030, 5, 3))
    collected = aftership_checkpoint("InTransit", utc(2030, 5, 1, 18), "Item received", city="Swindon")
    with commit():
        post_aftership(client, aftership_webhook("JD0147", [collected], tag="InTransit", ts=utc(2030, 5, 1, 19)))

    with commit():
        post_aftership(client, aftership_webhook("JD0147", [collected], tag="InTransit", event="edd_revise",
                                                 expected_delivery="2030-05-07", ts=utc(2030, 5, 2, 8)))

    customer = outbox("order.delayed", order=shipment.order, audience="customer").get()
    assert "3 May 2030" in customer.context["change"]["old_eta"]
    assert "7 May 2030" in customer.context["change"]["new_eta"]
    assert outbox("order.delayed", order=shipment.order, audience="seller").count() == 1


def test_first_or_earlier_estimate_is_not_a_delay(client, order, seller, carrier_secrets, commit):
    with commit():
        shipment = ship(order, carrier="easypost", tracking_number=TN)  # no ETA promised yet
    with commit():
        post_easypost(client, easypost_event(TN, [ACCEPTED], status="in_transit", est_delivery=utc(2030, 3, 5)))
    with commit():
        post_easypost(client, easypost_event(TN, [ACCEPTED, OUT], status="out_for_delivery",
                                             est_delivery=utc(2030, 3, 3)))

    shipment.refresh_from_db()
    assert shipment.eta == date(2030, 3, 3)
    assert not outbox("order.delayed").exists()


def test_a_stale_or_unsigned_webhook_notifies_nobody(client, shipped, commit):
    with commit():
        post_easypost(client, easypost_event(TN, [ACCEPTED, OUT, DELIVERED], status="delivered"))
    total = Notification.objects.count()

    failure = easypost_detail("failure", utc(2030, 3, 2, 9), "Damaged in transit", "MEMPHIS", "TN")
    with commit():
        post_easypost(client, easypost_event(TN, [ACCEPTED, failure], status="failure",
                                             est_delivery=utc(2030, 3, 9)))
        post_easypost(client, easypost_event("EZ404", [ACCEPTED], status="in_transit"))
        post_easypost(client, easypost_event(TN, [ACCEPTED], status="in_transit"), secret=None)

    assert Notification.objects.count() == total
    assert tracking_outbox(shipped.order) == {("shipment.delivered", "customer"): 1,
                                              ("shipment.delivered", "seller"): 1}


def test_simulated_journey_notifies_each_stage_and_the_delay_once(monkeypatch, order, seller, commit, settings):
    settings.CARRIER_SIMULATED_JOURNEY_MINUTES = 6
    clock = Clock(utc(2030, 7, 1, 9))
    monkeypatch.setattr("django.utils.timezone.now", clock)
    tn = next(f"SM{i:09d}GB" for i in range(400)
              if any(s.key == "exception" for s in journey(f"SM{i:09d}GB")))
    with commit():
        shipment = ship(order, carrier="simulated", tracking_number=tn, eta=date(2030, 7, 3))

    for _ in range(40):
        with commit():
            shipment_poll(shipment_id=shipment.pk)
        clock.advance(seconds=15)

    assert tracking_outbox(shipment.order) == {
        ("shipment.in_transit", "customer"): 2,  # collected, then back on its way after the exception
        ("order.delayed", "customer"): 1,
        ("order.delayed", "seller"): 1,
        ("shipment.out_for_delivery", "customer"): 1,
        ("shipment.delivered", "customer"): 1,
        ("shipment.delivered", "seller"): 1,
    }
    delay = outbox("order.delayed", order=shipment.order, audience="customer").get()
    exception = next(s for s in journey(tn, order.shipping_city) if s.key == "exception")
    assert delay.context["change"]["reason"] == exception.message
    slipped = date(2030, 7, 3) + timedelta(days=exception.eta_slip_days)
    assert f"{slipped.day} Jul 2030" in delay.context["change"]["new_eta"]
