"""Structured JSON logs: one object per line with the request id, the order number of order pages
and the notification id in delivery tasks."""
import io
import json
import logging

import pytest

from ops.logs import ContextFilter, JsonLogFormatter, bind, logging_config
from tests.factories import OrderFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def json_lines():
    """Attach the production handler (JSON formatter + context filter) to the root logger."""
    config = logging_config("json", "INFO")["formatters"]["json"]
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(ContextFilter())
    handler.setFormatter(JsonLogFormatter(config["format"], datefmt=config["datefmt"],
                                         rename_fields=config["rename_fields"]))
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield lambda: [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]
    finally:
        root.removeHandler(handler)


def test_a_request_logs_json_with_its_request_id_and_order_number(client, customer, json_lines):
    client.force_login(customer)
    response = client.get("/account/orders/NS-NOPE-0000/", HTTP_X_REQUEST_ID="req-1234567890abc")
    assert response.status_code == 404
    assert response["X-Request-ID"] == "req-1234567890abc"
    [line] = [entry for entry in json_lines() if "Not Found" in entry["message"]]
    assert line["request_id"] == "req-1234567890abc"
    assert line["order_number"] == "NS-NOPE-0000"
    assert line["level"] == "WARNING" and line["logger"] == "django.request" and line["time"]


def test_a_bad_request_id_is_replaced(client):
    response = client.get("/healthz", HTTP_X_REQUEST_ID="<script>")
    assert response["X-Request-ID"] != "<script>" and len(response["X-Request-ID"]) == 32


def test_a_delivery_task_logs_its_notification_id(json_lines, django_capture_on_commit_callbacks):
    from notifications.models import Notification
    from notifications.tasks import deliver

    order = OrderFactory()
    n = Notification.objects.create(event="order.placed", event_key="k", audience="customer", channel="email",
                                    recipient_address=order.email, category="transactional", order=order,
                                    status="sent")
    deliver.delay(n.pk)  # nothing to do (already sent): the task still logs that it ran
    lines = [entry for entry in json_lines() if entry["logger"] == "celery.app.trace"]
    assert lines and lines[-1]["notification_id"] == n.pk and lines[-1]["task_id"]


def test_code_can_bind_more_and_plain_logs_still_work(json_lines):
    with bind(order_number="NS-1234-ABCD", notification_id=7):
        logging.getLogger("notifications.delivery").warning("Provider slow")
    logging.getLogger("notifications.delivery").warning("Outside")
    inside, outside = [e for e in json_lines() if e["logger"] == "notifications.delivery"]
    assert (inside["order_number"], inside["notification_id"]) == ("NS-1234-ABCD", 7)
    assert "order_number" not in outside
    assert logging_config("plain", "INFO")["handlers"]["console"]["formatter"] == "plain"


def test_production_settings_log_json():
    import subprocess
    import sys

    out = subprocess.run(
        [sys.executable, "-c", "import django; django.setup(); import logging; "
         "logging.getLogger('probe').warning('hello from production')"],
        env={"DJANGO_SETTINGS_MODULE": "notify_site.settings.production", "SECRET_KEY": "x" * 50,
             "ALLOWED_HOSTS": "shop.example.com", "PATH": "/usr/bin:/bin"},
        capture_output=True, text=True, timeout=60, cwd=str(__import__("pathlib").Path(__file__).parents[2]))
    line = json.loads(out.stderr.strip().splitlines()[-1])
    assert line["message"] == "hello from production" and line["level"] == "WARNING"
