"""Email provider webhooks: only the configured ESP's URL answers, it needs ANYMAIL_WEBHOOK_SECRET,
malformed bodies are 400s and replays are ignored; production refuses to pass check --deploy
without the secret."""
import base64
import hashlib
import hmac
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.test import override_settings

from notifications.models import DeliveryAttempt, Suppression
from orders.services import order_transition

pytestmark = pytest.mark.django_db
SECRET = "hook:s3cret"
MAILGUN_KEY = "mailgun-signing-key"
AUTH = "Basic " + base64.b64encode(SECRET.encode()).decode()


@pytest.fixture
def attempt(order, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        order_transition(order=order, to="on_hold", note="Stock check")
    return DeliveryAttempt.objects.get(notification__channel="email")


def postmark_delivery(attempt):
    return {"RecordType": "Delivery", "MessageID": attempt.provider_message_id, "Recipient": "x@example.com",
            "DeliveredAt": "2030-01-01T10:00:00Z", "Details": "250 OK", "Tag": "", "Metadata": {}}


def post(client, url, payload, auth=AUTH):
    body = payload if isinstance(payload, str) else json.dumps(payload)
    extra = {"HTTP_AUTHORIZATION": auth} if auth else {}
    return client.post(url, body, content_type="application/json", **extra)


@override_settings(ANYMAIL={"WEBHOOK_SECRET": SECRET}, EMAIL_WEBHOOK_ESP="postmark")
@pytest.mark.parametrize("url", ["/anymail/sendgrid/tracking/", "/anymail/mailgun/tracking/",
                                 "/anymail/mandrill/", "/anymail/amazon_ses/tracking/",
                                 "/anymail/postmark/inbound/"])
def test_only_the_configured_providers_tracking_url_answers(client, url):
    assert post(client, url, {"anything": 1}).status_code == 404


@override_settings(ANYMAIL={"WEBHOOK_SECRET": SECRET}, EMAIL_BACKEND="anymail.backends.sendgrid.EmailBackend")
def test_the_provider_defaults_to_the_email_backends_esp(client):
    assert post(client, "/anymail/postmark/tracking/", {}).status_code == 404
    assert post(client, "/anymail/sendgrid/tracking/", "[]").status_code == 200


@override_settings(ANYMAIL={"WEBHOOK_SECRET": SECRET}, EMAIL_WEBHOOK_ESP="postmark")
@pytest.mark.parametrize("url", ["/anymail/postmark/tracking/", "/anymail/postmark/tracking"])
def test_configured_provider_with_or_without_slash_needs_the_secret(client, attempt, url):
    assert post(client, url, postmark_delivery(attempt), auth=None).status_code == 400
    attempt.refresh_from_db()
    assert attempt.status == "sent"
    assert post(client, url, postmark_delivery(attempt)).status_code == 200
    attempt.refresh_from_db()
    assert attempt.status == "delivered"


@override_settings(ANYMAIL={}, EMAIL_WEBHOOK_ESP="postmark", DEBUG=False)
def test_without_a_webhook_secret_the_webhook_is_refused(client, attempt):
    response = post(client, "/anymail/postmark/tracking/", postmark_delivery(attempt), auth=None)
    assert response.status_code == 403
    attempt.refresh_from_db()
    assert attempt.status == "sent"


@override_settings(ANYMAIL={"WEBHOOK_SECRET": SECRET}, EMAIL_WEBHOOK_ESP="postmark")
@pytest.mark.parametrize("body", ['{"RecordType": "Bounce"}', '{"RecordType": "Delivery", "DeliveredAt": "nope"}',
                                  "[1, 2", '"just a string"', '{"RecordType": ' * 5000])
def test_malformed_provider_bodies_get_a_4xx_or_are_ignored_never_a_500(client, attempt, body):
    response = post(client, "/anymail/postmark/tracking/", body)
    assert response.status_code in (200, 400), response.content
    attempt.refresh_from_db()
    assert attempt.status == "sent"


@override_settings(ANYMAIL={"WEBHOOK_SECRET": SECRET}, EMAIL_WEBHOOK_ESP="postmark")
def test_a_replayed_postmark_bounce_is_ignored(client, attempt):
    bounce = {"RecordType": "Bounce", "ID": 4242, "MessageID": attempt.provider_message_id, "Type": "HardBounce",
              "TypeCode": 1, "Email": "x@example.com", "Description": "gone", "BouncedAt": "2030-01-01T10:00:00Z"}
    assert post(client, "/anymail/postmark/tracking/", bounce).status_code == 200
    Suppression.objects.all().delete()
    assert post(client, "/anymail/postmark/tracking/", bounce).status_code == 200
    assert not Suppression.objects.exists()  # the replay did nothing


def mailgun_event(attempt, *, timestamp, token="tok-1", event="delivered"):
    signature = hmac.new(MAILGUN_KEY.encode(), f"{timestamp}{token}".encode(), hashlib.sha256).hexdigest()
    return {"signature": {"timestamp": str(timestamp), "token": token, "signature": signature},
            "event-data": {"event": event, "timestamp": timestamp, "recipient": "x@example.com",
                           "message": {"headers": {"message-id": attempt.provider_message_id.strip("<>")}}}}


@override_settings(ANYMAIL={"WEBHOOK_SECRET": SECRET, "MAILGUN_WEBHOOK_SIGNING_KEY": MAILGUN_KEY},
                   EMAIL_WEBHOOK_ESP="mailgun")
def test_mailgun_stale_signature_and_replayed_token_are_refused(client, attempt):
    stale = mailgun_event(attempt, timestamp=int(time.time()) - 3600)
    response = post(client, "/anymail/mailgun/tracking/", stale)
    assert response.status_code == 400
    attempt.refresh_from_db()
    assert attempt.status == "sent"

    fresh = mailgun_event(attempt, timestamp=int(time.time()), event="failed")
    fresh["event-data"].update({"severity": "permanent", "reason": "bounce"})
    assert post(client, "/anymail/mailgun/tracking/", fresh).status_code == 200
    attempt.refresh_from_db()
    assert attempt.status == "bounced"
    Suppression.objects.all().delete()
    assert post(client, "/anymail/mailgun/tracking/", fresh).status_code == 200  # same token again
    assert not Suppression.objects.exists()


def _deploy_check(**env_overrides):
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANYMAIL_") and k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    env.update({"DJANGO_SETTINGS_MODULE": "notify_site.settings.production", "SECRET_KEY": "".join(chr(65 + i % 26) for i in range(7, 67)),
                "ALLOWED_HOSTS": "shop.example.com", "DATABASE_URL": "sqlite:///:memory:", "REDIS_URL": ""})
    env.update(env_overrides)
    return subprocess.run([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
                          cwd=Path(settings.BASE_DIR), env=env, capture_output=True, text=True, timeout=120)


def test_check_deploy_fails_in_production_without_the_webhook_secret():
    without = _deploy_check()
    assert without.returncode != 0
    assert "notifications.E001" in without.stderr and "ANYMAIL_WEBHOOK_SECRET" in without.stderr
    with_secret = _deploy_check(ANYMAIL_WEBHOOK_SECRET="hook:" + "k" * 40)
    assert with_secret.returncode == 0, with_secret.stderr
