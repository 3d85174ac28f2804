"""WhatsApp (real twilio client) and web push (real pywebpush) with the providers' HTTP
intercepted by ``responses``: what goes over the wire, per event, and what the log records."""
import base64
import json
import os
from urllib.parse import parse_qs

import http_ece
import pytest
import responses
from cryptography.hazmat.primitives.asymmetric import ec
from django.test import override_settings
from django.utils import timezone

from notifications.channels import _instances
from notifications.context import sample_context
from notifications.delivery import notification_deliver
from notifications.events import ALL_CUSTOMER_EVENTS, Channel
from notifications.models import Notification, PlatformEventSetting, PushSubscription, WhatsAppSession
from notifications.vapid import b64url, generate_vapid_keys, public_point
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db
ACCOUNT = "AC" + "0" * 32
TWILIO_URL = f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT}/Messages.json"
VAPID_PUBLIC, VAPID_PRIVATE = generate_vapid_keys()
PUSH_ENDPOINT = "https://push.example.test/wpush/v2/abc123"

TWILIO = override_settings(NOTIFY_WHATSAPP_BACKEND="notifications.channels.whatsapp.TwilioWhatsAppBackend",
                           TWILIO_ACCOUNT_SID=ACCOUNT, TWILIO_AUTH_TOKEN="token",
                           TWILIO_WHATSAPP_FROM="+14155238886", SITE_URL="https://shop.example")
VAPID = override_settings(VAPID_PUBLIC_KEY=VAPID_PUBLIC, VAPID_PRIVATE_KEY=VAPID_PRIVATE,
                          VAPID_SUBJECT="mailto:ops@shop.example", NOTIFY_PUSH_TTL_SECONDS=3600)


@pytest.fixture(autouse=True)
def fresh_backends():
    _instances.clear()
    yield
    _instances.clear()


def twilio_reply(sid="SMwa0001"):
    return {"sid": sid, "status": "queued", "error_code": None, "error_message": None, "body": "",
            "to": "whatsapp:+447700900123", "from": "whatsapp:+14155238886", "account_sid": ACCOUNT,
            "num_segments": "1", "date_created": None, "date_sent": None, "date_updated": None}


def row_for(event, channel, user, address):
    return Notification.objects.create(
        event=event, event_key=f"test:{event}:{channel}", audience="customer", recipient=user,
        recipient_address=address, channel=channel, category="transactional",
        context=sample_context(event, "customer"))


def form(call):
    return {k: v[0] for k, v in parse_qs(call.request.body).items()}


# --- WhatsApp ---------------------------------------------------------------------------------

@TWILIO
@responses.activate
@pytest.mark.parametrize("event", ALL_CUSTOMER_EVENTS)
def test_whatsapp_inside_the_session_window_sends_the_rendered_body(event, frozen_clock):
    customer = CustomerFactory(phone="+447700900123", whatsapp_opt_in=True)
    WhatsAppSession.objects.create(address="+447700900123", last_inbound_at=timezone.now()
                                   - timezone.timedelta(hours=23))
    responses.post(TWILIO_URL, json=twilio_reply(), status=201)
    n = row_for(event, Channel.WHATSAPP, customer, "+447700900123")
    assert notification_deliver(notification_id=n.pk).result == "sent"
    sent = form(responses.calls[0])
    assert sent["To"] == "whatsapp:+447700900123" and sent["From"] == "whatsapp:+14155238886"
    assert sent["StatusCallback"] == "https://shop.example/notifications/twilio/status/"
    n.refresh_from_db()
    assert sent["Body"] == n.body_text.strip() and sent["Body"]
    assert "ContentSid" not in sent
    attempt = n.delivery_attempts.get()
    assert (attempt.provider, attempt.provider_message_id, attempt.provider_status) == ("twilio", "SMwa0001",
                                                                                        "session")


@TWILIO
@responses.activate
@pytest.mark.parametrize("event", ALL_CUSTOMER_EVENTS)
def test_whatsapp_outside_the_window_sends_the_approved_content_template(event, frozen_clock):
    customer = CustomerFactory(phone="+447700900123", whatsapp_opt_in=True, first_name="Ada")
    WhatsAppSession.objects.create(address="+447700900123", last_inbound_at=timezone.now()
                                   - timezone.timedelta(hours=25))
    responses.post(TWILIO_URL, json=twilio_reply("SMwa0002"), status=201)
    n = row_for(event, Channel.WHATSAPP, customer, "+447700900123")
    # (override_settings, not pytest-django's ``settings``: mixed with the @TWILIO decorator, the
    # fixture's teardown would restore TWILIO's settings for every later test.)
    with override_settings(NOTIFY_WHATSAPP_CONTENT_SIDS={event: "HX" + "1" * 32}):
        assert notification_deliver(notification_id=n.pk).result == "sent"
    sent = form(responses.calls[0])
    assert sent["ContentSid"] == "HX" + "1" * 32 and "Body" not in sent
    variables = json.loads(sent["ContentVariables"])
    assert set(variables) == {"1", "2", "3"} and all(variables.values())
    context = n.context
    reference = (context.get("order") or {}).get("number") or (context.get("product") or {}).get("name")
    if reference:
        assert variables["2"] == reference


@TWILIO
@responses.activate
def test_whatsapp_template_from_the_platform_setting_with_mapped_variables(frozen_clock):
    customer = CustomerFactory(phone="+447700900123", whatsapp_opt_in=True)
    PlatformEventSetting.objects.update_or_create(event="order.shipped", defaults={"whatsapp_content_sid": "HX" + "2" * 32})
    responses.post(TWILIO_URL, json=twilio_reply(), status=201)
    n = row_for("order.shipped", Channel.WHATSAPP, customer, "+447700900123")
    with override_settings(NOTIFY_WHATSAPP_CONTENT_SIDS={"order.shipped": {
            "sid": "HXignored", "variables": {"1": "shipment.tracking_number"}}}):
        notification_deliver(notification_id=n.pk)
    sent = form(responses.calls[0])
    assert sent["ContentSid"] == "HX" + "2" * 32
    assert json.loads(sent["ContentVariables"]) == {"1": n.context["shipment"]["tracking_number"]}


@TWILIO
@responses.activate
def test_whatsapp_outside_the_window_without_a_template_fails_permanently_without_calling_twilio(frozen_clock):
    customer = CustomerFactory(phone="+447700900123", whatsapp_opt_in=True)
    n = row_for("order.shipped", Channel.WHATSAPP, customer, "+447700900123")
    assert notification_deliver(notification_id=n.pk).result == "failed"
    n.refresh_from_db()
    assert "No approved WhatsApp template" in n.last_error and not responses.calls


# --- web push --------------------------------------------------------------------------------

def browser_keys():
    key = ec.generate_private_key(ec.SECP256R1())
    return key, os.urandom(16)


def subscribe(user, key, auth, endpoint=PUSH_ENDPOINT):
    return PushSubscription.objects.create(user=user, endpoint=endpoint, p256dh=b64url(public_point(key)),
                                           auth=b64url(auth), user_agent="Test browser")


@VAPID
@responses.activate
@pytest.mark.parametrize("event", ALL_CUSTOMER_EVENTS)
def test_push_per_event_is_encrypted_and_signed(event, frozen_clock):
    customer = CustomerFactory()
    key, auth = browser_keys()
    sub = subscribe(customer, key, auth)
    responses.post(PUSH_ENDPOINT, status=201)
    n = row_for(event, Channel.PUSH, customer, f"user:{customer.pk}")
    assert notification_deliver(notification_id=n.pk).result == "sent"
    request = responses.calls[0].request
    assert request.headers["Authorization"].startswith("vapid t=")
    assert f"k={VAPID_PUBLIC}" in request.headers["Authorization"]
    assert request.headers["Content-Encoding"] == "aes128gcm"
    assert request.headers["TTL"] == "3600"
    n.refresh_from_db()
    assert n.subject.encode() not in request.body  # ciphertext, not the message
    # The browser (its private key and auth secret) can read it.
    plain = json.loads(http_ece.decrypt(request.body, private_key=key, auth_secret=auth, version="aes128gcm"))
    assert plain["title"] == n.subject and plain["body"] == n.body_text.strip()[:500]
    assert plain["tag"] == f"n{n.pk}" and plain["url"]
    sub.refresh_from_db()
    assert sub.last_used_at is not None
    attempt = n.delivery_attempts.get()
    assert (attempt.provider, attempt.provider_status) == ("webpush", "1/1 browsers")


@VAPID
@responses.activate
@pytest.mark.parametrize("status", [404, 410])
def test_expired_push_subscription_is_removed_and_the_other_browser_still_gets_it(status, frozen_clock):
    customer = CustomerFactory()
    key, auth = browser_keys()
    gone = subscribe(customer, key, auth, endpoint="https://push.example.test/gone")
    kept = subscribe(customer, *browser_keys(), endpoint="https://push.example.test/kept")
    responses.post("https://push.example.test/gone", status=status)
    responses.post("https://push.example.test/kept", status=201)
    n = row_for("order.shipped", Channel.PUSH, customer, f"user:{customer.pk}")
    assert notification_deliver(notification_id=n.pk).result == "sent"
    assert not PushSubscription.objects.filter(pk=gone.pk).exists()
    assert PushSubscription.objects.filter(pk=kept.pk).exists()


@VAPID
@responses.activate
def test_push_only_to_expired_subscriptions_fails_permanently_and_removes_them(frozen_clock):
    customer = CustomerFactory()
    subscribe(customer, *browser_keys())
    responses.post(PUSH_ENDPOINT, status=410)
    n = row_for("order.shipped", Channel.PUSH, customer, f"user:{customer.pk}")
    assert notification_deliver(notification_id=n.pk).result == "failed"
    assert not PushSubscription.objects.exists()


@VAPID
@responses.activate
def test_push_service_5xx_is_retried(frozen_clock):
    customer = CustomerFactory()
    subscribe(customer, *browser_keys())
    responses.post(PUSH_ENDPOINT, status=503)
    n = row_for("order.shipped", Channel.PUSH, customer, f"user:{customer.pk}")
    assert notification_deliver(notification_id=n.pk).result == "retry"
    assert PushSubscription.objects.count() == 1


# --- templates: validation, preview, versions -------------------------------------------------

def test_push_and_whatsapp_templates_validate_preview_and_keep_versions(admin_user):
    from django.core.exceptions import ValidationError

    from notifications.models import NotificationTemplate
    from notifications.rendering import preview
    from notifications.services import template_save, template_validate

    with pytest.raises(ValidationError) as too_long:
        template_validate(event="order.shipped", audience="customer", channel="push", subject="Shipped",
                          text_body="x" * 600, html_body="")
    assert "browser notification" in str(too_long.value)
    with pytest.raises(ValidationError) as unknown:
        template_validate(event="order.shipped", audience="customer", channel="whatsapp", subject="",
                          text_body="{{ order.nope }}", html_body="")
    assert "order.nope" in str(unknown.value)
    shown = preview(event="order.shipped", audience="customer", channel="whatsapp",
                    sources={"text": "Order {{ order.number }} is on its way"})
    assert shown["errors"] == {} and shown["text"] == "Order NS-SAMP-LE42 is on its way"
    template = NotificationTemplate(event="order.shipped", audience="customer", channel="push", language="en",
                                    subject="{{ order.number }} shipped", text_body="With {{ shipment.carrier }}")
    template_save(template=template, user=admin_user)
    template.subject = "Order {{ order.number }} shipped"
    template_save(template=template, user=admin_user)
    assert list(template.versions.values_list("version", flat=True)) == [2, 1]
