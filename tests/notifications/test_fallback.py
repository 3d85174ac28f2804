"""Cross-channel fallback (SPEC section 8) and the WhatsApp side of the Twilio callbacks."""
import json

import pytest
from django.test import override_settings

from accounts.models import ConsentRecord
from notifications.channels import whatsapp as whatsapp_channel
from notifications.models import Notification, PlatformEventSetting, QuietHours, Suppression, WhatsAppSession
from orders.services import order_transition
from tests.factories import CustomerFactory, OrderFactory, ProductFactory

from .helpers import emails_to, sent, ship
from .test_webhooks import SITE, TOKEN, basic_auth, signed_post

pytestmark = pytest.mark.django_db
TWILIO = override_settings(TWILIO_AUTH_TOKEN=TOKEN, SITE_URL=SITE)
POSTMARK = override_settings(ANYMAIL={"WEBHOOK_SECRET": "hook:s3cret"}, EMAIL_WEBHOOK_ESP="postmark")


def bounce(client, attempt, email, *, event_id=None, kind="HardBounce"):
    payload = {"RecordType": "Bounce", "MessageID": attempt.provider_message_id, "Type": kind,
               "TypeCode": 1 if kind == "HardBounce" else 4096, "Email": email,
               "Description": "The server was unable to deliver your message",
               "Details": "smtp;550 5.1.1 mailbox does not exist", "BouncedAt": "2030-01-16T10:00:00Z"}
    if event_id:
        payload["ID"] = event_id
    response = client.post("/anymail/postmark/tracking/", json.dumps(payload), content_type="application/json",
                           HTTP_AUTHORIZATION=basic_auth())
    assert response.status_code == 200


@pytest.fixture
def texting_customer(db):
    customer = CustomerFactory(email="ada@example.com", phone="+447911123456", sms_opt_in=True)
    QuietHours.objects.create(user=customer, enabled=False)
    return customer


@POSTMARK
def test_a_hard_bounced_email_becomes_one_sms_and_never_a_second(client, commit, texting_customer, sms_outbox):
    order = OrderFactory(customer=texting_customer, lines=[(ProductFactory(), 1)])
    with commit():
        order_transition(order=order, to="on_hold", note="Stock check")
    email = sent("order.on_hold", channel="email").get()
    attempt = email.delivery_attempts.get()
    with commit():
        bounce(client, attempt, order.email, event_id="evt-1")
    with commit():
        bounce(client, attempt, order.email, event_id="evt-1")  # the provider's retry of the same event
    with commit():
        bounce(client, attempt, order.email, event_id="evt-2")  # and the same bounce reported again
    email.refresh_from_db()
    assert email.status == "bounced"
    fallback = Notification.objects.get(fallback_of=email)
    assert (fallback.channel, fallback.recipient_address, fallback.status) == ("sms", "+447911123456", "sent")
    assert "consent: SMS" in fallback.legal_basis
    assert [m["to"] for m in sms_outbox] == ["+447911123456"]
    assert order.number in sms_outbox[0]["body"]
    # The bounced address stays suppressed.
    assert Suppression.objects.filter(channel="email", address="ada@example.com").exists()


@POSTMARK
def test_a_temporary_delivery_delay_does_not_fall_back(client, commit, texting_customer, sms_outbox):
    order = OrderFactory(customer=texting_customer, lines=[(ProductFactory(), 1)])
    with commit():
        order_transition(order=order, to="on_hold", note="Stock check")
    email = sent("order.on_hold", channel="email").get()
    with commit():
        bounce(client, email.delivery_attempts.get(), order.email, kind="Transient")
    assert not Notification.objects.filter(fallback_of=email).exists() and sms_outbox == []


@POSTMARK
def test_no_fallback_without_sms_consent_or_when_the_customer_already_has_it_by_sms(client, commit, sms_outbox):
    customer = CustomerFactory(email="bo@example.com", phone="+447911123456", sms_opt_in=False)
    order = OrderFactory(customer=customer, lines=[(ProductFactory(), 1)])
    with commit():
        order_transition(order=order, to="on_hold", note="Stock check")
    email = sent("order.on_hold", channel="email").get()
    with commit():
        bounce(client, email.delivery_attempts.get(), order.email)
    assert not Notification.objects.filter(fallback_of=email).exists()


@POSTMARK
def test_marketing_never_falls_back(client, commit, texting_customer):
    order = OrderFactory(customer=texting_customer, lines=[(ProductFactory(), 1)])
    row = Notification.objects.create(event="product.updated", event_key="mkt:1", audience="customer",
                                      recipient=texting_customer, recipient_address="ada@example.com",
                                      channel="email", category="marketing", order=order, status="sent")
    row.delivery_attempts.create(status="sent", provider="postmark", provider_message_id="pm-mkt-1")
    from notifications.services import attempt_record_provider_status

    with commit():
        attempt_record_provider_status(provider_message_id="pm-mkt-1", status="bounced", suppress="bounce")
    row.refresh_from_db()
    assert row.status == "bounced" and not Notification.objects.filter(fallback_of=row).exists()


@override_settings(TWILIO_AUTH_TOKEN=TOKEN, SITE_URL=SITE)
def test_an_undelivered_sms_becomes_one_email(client, commit, texting_customer, sms_outbox, mailoutbox):
    PlatformEventSetting.objects.update_or_create(event="order.shipped", defaults={"customer_channels": ["sms"]})
    order = OrderFactory(customer=texting_customer, lines=[(ProductFactory(), 1)], status="processing")
    with commit():
        ship(order)
    sms = sent("order.shipped", channel="sms").get()
    assert not sent("order.shipped", channel="email").exists()
    sid = sms.delivery_attempts.get().provider_message_id
    for status in ("undelivered", "failed"):
        with commit():
            response = signed_post(client, "notifications:twilio_status",
                                   {"MessageSid": sid, "MessageStatus": status, "ErrorCode": "30003"})
        assert response.status_code == 200
    sms.refresh_from_db()
    assert sms.status in ("bounced", "failed")
    fallback = Notification.objects.get(fallback_of=sms)
    assert (fallback.channel, fallback.recipient_address, fallback.status) == ("email", "ada@example.com", "sent")
    assert len(emails_to("ada@example.com")) == 1
    assert order.number in emails_to("ada@example.com")[0].subject


# --- WhatsApp callbacks -----------------------------------------------------------------------

@TWILIO
def test_whatsapp_status_callback_moves_the_whatsapp_row_on(client, commit):
    customer = CustomerFactory(phone="+447911123456", whatsapp_opt_in=True)
    QuietHours.objects.create(user=customer, enabled=False)
    WhatsAppSession.objects.create(address="+447911123456", last_inbound_at="2030-01-16T10:00:00Z")
    order = OrderFactory(customer=customer, lines=[(ProductFactory(), 1)], status="processing")
    whatsapp_channel.outbox.clear()
    with commit():
        ship(order)
    row = sent("order.shipped", channel="whatsapp").get()
    assert row.status == "sent" and whatsapp_channel.outbox[0]["to"] == "whatsapp:+447911123456"
    sid = row.delivery_attempts.get().provider_message_id
    signed_post(client, "notifications:twilio_status", {"MessageSid": sid, "MessageStatus": "read"})
    row.refresh_from_db()
    assert row.status == "delivered"


@TWILIO
def test_whatsapp_stop_suppresses_whatsapp_only_and_records_the_withdrawal(client, frozen_clock):
    customer = CustomerFactory(phone="+447911123456", whatsapp_opt_in=True, sms_opt_in=True)
    response = signed_post(client, "notifications:twilio_inbound", {"From": "whatsapp:+447911123456", "Body": "STOP"})
    assert response.status_code == 200
    customer.refresh_from_db()
    assert not customer.whatsapp_opt_in and customer.sms_opt_in
    assert list(Suppression.objects.values_list("channel", "address")) == [("whatsapp", "+447911123456")]
    assert ConsentRecord.objects.filter(user=customer, kind="whatsapp_updates", granted=False).exists()
    # Writing to us opens the 24-hour session window.
    assert WhatsAppSession.objects.get(address="+447911123456").last_inbound_at.date() == frozen_clock_now().date()
    signed_post(client, "notifications:twilio_inbound", {"From": "whatsapp:+447911123456", "Body": "START"})
    customer.refresh_from_db()
    assert customer.whatsapp_opt_in and not Suppression.objects.exists()


def frozen_clock_now():
    from django.utils import timezone

    return timezone.now()


@POSTMARK
def test_without_sms_consent_a_bounced_email_falls_back_to_whatsapp_and_the_status_page_says_so(client, commit):
    from orders.links import status_token

    customer = CustomerFactory(email="cy@example.com", phone="+447911123456", sms_opt_in=False,
                               whatsapp_opt_in=True)
    QuietHours.objects.create(user=customer, enabled=False)
    WhatsAppSession.objects.create(address="+447911123456", last_inbound_at="2030-01-16T10:00:00Z")
    order = OrderFactory(customer=customer, lines=[(ProductFactory(), 1)])
    whatsapp_channel.outbox.clear()
    with commit():
        order_transition(order=order, to="on_hold", note="Stock check")
    email = sent("order.on_hold", channel="email").get()
    with commit():
        bounce(client, email.delivery_attempts.get(), order.email)
    fallback = Notification.objects.get(fallback_of=email)
    assert (fallback.channel, fallback.status) == ("whatsapp", "sent")
    assert [m["to"] for m in whatsapp_channel.outbox] == ["whatsapp:+447911123456"]
    page = client.get(f"/o/{status_token(order)}/delivery/").content.decode()
    assert "We sent it by WhatsApp instead" in page
