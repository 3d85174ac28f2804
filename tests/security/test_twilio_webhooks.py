"""Twilio callbacks: odd values are 400s with the reason, OptOutType decides STOP/START/HELP in any
language, canceled / partially_delivered are understood, and late callbacks never move back."""
import pytest
from django.test import override_settings
from django.urls import reverse
from twilio.request_validator import RequestValidator

from accounts.models import ConsentRecord
from notifications.models import DeliveryAttempt, Suppression
from tests.factories import CustomerFactory, OrderFactory, ProductFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("twilio_settings")]
TOKEN = "twilio-auth-token"
SITE = "https://shop.example"
NUMBER = "+447911123456"


@pytest.fixture
def twilio_settings():
    with override_settings(TWILIO_AUTH_TOKEN=TOKEN, SITE_URL=SITE):
        yield


def signed_post(client, name, params, *, slash=True):
    path = reverse(name) if slash else reverse(name).rstrip("/")
    signature = RequestValidator(TOKEN).compute_signature(SITE + path, params)
    return client.post(path, params, HTTP_X_TWILIO_SIGNATURE=signature)


@pytest.fixture
def attempt(db):
    from notifications.models import Notification

    order = OrderFactory(lines=[(ProductFactory(), 1)])
    n = Notification.objects.create(event="order.shipped", event_key="k1", audience="customer", channel="sms",
                                    recipient_address=NUMBER, category="transactional", order=order,
                                    status="sent", body_text="Shipped")
    return DeliveryAttempt.objects.create(notification=n, number=1, status="sent", provider="twilio",
                                          provider_message_id="SM" + "a" * 32, provider_status="queued")


@pytest.mark.parametrize("params,reason", [
    ({"MessageSid": "SM" + "1" * 300, "MessageStatus": "delivered"}, "MessageSid"),
    ({"MessageSid": "", "MessageStatus": "delivered"}, "MessageSid"),
    ({"MessageSid": "SM123", "MessageStatus": "NaN"}, "MessageStatus"),
    ({"MessageSid": "SM123", "MessageStatus": "delivered", "ErrorCode": "1e20"}, "ErrorCode"),
    ({"MessageSid": "SM\ufffdx", "MessageStatus": "delivered"}, "MessageSid"),
])
def test_status_callback_with_odd_values_is_a_400_with_the_reason(client, params, reason):
    response = signed_post(client, "notifications:twilio_status", params)
    assert response.status_code == 400
    assert reason in response.content.decode()


@pytest.mark.parametrize("sender", ["1" * 300, "+44 7911 123456; DROP", "whatsapp:", "\ufffd", "1e20"])
def test_inbound_from_that_is_not_a_number_is_a_400_and_records_nothing(client, sender):
    response = signed_post(client, "notifications:twilio_inbound", {"From": sender, "Body": "STOP"})
    assert response.status_code == 400
    assert "From is not a phone number" in response.content.decode()
    assert not Suppression.objects.exists() and not ConsentRecord.objects.exists()


def test_opt_out_type_decides_whatever_the_keyword_or_language(client):
    customer = CustomerFactory(phone=NUMBER, sms_opt_in=True)
    response = signed_post(client, "notifications:twilio_inbound",
                           {"From": NUMBER, "Body": "Arrêt", "OptOutType": "STOP"}, slash=False)
    assert response.status_code == 200
    customer.refresh_from_db()
    assert not customer.sms_opt_in
    assert Suppression.objects.get(channel="sms", address=NUMBER).detail == "Replied ARRÊT"

    signed_post(client, "notifications:twilio_inbound", {"From": NUMBER, "Body": "HILFE", "OptOutType": "HELP"})
    assert Suppression.objects.filter(address=NUMBER).exists()  # HELP changes nothing

    signed_post(client, "notifications:twilio_inbound", {"From": NUMBER, "Body": "Reprendre", "OptOutType": "START"})
    customer.refresh_from_db()
    assert customer.sms_opt_in and not Suppression.objects.exists()
    assert list(ConsentRecord.objects.filter(user=customer, kind="sms_updates").order_by("id")
                .values_list("granted", flat=True)) == [False, True]
    # STOP also ended marketing texts; START does not bring them back (they need their own opt-in).
    assert list(ConsentRecord.objects.filter(user=customer, kind="marketing_sms").values_list("granted", flat=True)) == [
        False]


def test_a_stop_keyword_in_help_opt_out_type_does_not_unsubscribe(client):
    CustomerFactory(phone=NUMBER, sms_opt_in=True)
    signed_post(client, "notifications:twilio_inbound", {"From": NUMBER, "Body": "STOP?", "OptOutType": "HELP"})
    assert not Suppression.objects.exists()


@pytest.mark.parametrize("status,attempt_status", [("canceled", "failed"), ("partially_delivered", "delivered")])
def test_canceled_and_partially_delivered_are_understood(client, attempt, status, attempt_status):
    response = signed_post(client, "notifications:twilio_status",
                           {"MessageSid": attempt.provider_message_id, "MessageStatus": status})
    assert response.status_code == 200
    attempt.refresh_from_db()
    assert (attempt.status, attempt.provider_status) == (attempt_status, status)


def test_a_late_callback_never_moves_provider_status_backwards(client, attempt):
    sid = attempt.provider_message_id
    for status in ("delivered", "sent", "queued", "sending"):
        assert signed_post(client, "notifications:twilio_status",
                           {"MessageSid": sid, "MessageStatus": status}).status_code == 200
    attempt.refresh_from_db()
    assert (attempt.status, attempt.provider_status) == ("delivered", "delivered")
    signed_post(client, "notifications:twilio_status", {"MessageSid": sid, "MessageStatus": "read"})
    attempt.refresh_from_db()
    assert attempt.provider_status == "read"
    attempt.notification.refresh_from_db()
    assert attempt.notification.status == "delivered"


def test_invalid_utf8_in_a_signed_form_is_a_400(client):
    """A lone surrogate arrives as bytes that are not UTF-8; Django reads them as U+FFFD."""
    path = reverse("notifications:twilio_inbound")
    signature = RequestValidator(TOKEN).compute_signature(SITE + path, {"From": "\ufffd" * 3, "Body": "STOP"})
    response = client.post(path, "From=%ED%A0%80&Body=STOP", content_type="application/x-www-form-urlencoded",
                           HTTP_X_TWILIO_SIGNATURE=signature)
    assert response.status_code == 400
    assert not Suppression.objects.exists()
