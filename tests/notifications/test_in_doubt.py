"""Rows in doubt (the worker died mid-send, or the provider's answer was lost) are resolved:
in-app exactly, SMS by asking Twilio, email resent with the same Message-ID, marketing not resent."""
from datetime import timedelta
from unittest import mock

import pytest
import requests
import responses
from django.core import mail
from django.test import override_settings
from django.utils import timezone

from notifications import services
from notifications.delivery import notification_deliver
from notifications.in_doubt import resolve_in_doubt
from notifications.models import InboxMessage, Notification
from orders.services import order_transition

from .helpers import sent, ship
from .test_delivery import SID, TWILIO, TWILIO_URL, sms_order, twilio_ok  # noqa: F401  (fixture)

pytestmark = pytest.mark.django_db
LIST_URL = TWILIO_URL  # GET …/Messages.json?To=… lists them, newest first


def twilio_list(*messages):
    return responses.Response(responses.GET, LIST_URL, status=200, json={
        "messages": list(messages), "end": len(messages) - 1, "first_page_uri": "", "next_page_uri": None,
        "page": 0, "page_size": 50, "previous_page_uri": None, "start": 0, "uri": ""})


def twilio_message(sid, body, to="+447700900123", created="Wed, 16 Jan 2030 10:59:50 +0000"):
    return {"sid": sid, "account_sid": SID, "to": to, "from": "+15005550006", "body": body, "status": "sent",
            "date_created": created, "date_sent": created, "date_updated": created, "num_segments": "1",
            "error_code": None, "error_message": None, "direction": "outbound-api"}


def strand(row, *, minutes_ago=5):
    """What a worker killed mid-send leaves: the row claimed ("sending") and never recorded."""
    Notification.objects.filter(pk=row.pk).update(
        status="sending", claimed_at=timezone.now() - timedelta(minutes=minutes_ago), attempts=1)
    row.refresh_from_db()
    return row


def held_order_rows(order, commit):
    with mock.patch("notifications.outbox.dispatch"), commit():  # broker down: rows stay queued
        order_transition(order=order, to="on_hold", note="Stock check")
    return sent("order.on_hold", channel="email").get(), sent("order.on_hold", channel="inapp").get()


def test_a_row_inside_its_lease_is_left_to_its_worker(order, commit):
    email, _ = held_order_rows(order, commit)
    strand(email, minutes_ago=0)
    assert services.outbox_sweep()["in_doubt"] == {"sent": 0, "resent": 0, "failed": 0, "unknown": 0}
    email.refresh_from_db()
    assert email.status == "sending"


def test_in_app_in_doubt_is_exact_written_once_either_way(order, commit):
    _, inapp = held_order_rows(order, commit)
    strand(inapp)
    assert resolve_in_doubt(inapp) == "resent"
    inapp.refresh_from_db()
    assert inapp.status == "queued" and "never delivered" in inapp.delivery_attempts.get(provider="resolver").error
    notification_deliver(notification_id=inapp.pk)
    assert InboxMessage.objects.filter(notification=inapp).count() == 1
    # Had the inbox row been written (it commits with the "sent" state), it is sent, not rewritten.
    strand(inapp)
    assert resolve_in_doubt(inapp) == "sent"
    assert InboxMessage.objects.filter(notification=inapp).count() == 1


def test_transactional_email_in_doubt_is_resent_once_with_the_same_message_id(order, commit):
    email, _ = held_order_rows(order, commit)
    services.outbox_sweep(now=timezone.now() + timedelta(minutes=2))  # broker back: the first send
    email.refresh_from_db()
    first_id = mail.outbox[-1].extra_headers["Message-ID"]
    assert email.status == "sent" and first_id == f"<notification-{email.pk}.0@notify.example>"
    # Suppose the worker had died right after handing it over: resent with the same Message-ID.
    strand(email)
    mail.outbox.clear()
    services.outbox_sweep()
    email.refresh_from_db()
    assert email.status == "sent" and [m.extra_headers["Message-ID"] for m in mail.outbox] == [first_id]
    assert "same Message-ID" in email.delivery_attempts.get(provider="resolver").error
    # A resend asked for by staff is a new message, with a new Message-ID.
    mail.outbox.clear()
    with commit():
        services.notification_resend(notification=email)
    assert mail.outbox[-1].extra_headers["Message-ID"] == f"<notification-{email.pk}.1@notify.example>"


def test_marketing_email_in_doubt_is_not_resent(order, commit):
    email, _ = held_order_rows(order, commit)
    Notification.objects.filter(pk=email.pk).update(category="marketing")
    strand(email)
    assert resolve_in_doubt(email) == "failed"
    email.refresh_from_db()
    assert email.status == "failed" and "marketing is not resent" in email.status_reason
    assert mail.outbox == []


@responses.activate
@override_settings(**TWILIO)
def test_sms_in_doubt_found_at_twilio_is_recorded_as_sent_not_resent(sms_order, commit, frozen_clock):
    responses.add(twilio_ok("SM" + "c" * 32))
    with commit():
        ship(sms_order)
    row = sent("order.shipped", channel="sms").get()
    body = row.body_text
    strand(row)  # as if the worker died after Twilio accepted it
    responses.add(twilio_list(twilio_message("SM" + "c" * 32, body), twilio_message("SMother", "Something else")))
    assert resolve_in_doubt(row) == "sent"
    row.refresh_from_db()
    assert row.status == "sent" and row.provider_message_id == "SM" + "c" * 32
    assert [c.request.method for c in responses.calls] == ["POST", "GET"]  # asked, not resent
    assert "To=%2B447700900123" in responses.calls[1].request.url


@responses.activate
@override_settings(**TWILIO)
def test_sms_in_doubt_unknown_to_twilio_is_sent_again(sms_order, commit, frozen_clock):
    with mock.patch("notifications.outbox.dispatch"), commit():
        ship(sms_order)
    row = strand(sent("order.shipped", channel="sms").get())
    responses.add(twilio_list(twilio_message("SMold", "An older message")))
    responses.add(twilio_ok("SM" + "d" * 32))
    assert services.outbox_sweep()["in_doubt"]["resent"] == 1
    row.refresh_from_db()
    assert row.status == "sent" and row.provider_message_id == "SM" + "d" * 32
    assert [c.request.method for c in responses.calls] == ["GET", "POST"]


@responses.activate
@override_settings(**TWILIO)
def test_a_lost_answer_is_in_doubt_and_resolved_without_a_second_copy(sms_order, commit, frozen_clock):
    """Twilio took the message but the reply timed out: not retried as a temporary error (that
    sent customers a second copy); the sweeper asks Twilio and finds it."""
    responses.add(responses.POST, TWILIO_URL, body=requests.exceptions.ReadTimeout("read timed out"))
    with commit():
        ship(sms_order)
    row = sent("order.shipped", channel="sms").get()
    assert row.status == "in_doubt" and row.retry_at is None
    assert "Outcome unknown" in row.delivery_attempts.get().error
    responses.add(twilio_list(twilio_message("SM" + "e" * 32, row.body_text)))
    frozen_clock.shift(timedelta(seconds=30))
    services.outbox_sweep()
    row.refresh_from_db()
    assert row.status == "sent" and row.provider_message_id == "SM" + "e" * 32
    assert [c.request.method for c in responses.calls] == ["POST", "GET"]


@responses.activate
@override_settings(**TWILIO)
def test_twilio_unreachable_while_resolving_leaves_it_for_the_next_sweep(sms_order, commit, frozen_clock):
    with mock.patch("notifications.outbox.dispatch"), commit():
        ship(sms_order)
    row = strand(sent("order.shipped", channel="sms").get())
    responses.add(responses.GET, LIST_URL, body=requests.exceptions.ConnectionError("down"))
    assert resolve_in_doubt(row) == "unknown"
    row.refresh_from_db()
    assert row.status == "sending"


def test_a_redelivered_retry_does_not_send_before_its_backoff_ends(order, commit, frozen_clock):
    email, _ = held_order_rows(order, commit)
    Notification.objects.filter(pk=email.pk).update(retry_at=timezone.now() + timedelta(seconds=40))
    assert notification_deliver(notification_id=email.pk).result == "held"
    assert mail.outbox == []
    frozen_clock.shift(timedelta(seconds=41))
    assert notification_deliver(notification_id=email.pk).result == "sent"


def test_publishing_to_a_dead_broker_does_not_make_the_request_wait(order, commit):
    from kombu.exceptions import OperationalError

    from notifications import outbox

    calls = []

    def refuse(ids, retry=True):
        calls.append(retry)
        raise OperationalError("Error 111 connecting to 127.0.0.1:6390. Connection refused.")

    with mock.patch("notifications.outbox.dispatch", side_effect=refuse), commit():
        order_transition(order=order, to="on_hold", note="Stock check")
        order_transition(order=order, to="processing", note="Stock found")
    assert calls == [False]  # one try without retries; the second change did not try at all
    assert outbox._broker_down_until > 0
    assert set(Notification.objects.filter(order=order).values_list("status", flat=True)) == {"queued"}
