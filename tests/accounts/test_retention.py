"""Retention: after PRIVACY_RETENTION_DAYS message bodies, contexts and provider errors are
redacted (row, status and legal basis kept); carrier webhook payloads likewise; exactly the old rows."""
import datetime

import pytest
import time_machine

from accounts.retention import retention_redact
from notifications.models import DeliveryAttempt, Notification
from orders.models import CarrierWebhookLog
from tests.factories import OrderFactory

pytestmark = pytest.mark.django_db
START = datetime.datetime(2030, 1, 16, 11, 0, tzinfo=datetime.UTC)


def _message(order, key, status="sent"):
    n = Notification.objects.create(
        event="order.placed", event_key=key, audience="customer", recipient_address=order.email, channel="email",
        category="transactional", order=order, status=status, context={"order": {"number": order.number}},
        subject=f"Order {order.number}", body_text="Hello Ada, 1 Analytical Row", body_html="<p>Hello Ada</p>",
        legal_basis=f"contract: order {order.number}", last_error="550 ada@example.com unknown")
    DeliveryAttempt.objects.create(notification=n, status="failed", provider="esp", error="550 ada@example.com")
    return n


def _webhook(key):
    return CarrierWebhookLog.objects.create(carrier="easypost", event_id=key, outcome="processed",
                                            payload={"result": {"to": "Ada Lovelace, 1 Analytical Row"}})


def test_exactly_the_rows_older_than_the_period_are_redacted(settings):
    settings.PRIVACY_RETENTION_DAYS = 90
    settings.CARRIER_WEBHOOK_RETENTION_DAYS = 30
    order = OrderFactory()
    with time_machine.travel(START, tick=False) as clock:
        old = _message(order, "old")
        old_queued = _message(order, "old-held", status="queued")
        old_hook = _webhook("old")
        clock.shift(datetime.timedelta(days=60))
        middle = _message(order, "middle")
        middle_hook = _webhook("middle")
        clock.shift(datetime.timedelta(days=30, seconds=1))  # "old" is now 90 days and 1 s old, "middle" 30 d 1 s

        done = retention_redact()
        assert done["notifications"] == 1 and done["attempts"] == 1 and done["carrier_webhooks"] == 2

        old.refresh_from_db()
        assert (old.subject, old.body_text, old.body_html, old.last_error) == ("", "", "", "")
        assert old.context == {"redacted": (START + datetime.timedelta(days=90, seconds=1)).date().isoformat()}
        assert (old.status, old.legal_basis, old.recipient_address, old.event) == (
            "sent", f"contract: order {order.number}", order.email, "order.placed")
        assert old.delivery_attempts.get().error == "" and old.delivery_attempts.get().status == "failed"

        for kept in (middle, old_queued):  # too recent / still waiting to be sent
            kept.refresh_from_db()
            assert kept.body_text == "Hello Ada, 1 Analytical Row" and kept.context["order"]["number"] == order.number
            assert kept.delivery_attempts.get().error
        old_hook.refresh_from_db(), middle_hook.refresh_from_db()
        assert "redacted" in old_hook.payload and "redacted" in middle_hook.payload  # both past 30 days

        assert retention_redact()["notifications"] == 0  # idempotent

        clock.shift(datetime.timedelta(days=59))  # "middle" is 89 days old: kept
        assert retention_redact()["notifications"] == 0
        clock.shift(datetime.timedelta(days=1))
        assert retention_redact()["notifications"] == 1
        middle.refresh_from_db()
        assert middle.body_text == "" and middle.status == "sent"


def test_the_period_comes_from_the_setting_and_beat_runs_it(settings):
    from django.conf import settings as conf

    assert conf.CELERY_BEAT_SCHEDULE["privacy.redact-expired"]["task"] == "privacy.redact_expired"
    from accounts.tasks import redact_expired

    settings.PRIVACY_RETENTION_DAYS = 7
    order = OrderFactory()
    with time_machine.travel(START, tick=False) as clock:
        row = _message(order, "week")
        clock.shift(datetime.timedelta(days=6))
        redact_expired.delay()
        row.refresh_from_db()
        assert row.body_text
        clock.shift(datetime.timedelta(days=2))
        redact_expired.delay()
        row.refresh_from_db()
        assert row.body_text == "" and row.status == "sent"


def test_a_large_backlog_is_redacted_over_several_runs(settings, monkeypatch):
    from accounts import retention

    monkeypatch.setattr(retention, "BATCH", 2)
    monkeypatch.setattr(retention, "MAX_BATCHES", 2)
    order = OrderFactory()
    with time_machine.travel(START, tick=False) as clock:
        for i in range(5):
            _message(order, f"backlog-{i}")
        clock.shift(datetime.timedelta(days=91))
        assert [retention_redact()["notifications"] for _ in range(3)] == [4, 1, 0]
        assert not Notification.objects.exclude(body_text="").exists()
