"""Provider callbacks: Twilio status + inbound STOP/START (signed), anymail tracking (basic auth)."""
import base64
import json

import pytest
from django.test import override_settings
from django.urls import reverse
from twilio.request_validator import RequestValidator

from accounts.models import ConsentRecord
from notifications.models import DeliveryAttempt, QuietHours, Suppression
from orders.services import order_transition
from tests.factories import CustomerFactory, OrderFactory, ProductFactory

from .helpers import sent, ship

pytestmark = pytest.mark.django_db
TOKEN = "twilio-auth-token"
SITE = "https://shop.example"


def signed_post(client, name, params, token=TOKEN):
    path = reverse(name)
    signature = RequestValidator(token).compute_signature(SITE + path, params)
    return client.post(path, params, HTTP_X_TWILIO_SIGNATURE=signature)


@pytest.fixture
def sms_sent(db, commit):
    customer = CustomerFactory(phone="+447911123456", sms_opt_in=True, email="ada@example.com")
    QuietHours.objects.create(user=customer, enabled=False)
    order = OrderFactory(customer=customer, lines=[(ProductFactory(), 1)], status="processing")
    with commit():
        ship(order)
    row = sent("order.shipped", channel="sms").get()
    return row, row.delivery_attempts.get()


@override_settings(TWILIO_AUTH_TOKEN=TOKEN, SITE_URL=SITE)
def test_twilio_delivered_callback_with_a_valid_signature_marks_delivered(client, sms_sent):
    row, attempt = sms_sent
    response = signed_post(client, "notifications:twilio_status",
                           {"MessageSid": attempt.provider_message_id, "MessageStatus": "delivered",
                            "AccountSid": "AC1"})
    assert response.status_code == 200
    row.refresh_from_db()
    attempt.refresh_from_db()
    assert (row.status, attempt.status, attempt.provider_status) == ("delivered", "delivered", "delivered")
    assert row.delivered_at is not None
    # A late "sent" callback never moves it back.
    signed_post(client, "notifications:twilio_status",
                {"MessageSid": attempt.provider_message_id, "MessageStatus": "sent"})
    row.refresh_from_db()
    assert row.status == "delivered"


@override_settings(TWILIO_AUTH_TOKEN=TOKEN, SITE_URL=SITE)
def test_twilio_callback_with_a_bad_signature_is_refused_and_changes_nothing(client, sms_sent):
    row, attempt = sms_sent
    params = {"MessageSid": attempt.provider_message_id, "MessageStatus": "delivered"}
    assert signed_post(client, "notifications:twilio_status", params, token="wrong").status_code == 403
    assert client.post(reverse("notifications:twilio_status"), params).status_code == 403  # unsigned
    row.refresh_from_db()
    assert row.status == "sent"


@override_settings(TWILIO_AUTH_TOKEN=TOKEN, SITE_URL=SITE)
def test_twilio_undelivered_with_opt_out_code_bounces_and_suppresses(client, sms_sent):
    row, attempt = sms_sent
    response = signed_post(client, "notifications:twilio_status",
                           {"MessageSid": attempt.provider_message_id, "MessageStatus": "undelivered",
                            "ErrorCode": "21610", "ErrorMessage": "Unsubscribed recipient"})
    assert response.status_code == 200
    row.refresh_from_db()
    assert row.status == "bounced" and "21610" in row.last_error
    assert Suppression.objects.filter(channel="sms", address="+447911123456", reason="stop").exists()


@override_settings(TWILIO_AUTH_TOKEN=TOKEN, SITE_URL=SITE)
def test_twilio_callback_with_malformed_body_is_a_400(client):
    assert signed_post(client, "notifications:twilio_status", {"MessageStatus": "exploded"}).status_code == 400


@override_settings(TWILIO_AUTH_TOKEN=TOKEN, SITE_URL=SITE)
def test_inbound_stop_suppresses_the_number_and_records_the_withdrawal_start_lifts_it(client, commit, sms_outbox):
    customer = CustomerFactory(phone="+447911123456", sms_opt_in=True)
    QuietHours.objects.create(user=customer, enabled=False)
    response = signed_post(client, "notifications:twilio_inbound", {"From": "+447911123456", "Body": " stop "})
    assert response.status_code == 200 and "<Response" in response.content.decode()
    customer.refresh_from_db()
    assert not customer.sms_opt_in
    assert Suppression.objects.filter(channel="sms", address="+447911123456").exists()
    assert ConsentRecord.objects.filter(user=customer, kind="sms_updates", granted=False).exists()
    # Marketing texts end too (the promotion audience reads the latest marketing_sms record).
    assert ConsentRecord.objects.filter(user=customer, kind="marketing_sms", granted=False).exists()

    # A guest order that ticked SMS with that number: the SMS row is suppressed, the email still goes.
    # (No platform quiet hours, so the row is claimed now whatever the time of day the test runs.)
    import datetime

    from notifications.models import PlatformSettings

    PlatformSettings.objects.update_or_create(pk=1, defaults={"quiet_hours_start": datetime.time(0, 0),
                                                              "quiet_hours_end": datetime.time(0, 0)})
    order = OrderFactory(customer=None, email="g@example.com", phone="+447911123456", sms_opt_in=True,
                         lines=[(ProductFactory(), 1)], status="processing")
    with commit():
        ship(order)
    assert sent("order.shipped", channel="sms").get().status == "suppressed"
    assert sms_outbox == []

    signed_post(client, "notifications:twilio_inbound", {"From": "+447911123456", "Body": "START"})
    customer.refresh_from_db()
    assert customer.sms_opt_in and not Suppression.objects.exists()


def basic_auth(secret="hook:s3cret"):
    return "Basic " + base64.b64encode(secret.encode()).decode()


@override_settings(ANYMAIL={"WEBHOOK_SECRET": "hook:s3cret"}, EMAIL_WEBHOOK_ESP="postmark")
def test_anymail_tracking_bounce_marks_the_email_bounced_and_suppresses(client, order, commit):
    with commit():
        order_transition(order=order, to="on_hold", note="Stock check")
    row = sent("order.on_hold", channel="email").get()
    attempt = row.delivery_attempts.get()
    payload = {"RecordType": "Bounce", "MessageID": attempt.provider_message_id, "Type": "HardBounce",
               "TypeCode": 1, "Email": order.email, "Description": "The server was unable to deliver your message",
               "Details": "smtp;550 5.1.1 mailbox does not exist", "BouncedAt": "2030-01-01T10:00:00Z"}
    response = client.post("/anymail/postmark/tracking/", json.dumps(payload), content_type="application/json",
                           HTTP_AUTHORIZATION=basic_auth())
    assert response.status_code == 200
    row.refresh_from_db()
    attempt.refresh_from_db()
    assert row.status == "bounced" and attempt.status == "bounced"
    assert "mailbox does not exist" in attempt.error
    assert Suppression.objects.filter(channel="email", address=order.email.lower(), reason="bounce").exists()


@override_settings(ANYMAIL={"WEBHOOK_SECRET": "hook:s3cret"}, EMAIL_WEBHOOK_ESP="postmark")
def test_anymail_tracking_delivery_and_bad_auth(client, order, commit):
    with commit():
        order_transition(order=order, to="on_hold", note="Stock check")
    attempt = DeliveryAttempt.objects.get(notification__channel="email")
    payload = {"RecordType": "Delivery", "MessageID": attempt.provider_message_id, "Recipient": order.email,
               "DeliveredAt": "2030-01-01T10:00:00Z", "Details": "250 OK", "Tag": "", "Metadata": {}}
    refused = client.post("/anymail/postmark/tracking/", json.dumps(payload), content_type="application/json",
                          HTTP_AUTHORIZATION=basic_auth("hook:wrong"))
    assert refused.status_code == 400
    attempt.refresh_from_db()
    assert attempt.status == "sent"
    ok = client.post("/anymail/postmark/tracking/", json.dumps(payload), content_type="application/json",
                     HTTP_AUTHORIZATION=basic_auth())
    assert ok.status_code == 200
    attempt.refresh_from_db()
    assert attempt.status == "delivered" and attempt.notification.status == "delivered"
