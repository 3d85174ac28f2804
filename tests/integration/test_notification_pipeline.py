"""The notification pipeline on the real stack: storefront checkout → outbox → Redis → a real
Celery worker (2 processes) → email handed to the backend → attempts logged (PostgreSQL)."""
import email
import email.policy
import time
from decimal import Decimal
from pathlib import Path

import pytest
from django.urls import reverse

from notifications.models import DeliveryAttempt, Notification
from orders.models import Order
from tests.factories import CustomerFactory, ProductFactory, SellerFactory, StoreFactory

pytestmark = pytest.mark.services


@pytest.fixture
def worker_mail_dir(tmp_path, monkeypatch):
    """Make the worker subprocess write its mail to files this test can read."""
    directory = tmp_path / "mail"
    directory.mkdir()
    monkeypatch.setenv("TEST_EMAIL_BACKEND", "django.core.mail.backends.filebased.EmailBackend")
    monkeypatch.setenv("EMAIL_FILE_PATH", str(directory))
    return directory


@pytest.fixture
def live_worker(worker_mail_dir, celery_worker_process):
    return celery_worker_process


def wait_for(predicate, timeout=45.0, what="condition", log: Path | None = None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    rows = list(Notification.objects.values_list("event", "audience", "channel", "status", "last_error"))
    worker_log = log.read_text()[-3000:] if log and log.exists() else ""
    pytest.fail(f"timed out waiting for {what}; outbox: {rows}\nworker log:\n{worker_log}")


def read_mail(directory: Path) -> list[email.message.EmailMessage]:
    messages = []
    for path in sorted(directory.glob("*.log")):
        # The file backend separates messages with a line of 79 dashes.
        for chunk in path.read_bytes().split(b"\n" + b"-" * 79 + b"\n"):
            if chunk.strip():
                messages.append(email.message_from_bytes(chunk.lstrip(), policy=email.policy.default))
    return messages


def parts(message):
    text = message.get_body(preferencelist=("plain",)).get_content()
    html = message.get_body(preferencelist=("html",)).get_content()
    return text, html


def test_storefront_checkout_sends_confirmation_and_seller_alert_through_a_real_worker(live_worker, worker_mail_dir,
                                                                                      client, tmp_path):
    store = StoreFactory(name="Linen & Co", sender_name="Linen and Co")
    SellerFactory(store=store, email="seller@linen.example")
    shirt = ProductFactory(store=store, name="Linen shirt", price=Decimal("25.00"), stock_on_hand=5)
    socks = ProductFactory(store=store, name="Wool socks", price=Decimal("6.25"), stock_on_hand=5)
    customer = CustomerFactory(email="ada@example.com", first_name="Ada")
    client.force_login(customer)

    client.post(reverse("storefront:cart_add", args=[shirt.pk]), {"quantity": 1})
    client.post(reverse("storefront:cart_add", args=[socks.pk]), {"quantity": 2})
    response = client.post(reverse("storefront:checkout"), {
        "email": "ada@example.com", "name": "Ada Lovelace", "line1": "1 Analytical Row", "line2": "",
        "city": "London", "postcode": "N1 9GU", "country": "GB", "phone": "", "shipping_method": "standard",
        "payment_method": "card", "card_number": "4242 4242 4242 4242",
    })
    assert response.status_code == 302, response.content.decode()[:2000]
    order = Order.objects.get(customer=customer)

    rows = Notification.objects.filter(order=order)
    wait_for(lambda: rows.count() >= 4 and not rows.exclude(status="sent").exists(), what="the worker to send",
             log=tmp_path / "worker.log")
    assert set(rows.values_list("audience", "channel")) == {("customer", "email"), ("customer", "inapp"),
                                                             ("seller", "email"), ("seller", "inapp")}
    attempts = DeliveryAttempt.objects.filter(notification__order=order)
    assert attempts.count() == 4 and set(attempts.values_list("status", flat=True)) == {"sent"}
    assert not Notification.objects.filter(event="order.processing").exists()  # paid at checkout

    wait_for(lambda: len(read_mail(worker_mail_dir)) >= 2, what="mail files")
    mails = {m["To"]: m for m in read_mail(worker_mail_dir)}
    confirmation = mails["ada@example.com"]
    assert order.number in confirmation["Subject"]
    assert confirmation["From"].startswith("Linen and Co via")
    text, html = parts(confirmation)
    for body in (text, html):
        for expected in (order.number, "Linen shirt", "Wool socks", "£25.00", "£6.25", "£37.50", "£3.99",
                         f"£{order.tax_total}", f"£{order.total}", "1 Analytical Row", "N1 9GU", "Standard",
                         "4242", order.estimated_delivery.strftime("%-d %b %Y"), "/o/"):
            assert expected in body, expected
        assert "captured" in body.lower()
    assert "2 × Wool socks @ £6.25" in text
    assert 'style="' in html  # CSS inlined

    alert = mails["seller@linen.example"]
    seller_text, _ = parts(alert)
    assert order.number in alert["Subject"]
    assert "Linen shirt" in seller_text and "1 Analytical Row" in seller_text and "captured" in seller_text.lower()
    assert f"/seller/orders/{order.number}/" in seller_text
