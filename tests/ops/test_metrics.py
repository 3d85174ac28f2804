"""/metrics: Prometheus text behind a bearer token; queue depth, outbox by status, send latency and
failures per channel, webhook intake per source, sweeper work, heartbeat ages."""
import pytest
from prometheus_client.parser import text_string_to_metric_families

from notifications.models import DeliveryAttempt
from notifications.tasks import sweep_outbox
from tests.factories import ProductFactory
from tests.notifications.helpers import place

pytestmark = pytest.mark.django_db
TOKEN = "s3cret-metrics-token"


@pytest.fixture
def token(settings):
    settings.METRICS_TOKEN = TOKEN
    settings.EASYPOST_WEBHOOK_SECRET = "easypost-secret"
    return TOKEN


def scrape(client) -> dict:
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=0.0.4")
    samples = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def test_metrics_need_the_token(client, settings):
    settings.METRICS_TOKEN = ""
    assert client.get("/metrics").status_code == 404  # off without a token
    settings.METRICS_TOKEN = TOKEN
    assert client.get("/metrics").status_code == 401
    wrong = client.get("/metrics", HTTP_AUTHORIZATION="Bearer nope")
    assert wrong.status_code == 401 and wrong["WWW-Authenticate"].startswith("Bearer")
    assert client.get("/metrics", HTTP_AUTHORIZATION=f"Basic {TOKEN}").status_code == 401


def test_metrics_report_the_pipeline(client, token, memory_broker, django_capture_on_commit_callbacks):
    product = ProductFactory(stock_on_hand=10)
    with django_capture_on_commit_callbacks(execute=True):
        place({product.pk: 1}, email="ada@example.com")
    attempts = DeliveryAttempt.objects.count()
    assert attempts
    DeliveryAttempt.objects.filter(pk=DeliveryAttempt.objects.first().pk).update(status="failed", latency_ms=3000)

    # Three messages wait in a queue nobody consumes.
    with memory_broker.connection_for_write() as connection, connection.SimpleQueue("celery") as queue:
        for number in range(3):
            queue.put({"waiting": number})

    # Webhooks: a carrier one with a bad signature, a Twilio status without one.
    assert client.post("/webhooks/carriers/easypost/", data="{}", content_type="application/json").status_code == 401
    assert client.post("/notifications/twilio/status/", {"MessageSid": "SM1"}).status_code in (400, 403)
    sweep_outbox.delay()

    m = scrape(client)
    assert m[("notify_queue_depth", (("queue", "celery"),))] == 3
    assert m[("notify_outbox_notifications", (("channel", "email"), ("status", "sent")))] >= 1
    by_channel = {}
    for (name, labels), value in m.items():
        if name == "notify_delivery_attempts_total":
            by_channel[dict(labels)["channel"], dict(labels)["status"]] = value
    assert sum(by_channel.values()) == attempts
    assert any(status == "failed" and value == 1 for (_, status), value in by_channel.items())
    total = sum(v for (name, labels), v in m.items() if name == "notify_send_latency_seconds_count")
    assert total == attempts
    failed_channel = DeliveryAttempt.objects.get(status="failed").notification.channel
    assert m[("notify_send_latency_seconds_bucket", (("channel", failed_channel), ("le", "2.5")))] < \
        m[("notify_send_latency_seconds_bucket", (("channel", failed_channel), ("le", "5.0")))]
    assert m[("notify_webhook_requests_total", (("outcome", "rejected_401"), ("source", "carrier_easypost")))] == 1
    assert sum(v for (name, labels), v in m.items()
               if name == "notify_webhook_requests_total" and dict(labels)["source"] == "twilio_status") == 1
    assert m[("notify_sweeper_runs_total", ())] == 1
    assert ("notify_outbox_sweepable", ()) in m


def test_queue_depth_is_minus_one_when_the_broker_is_down(client, token, memory_broker):
    memory_broker.conf.broker_url = "redis://127.0.0.1:1/0"
    m = scrape(client)
    assert m[("notify_queue_depth", (("queue", "celery"),))] == -1
