"""Delivery through the channels: the real twilio client (HTTP intercepted), Django mail,
attempts, retries with backoff, permanent failures visible in the admin, resend."""
from urllib.parse import parse_qs

import pytest
import responses
from django.core import mail
from django.test import override_settings
from django.urls import reverse

from notifications import services
from notifications.channels import OutgoingMessage
from notifications.channels.email import EmailChannel
from notifications.channels.sms import sms_segments
from notifications.delivery import RETRY_MAX_SECONDS, retry_countdown
from notifications.models import DeliveryAttempt, Notification
from orders.services import order_transition
from tests.factories import CustomerFactory, OrderFactory, ProductFactory, StoreFactory, UserFactory

from .helpers import sent, ship

pytestmark = pytest.mark.django_db


def run_due_retries(clock, *, times: int):
    """Let each backoff pass and the sweeper hand the retry over (as beat does)."""
    from datetime import timedelta

    for _ in range(times):
        clock.shift(timedelta(minutes=2))
        services.outbox_sweep()

SID = "AC" + "1" * 32
TWILIO_URL = f"https://api.twilio.com/2010-04-01/Accounts/{SID}/Messages.json"
TWILIO = {"NOTIFY_SMS_BACKEND": "notifications.channels.sms.TwilioBackend", "TWILIO_ACCOUNT_SID": SID,
          "TWILIO_AUTH_TOKEN": "secret-token", "TWILIO_FROM_NUMBER": "+15005550006",
          "TWILIO_MESSAGING_SERVICE_SID": "", "SITE_URL": "https://shop.example"}


def twilio_ok(sid="SM" + "a" * 32):
    return responses.Response(responses.POST, TWILIO_URL, status=201, json={
        "sid": sid, "account_sid": SID, "status": "queued", "num_segments": "1", "error_code": None,
        "error_message": None, "to": "+447700900123", "from": "+15005550006", "body": "x"})


def twilio_error(status, code, message):
    return responses.Response(responses.POST, TWILIO_URL, status=status, json={
        "code": code, "message": message, "more_info": f"https://www.twilio.com/docs/errors/{code}", "status": status})


@pytest.fixture
def sms_order(db):
    store = StoreFactory(name="Linen & Co")
    customer = CustomerFactory(email="ada@example.com", phone="+447700900123", sms_opt_in=True, time_zone="UTC")
    order = OrderFactory(store=store, customer=customer, lines=[(ProductFactory(store=store), 1)],
                         status="processing")
    from notifications.models import QuietHours

    QuietHours.objects.create(user=customer, enabled=False)  # these tests are about delivery, not timing
    return order


@responses.activate
@override_settings(**TWILIO)
def test_sms_goes_through_the_real_twilio_client_with_status_callback_and_segments(sms_order, commit):
    responses.add(twilio_ok("SM" + "b" * 32))
    with commit():
        ship(sms_order)
    [call] = responses.calls
    assert call.request.url == TWILIO_URL
    form = parse_qs(call.request.body)
    assert form["To"] == ["+447700900123"] and form["From"] == ["+15005550006"]
    assert form["StatusCallback"] == ["https://shop.example/notifications/twilio/status/"]
    assert "RM123456789GB" in form["Body"][0]
    assert call.request.headers["Authorization"].startswith("Basic ")
    row = sent("order.shipped", channel="sms").get()
    attempt = row.delivery_attempts.get()
    assert (row.status, attempt.status, attempt.provider, attempt.provider_message_id) == (
        "sent", "sent", "twilio", "SM" + "b" * 32)
    assert attempt.sms_encoding == "GSM-7" and attempt.sms_segments == sms_segments(form["Body"][0])[1]
    assert attempt.latency_ms >= 0


@responses.activate
@override_settings(**TWILIO)
def test_provider_failing_twice_then_succeeding_gives_three_attempts_and_one_send(sms_order, commit, frozen_clock):
    responses.add(twilio_error(503, 20500, "Service unavailable"))
    responses.add(twilio_error(503, 20500, "Service unavailable"))
    responses.add(twilio_ok())
    with commit():
        ship(sms_order)
    row = sent("order.shipped", channel="sms").get()
    # The retry's message ran at once (eager tests ignore countdowns) and was refused: its backoff
    # (retry_at) was not over. The sweeper hands it over once it is.
    assert row.status == "queued" and row.retry_at is not None and len(responses.calls) == 1
    run_due_retries(frozen_clock, times=2)
    row.refresh_from_db()
    attempts = list(row.delivery_attempts.order_by("id"))
    assert [a.status for a in attempts] == ["failed", "failed", "sent"]
    assert all(a.transient for a in attempts[:2]) and "503" in attempts[0].error
    assert [a.number for a in attempts] == [1, 2, 3]
    assert row.status == "sent" and row.attempts == 3 and row.last_error == ""
    assert len(responses.calls) == 3  # three requests, one message accepted


@responses.activate
@override_settings(**TWILIO)
def test_provider_failing_permanently_marks_failed_with_the_error_visible_in_admin(sms_order, commit, admin_client):
    responses.add(twilio_error(400, 21211, "The 'To' number +447700900123 is not a valid phone number."))
    with commit():
        ship(sms_order)
    row = sent("order.shipped", channel="sms").get()
    assert row.status == "failed" and "21211" in row.last_error
    assert row.delivery_attempts.count() == 1 and len(responses.calls) == 1  # not retried: it can't succeed
    page = admin_client.get(reverse("admin:notifications_notification_changelist") + "?status__exact=failed")
    assert page.status_code == 200 and "21211" in page.content.decode()
    detail = admin_client.get(reverse("admin:notifications_notification_change", args=[row.pk])).content.decode()
    assert "not a valid phone number" in detail


@responses.activate
@override_settings(**TWILIO)
def test_transient_errors_stop_after_the_platform_attempt_limit(sms_order, commit, frozen_clock):
    services.platform_settings_get()
    from notifications.models import PlatformSettings

    PlatformSettings.objects.filter(pk=1).update(max_attempts=3)
    for _ in range(5):
        responses.add(twilio_error(500, 20500, "Internal error"))
    with commit():
        ship(sms_order)
    run_due_retries(frozen_clock, times=4)
    row = sent("order.shipped", channel="sms").get()
    assert row.status == "failed" and row.delivery_attempts.count() == 3
    assert "Gave up after 3 tries" in row.status_reason


def test_retry_countdowns_grow_with_jitter_and_stay_far_below_the_visibility_timeout():
    for retries in range(12):
        for _ in range(20):
            countdown = retry_countdown(retries)
            assert 0 < countdown <= RETRY_MAX_SECONDS < 3600 / 5
    assert retry_countdown(0) <= 12.5 and 15 <= retry_countdown(1) <= 25 and retry_countdown(3) >= 60
    assert len({retry_countdown(2) for _ in range(20)}) > 1  # jitter


@responses.activate
@override_settings(**TWILIO)
def test_resend_creates_a_new_attempt_never_a_second_notification(sms_order, commit, admin_client):
    responses.add(twilio_error(400, 21211, "Invalid number"))
    responses.add(twilio_ok())
    with commit():
        ship(sms_order)
    row = sent("order.shipped", channel="sms").get()
    assert row.status == "failed"
    count = Notification.objects.count()
    with commit():
        response = admin_client.post(reverse("admin:notifications_notification_changelist"),
                                     {"action": "resend", "_selected_action": [row.pk]})
    assert response.status_code == 302
    row.refresh_from_db()
    assert Notification.objects.count() == count
    assert row.status == "sent" and row.delivery_attempts.count() == 2
    assert list(row.delivery_attempts.order_by("id").values_list("status", flat=True)) == ["failed", "sent"]


def test_resend_is_refused_while_still_queued(order):
    n = Notification.objects.create(event="order.on_hold", event_key="x", audience="customer",
                                    recipient_address="a@example.com", channel="email", category="transactional")
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        services.notification_resend(notification=n)


def test_email_has_html_and_text_with_css_inlined_and_a_message_id_attempt(order, commit):
    with commit():
        order_transition(order=order, to="on_hold", note="Stock check")
    [message] = mail.outbox
    html = message.alternatives[0][0]
    assert message.alternatives[0][1] == "text/html"
    assert 'style="' in html and "<style" not in html
    assert "Stock check" in message.body and "Stock check" in html
    attempt = DeliveryAttempt.objects.get(notification__channel="email")
    assert attempt.provider == "locmem" and attempt.provider_message_id == message.extra_headers["Message-ID"]
    assert "List-Unsubscribe" not in message.extra_headers  # transactional mail has none


def test_marketing_email_carries_one_click_list_unsubscribe():
    EmailChannel().send(OutgoingMessage(notification_id=7, channel="email", to="ada@example.com", subject="Sale",
                                        text="20% off", html="<p>20% off</p>", category="marketing",
                                        unsubscribe_url="https://shop.example/u/abc"))
    [message] = mail.outbox
    # RFC 8058: the HTTPS URL for the one-click POST, and a mailto: for clients that only mail.
    assert message.extra_headers["List-Unsubscribe"] == ("<https://shop.example/u/abc>, "
                                                         "<mailto:unsubscribe@notify.example?subject=unsubscribe>")
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_store_personal_note_and_discount_code_appear_in_that_event_only(order, commit):
    services.store_message_set(store=order.store, event="order.on_hold", personal_note="We pack by hand.",
                               discount_code="SORRY10")
    with commit():
        order_transition(order=order, to="on_hold", note="Stock check")
        order_transition(order=order, to="processing")
    held, processing = sorted(mail.outbox, key=lambda m: "hold" not in m.subject)
    assert "We pack by hand." in held.body and "SORRY10" in held.body and "SORRY10" in held.alternatives[0][0]
    assert "SORRY10" not in processing.body


@pytest.mark.parametrize("text,encoding,segments", [
    ("a" * 160, "GSM-7", 1), ("a" * 161, "GSM-7", 2), ("a" * 306, "GSM-7", 2), ("a" * 307, "GSM-7", 3),
    ("€" * 80, "GSM-7", 1), ("€" * 81, "GSM-7", 2), ("é" * 160, "GSM-7", 1),
    ("ż" * 70, "UCS-2", 1), ("ż" * 71, "UCS-2", 2), ("😀" * 35, "UCS-2", 1), ("😀" * 36, "UCS-2", 2),
])
def test_sms_segment_count(text, encoding, segments):
    assert sms_segments(text) == (encoding, segments)


def test_in_app_messages_land_in_the_inbox_once_and_can_be_marked_read(order, commit):
    from notifications.models import InboxMessage
    from notifications.selectors import inbox_for_user, unread_count

    with commit():
        order_transition(order=order, to="on_hold", note="Stock check")
    user = order.customer
    assert unread_count(user) == 1
    message = inbox_for_user(user).get()
    services.inbox_mark_read(user=user, message_id=message.pk)
    assert unread_count(user) == 0
    other = UserFactory()
    with pytest.raises(InboxMessage.DoesNotExist):
        services.inbox_mark_read(user=other, message_id=message.pk)
