"""Signed webhooks to sellers' endpoints: a channel of the outbox, verified with standardwebhooks itself."""
import datetime
import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from unittest import mock

import pytest
import requests
import responses
import time_machine
from django.conf import settings
from django.core import mail
from django.urls import reverse
from standardwebhooks import Webhook, WebhookVerificationError

from notifications.channels.webhook import RETRY_SCHEDULE_SECONDS
from notifications.delivery import outbox_sweep
from notifications.models import InboxMessage, Notification
from orders.services import order_transition, shipment_create
from tests.factories import OrderFactory, StoreFactory
from webhooks.models import WebhookAttempt, WebhookEndpoint
from webhooks.services import (
    WebhookError,
    endpoint_create,
    endpoint_rotate_secret,
    webhook_ping,
)

pytestmark = pytest.mark.django_db
HOOK = "https://erp.example.com/hooks/notify"
START = datetime.datetime(2030, 1, 16, 11, 0, tzinfo=datetime.UTC)


@pytest.fixture
def commit(django_capture_on_commit_callbacks):
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture
def clock():
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


@pytest.fixture
def endpoint(store):
    return endpoint_create(store=store, url=HOOK, events=["order.status_changed", "shipment.created"])


def process(order, commit):
    with commit():
        order_transition(order=order, to="processing", actor="system", note="Paid")


class Receiver(BaseHTTPRequestHandler):
    received = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        Receiver.received.append((dict(self.headers), body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def receiver_url():
    Receiver.received = []
    server = HTTPServer(("127.0.0.1", 8131), Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield "http://127.0.0.1:8131/hooks"
    server.shutdown()
    server.server_close()


def test_a_real_receiver_verifies_our_signature_with_standardwebhooks(store, order, receiver_url, commit):
    endpoint = endpoint_create(store=store, url=receiver_url, events=["order.status_changed"])
    process(order, commit)
    (headers, body), = Receiver.received
    payload = Webhook(endpoint.secret).verify(body, headers)  # raises if the signature is wrong
    assert payload["type"] == "order.status_changed"
    assert payload["data"]["order"]["number"] == order.number and payload["data"]["to_status"] == "processing"
    row = Notification.objects.get(channel="webhook")
    assert headers["webhook-id"] == f"msg_{row.pk}" and headers["webhook-signature"].startswith("v1,")
    assert row.status == "sent" and row.store_id == store.pk
    attempt = WebhookAttempt.objects.get()
    assert attempt.status_code == 204 and attempt.succeeded and attempt.latency_ms >= 0
    with pytest.raises(WebhookVerificationError):
        Webhook("whsec_" + "A" * 43 + "=").verify(body, headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(endpoint.secret).verify(body.replace(b"processing", b"cancelled"), headers)


@responses.activate
def test_one_row_per_subscribed_endpoint_and_event_only_for_its_store(store, order, endpoint, commit):
    responses.post(HOOK, status=200, body="ok")
    responses.post("https://wms.example.com/in", status=200)
    everything = endpoint_create(store=store, url="https://wms.example.com/in", events=[])
    endpoint_create(store=store, url="https://other.example.com/in", events=["return.status_changed"])
    endpoint_create(store=StoreFactory(), url="https://someone-else.example.com/in")
    process(order, commit)
    rows = Notification.objects.filter(channel="webhook")
    assert sorted(r.recipient_address for r in rows) == sorted([endpoint.address, everything.address])
    assert {c.request.url for c in responses.calls} == {HOOK, "https://wms.example.com/in"}
    assert all(r.status == "sent" and r.event == "order.status_changed" for r in rows)


def test_failures_retry_on_the_documented_schedule_and_log_every_attempt(store, order, endpoint, clock, commit):
    assert RETRY_SCHEDULE_SECONDS == (5, 300, 1800, 7200, 18000, 36000, 36000)
    assert 23 * 3600 < sum(RETRY_SCHEDULE_SECONDS) < 30 * 3600  # about a day
    with responses.RequestsMock() as rsps:
        rsps.post(HOOK, status=503, body="upstream down " + "x" * 2000)
        process(order, commit)
        row = Notification.objects.get(channel="webhook")
        assert row.status == "queued" and row.attempts == 1
        assert row.send_after == START + datetime.timedelta(seconds=5)
        attempt = WebhookAttempt.objects.get()
        assert attempt.status_code == 503 and attempt.response_excerpt.startswith("upstream down")
        assert len(attempt.response_excerpt) == 500 and not attempt.succeeded
        # Not before its time (a redelivered task or the sweeper finds nothing due)...
        outbox_sweep(now=START + datetime.timedelta(seconds=3))
        assert WebhookAttempt.objects.count() == 1
        # ...then the second try, and the third after five minutes more.
        clock.move_to(START + datetime.timedelta(seconds=130))
        outbox_sweep()
        row.refresh_from_db()
        assert WebhookAttempt.objects.count() == 2 and row.attempts == 2
        assert row.send_after == START + datetime.timedelta(seconds=130 + 300)
        rsps.replace(responses.POST, HOOK, status=200, body='{"ok":true}')
        clock.move_to(START + datetime.timedelta(seconds=130 + 300 + 130))
        outbox_sweep()
    row.refresh_from_db()
    assert row.status == "sent" and WebhookAttempt.objects.first().status_code == 200
    endpoint.refresh_from_db()
    assert endpoint.failing_since is None and endpoint.enabled


def test_gives_up_after_the_last_scheduled_try(store, order, endpoint, clock, commit):
    with responses.RequestsMock() as rsps:
        rsps.post(HOOK, status=500)
        process(order, commit)
        row = Notification.objects.get(channel="webhook")
        at = START
        for _ in RETRY_SCHEDULE_SECONDS:
            row.refresh_from_db()
            at = row.send_after + datetime.timedelta(seconds=121)
            clock.move_to(at)
            endpoint.failing_since = None  # keep the endpoint on: this test is about the schedule
            WebhookEndpoint.objects.filter(pk=endpoint.pk).update(failing_since=None)
            outbox_sweep()
    row.refresh_from_db()
    assert row.status == "failed" and row.attempts == len(RETRY_SCHEDULE_SECONDS) + 1
    assert WebhookAttempt.objects.count() == 8


def test_an_endpoint_failing_for_a_day_is_disabled_and_its_sellers_alerted(store, seller, order, endpoint, clock,
                                                                           commit):
    mail.outbox = []
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(failing_since=START - datetime.timedelta(hours=24, minutes=1))
    with responses.RequestsMock() as rsps:
        rsps.post(HOOK, body=requests.ConnectionError("refused"))
        process(order, commit)
    endpoint.refresh_from_db()
    assert not endpoint.enabled and "24 hours" in endpoint.disabled_reason
    alert = [m for m in mail.outbox if seller.email in m.to]
    assert len(alert) == 1 and HOOK in alert[0].subject and "/seller/webhooks/" in alert[0].body
    assert InboxMessage.objects.filter(user=seller, title__contains="Webhook endpoint disabled").exists()
    # A disabled endpoint gets no new messages.
    with commit():
        order_transition(order=order, to="on_hold", actor="system", note="Address check")
    assert Notification.objects.filter(channel="webhook").count() == 1


@responses.activate
def test_redirects_are_not_followed(store, order, endpoint, commit):
    responses.post(HOOK, status=302, headers={"Location": "http://169.254.169.254/latest/meta-data/"})
    process(order, commit)
    assert len(responses.calls) == 1
    attempt = WebhookAttempt.objects.get()
    assert attempt.status_code == 302 and "not followed" in attempt.error


@pytest.mark.parametrize("url", ["http://127.0.0.1:8000/x", "https://127.0.0.1/x", "https://10.1.2.3/x",
                                 "https://192.168.0.10/x", "https://169.254.169.254/latest", "https://[::1]/x",
                                 "https://localhost/x", "http://93.184.216.34/x", "ftp://example.com/x",
                                 "https://user:pw@93.184.216.34/x"])
def test_private_loopback_and_link_local_targets_are_refused_in_production(settings, store, url):
    settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS = False
    with pytest.raises(WebhookError):
        endpoint_create(store=store, url=url)
    assert not WebhookEndpoint.objects.exists()


def test_a_public_https_target_is_accepted_in_production(settings, store):
    settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS = False
    assert endpoint_create(store=store, url="https://93.184.216.34/hooks").pk


@responses.activate
def test_a_target_that_became_private_is_refused_at_send_time(settings, store, order, endpoint, commit):
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(url="https://10.0.0.5/hooks")
    settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS = False
    process(order, commit)
    assert len(responses.calls) == 0
    row = Notification.objects.get(channel="webhook")
    assert row.status == "failed" and "refused" in row.last_error.lower()


@responses.activate
def test_rotation_signs_with_both_secrets_during_the_grace_period(settings, store, order, endpoint, clock, commit):
    responses.post(HOOK, status=200)
    old = endpoint.secret
    endpoint_rotate_secret(endpoint=endpoint)
    assert endpoint.secret != old
    with commit():
        webhook_ping(endpoint=endpoint)
    request = responses.calls[-1].request
    headers = dict(request.headers)
    assert len(headers["webhook-signature"].split(" ")) == 2
    for secret in (old, endpoint.secret):
        assert Webhook(secret).verify(request.body, headers)["type"] == "webhook.ping"
    clock.move_to(START + datetime.timedelta(hours=settings.WEBHOOKS_SECRET_GRACE_HOURS, minutes=1))
    with commit():
        webhook_ping(endpoint=endpoint)
    late = responses.calls[-1].request
    late_headers = dict(late.headers)
    assert len(late_headers["webhook-signature"].split(" ")) == 1
    Webhook(endpoint.secret).verify(late.body, late_headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(old).verify(late.body, late_headers)


@responses.activate
def test_seller_pages_add_ping_see_the_log_and_resend(client, seller, store, order, commit):
    responses.post(HOOK, status=500, body="boom")
    client.force_login(seller)
    bad = client.post(reverse("seller:webhooks"), {"url": "not a url"})
    assert bad.status_code == 422 and not WebhookEndpoint.objects.exists()
    created = client.post(reverse("seller:webhooks"), {"url": HOOK, "events": ["order.status_changed"]})
    endpoint = WebhookEndpoint.objects.get()
    assert created.status_code == 302 and endpoint.events == ["order.status_changed"]
    with commit():
        client.post(reverse("seller:webhook_ping", args=[endpoint.pk]))
    page = client.get(reverse("seller:webhook_detail", args=[endpoint.pk])).content.decode()
    assert "webhook.ping" in page and "HTTP 500" in page and "boom" in page and endpoint.secret in page
    row = Notification.objects.get(channel="webhook")
    assert row.status == "queued"  # waiting for its retry
    Notification.objects.filter(pk=row.pk).update(status="failed")
    responses.replace(responses.POST, HOOK, status=200, body="thanks")
    with commit():
        resent = client.post(reverse("seller:webhook_resend", args=[endpoint.pk, row.pk]))
    assert resent.status_code == 302
    row.refresh_from_db()
    assert row.status == "sent"
    assert responses.calls[-1].request.headers["webhook-id"] == f"msg_{row.pk}"
    assert "HTTP 200" in client.get(reverse("seller:webhook_detail", args=[endpoint.pk])).content.decode()


def test_another_sellers_endpoint_is_a_404(client, seller):
    theirs = endpoint_create(store=StoreFactory(), url=HOOK)
    client.force_login(seller)
    assert client.get(reverse("seller:webhook_detail", args=[theirs.pk])).status_code == 404
    assert client.post(reverse("seller:webhook_ping", args=[theirs.pk])).status_code == 404
    assert client.post(reverse("seller:webhook_delete", args=[theirs.pk])).status_code == 404
    assert WebhookEndpoint.objects.filter(pk=theirs.pk).exists()


@responses.activate
def test_customer_status_page_does_not_list_webhook_messages(client, customer, order, endpoint, commit):
    responses.post(HOOK, status=200)
    process(order, commit)
    client.force_login(customer)
    page = client.get(order.get_absolute_url()).content.decode()
    assert "order.status_changed" not in page and HOOK not in page


@responses.activate
def test_staff_resend_from_the_admin_sends_the_same_payload_again(store, order, endpoint, commit):
    from notifications.delivery import notification_resend

    responses.post(HOOK, status=200)
    process(order, commit)
    row = Notification.objects.get(channel="webhook")
    first = responses.calls[0].request
    with commit():
        notification_resend(notification=row, actor=None)
    row.refresh_from_db()
    again = responses.calls[1].request
    assert row.status == "sent" and again.body == first.body
    assert again.headers["webhook-id"] == first.headers["webhook-id"]


@responses.activate
def test_a_checkout_tells_an_all_events_endpoint_about_the_order_payment_and_status(store, seller, commit):
    from decimal import Decimal

    from tests.factories import ProductFactory
    from tests.notifications.helpers import place

    responses.post(HOOK, status=200)
    endpoint_create(store=store, url=HOOK)  # no events ticked = all
    shirt = ProductFactory(store=store, price=Decimal("25.00"), stock_on_hand=3)
    with commit():
        result = place({shirt.pk: 1})
    order = result.orders[0]
    types = [json.loads(c.request.body)["type"] for c in responses.calls]
    assert types == ["order.created", "payment.status_changed", "order.status_changed"]
    created = json.loads(responses.calls[0].request.body)["data"]["order"]
    assert created["number"] == order.number and created["lines"][0]["quantity"] == 1
    # The customer's and seller's messages are unaffected by the webhook rows.
    assert Notification.objects.filter(order=order, event="order.placed", channel="email").count() == 2
    assert Notification.objects.filter(order=order, channel="webhook", status="sent").count() == 3


# --- Store.webhook_events: what an order change reads instead of the endpoints -------------------

def test_store_webhook_events_follow_every_endpoint_change(store):
    from catalog.models import Store
    from webhooks.models import WebhookEndpoint
    from webhooks.services import endpoint_create, endpoint_record_result, endpoint_update

    def wanted():
        return Store.objects.get(pk=store.pk).webhook_events

    assert wanted() == []
    first = endpoint_create(store=store, url="https://hooks.example.com/a", events=["order.status_changed"])
    assert wanted() == ["order.status_changed"]
    second = endpoint_create(store=store, url="https://hooks.example.com/b", events=["shipment.created"])
    assert wanted() == ["order.status_changed", "shipment.created"]
    endpoint_update(endpoint=second, url=second.url, events=[], enabled=True)  # empty: every event type
    assert wanted() == ["*"]
    endpoint_update(endpoint=second, url=second.url, events=["shipment.created"], enabled=False)
    assert wanted() == ["order.status_changed"]
    # Failing past the limit disables it (a queryset update): the list follows.
    WebhookEndpoint.objects.filter(pk=first.pk).update(
        failing_since=datetime.datetime.now(datetime.UTC) - datetime.timedelta(hours=settings.WEBHOOKS_DISABLE_AFTER_HOURS + 1))
    assert endpoint_record_result(endpoint_id=first.pk, ok=False) is True
    assert wanted() == []
    endpoint_update(endpoint=second, url=second.url, events=["shipment.created"], enabled=True)
    assert wanted() == ["shipment.created"]
    second.delete()
    assert wanted() == []


def test_an_endpoint_added_after_the_order_was_loaded_still_gets_the_change(store, product):
    """The order a view loaded earlier carries an old copy of its store: the change reads what is
    true when it locks the order, so the new endpoint gets the event."""
    from webhooks.services import endpoint_create

    order = OrderFactory(store=store, lines=[(product, 1)], status="processing")
    order.store  # noqa: B018  (the store is cached on the instance, with no endpoint yet)
    endpoint_create(store=store, url="https://hooks.example.com/late", events=["order.status_changed"])
    with mock.patch("notifications.outbox.dispatch"):
        shipment_create(order=order, carrier="royalmail", tracking_number="RM000000001GB")
    assert Notification.objects.filter(order=order, channel="webhook", event="order.status_changed").count() == 1
