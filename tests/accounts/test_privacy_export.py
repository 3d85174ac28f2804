"""Download my data: an archive built in the background, announced through the outbox with a
signed link that expires, holding every part of the account and nothing of anyone else."""
import datetime
import re

import pytest
from django.core import mail
from django.test import Client

from accounts.models import DataExport
from accounts.retention import retention_redact
from notifications.models import InboxMessage, Notification
from tests.accounts.privacy_helpers import make_person, open_zip

pytestmark = pytest.mark.django_db
LINK = re.compile(r"http://[^\s\"]+/account/privacy/export/[^\s\"/]+/")


@pytest.fixture
def people(django_capture_on_commit_callbacks, frozen_clock):
    zeb = make_person("zebedee", django_capture_on_commit_callbacks=django_capture_on_commit_callbacks,
                      ip="203.0.113.7")
    yol = make_person("yolanda", django_capture_on_commit_callbacks=django_capture_on_commit_callbacks,
                      ip="198.51.100.23", store=zeb.order.store)
    mail.outbox = []
    return zeb, yol


def _client(person):
    client = Client()
    client.force_login(person.user)
    return client


def _request_export(client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client.post("/account/privacy/export/")
    # The build task ran on commit and enqueued the email, whose own delivery ran on commit too.
    while callbacks:
        pending, callbacks[:] = list(callbacks), []
        with django_capture_on_commit_callbacks(execute=True) as more:
            for callback in pending:
                callback()
        callbacks.extend(more)
    return response


def test_the_emailed_link_downloads_every_part_of_the_account_and_nothing_of_another_customer(
        people, django_capture_on_commit_callbacks):
    zeb, yol = people
    client = _client(zeb)
    response = _request_export(client, django_capture_on_commit_callbacks)
    assert response.status_code == 302

    [email] = [m for m in mail.outbox if zeb.user.email in m.to]
    assert "data is ready" in email.subject
    assert "works until" in email.body
    row = Notification.objects.get(event="account.data_export_ready", channel="email")
    assert (row.category, row.status, row.recipient_id) == ("security", "sent", zeb.user.pk)
    assert "GDPR" in row.legal_basis
    assert InboxMessage.objects.filter(user=zeb.user, title="Your data download is ready").exists()

    download = client.get(LINK.search(email.body).group(0))
    assert download.status_code == 200
    assert download["Content-Type"] == "application/zip"
    assert "attachment" in download["Content-Disposition"]
    data, raw = open_zip(b"".join(download.streaming_content))

    p = zeb.personal
    assert data["account"]["email"] == p["email"] and data["account"]["phone"] == p["phone"]
    assert data["addresses"] == [{"name": f"{p['first_name']} {p['last_name']}", "line1": p["line1"], "line2": "",
                                  "city": p["city"], "postcode": p["postcode"], "country": "GB"}]
    [order] = data["orders"]
    assert order["number"] == zeb.order.number and order["customer_note"] == p["note"]
    assert order["lines"] and order["payments"][0]["card_last4"] == "4242" and order["timeline"]
    events = {m["event"] for m in data["messages"]["notifications"]}
    assert "order.placed" in events
    assert all(m["to"] in (p["email"], p["phone"], f"user:{zeb.user.pk}") for m in data["messages"]["notifications"])
    assert any(m["subject"] for m in data["messages"]["notifications"])
    assert data["messages"]["inbox"]
    assert {c["kind"] for c in data["consents"]} >= {"marketing_email"}
    assert data["loyalty"] == {"points": 420, "tier": "Silver", "updated_at": data["loyalty"]["updated_at"],
                               "ledger": data["loyalty"]["ledger"]}
    assert {(a["ip_address"], a["user_agent"]) for a in data["login_activity"]} >= {(p["ip"], p["user_agent"])}
    assert data["preferences"]["channels"] == [{"category": "shipping_updates", "channel": "sms", "enabled": False}]
    assert len(data["back_in_stock"]) == 1

    # Nothing of the other customer of the same store, and none of the seller copies.
    for value in list(yol.personal.values()) + [yol.order.number]:
        assert value.lower() not in raw.lower(), value
    seller_email = zeb.order.store.sellers.first().email
    assert seller_email not in raw


def test_the_link_is_refused_to_another_customer_when_tampered_and_once_expired(
        people, django_capture_on_commit_callbacks, frozen_clock):
    zeb, yol = people
    _request_export(_client(zeb), django_capture_on_commit_callbacks)
    link = LINK.search(mail.outbox[0].body).group(0)

    other = _client(yol).get(link)
    assert other.status_code == 403 and "another account" in other.content.decode()
    assert other.get("Content-Type", "").startswith("text/html")
    assert Client().get(link).status_code == 302  # signed out: to the login page first
    assert _client(zeb).get(link[:-3] + "xx/").status_code == 403

    frozen_clock.shift(datetime.timedelta(hours=73))
    expired = _client(zeb).get(link)
    assert expired.status_code == 410 and "expired" in expired.content.decode()
    export = DataExport.objects.get(user=zeb.user)
    from accounts.models import export_storage

    default_storage = export_storage()

    name = export.file.name
    assert default_storage.exists(name)
    assert retention_redact()["exports"] == 1
    export.refresh_from_db()
    assert export.status == "expired" and not export.file and not default_storage.exists(name)


def test_one_request_at_a_time_and_the_privacy_page_shows_it(people, django_capture_on_commit_callbacks):
    zeb, _ = people
    client = _client(zeb)
    assert client.post("/account/privacy/export/").status_code == 302  # not committed: still being prepared
    again = client.post("/account/privacy/export/")
    assert again.status_code == 409 and "already being prepared" in again.content.decode()
    assert DataExport.objects.filter(user=zeb.user).count() == 1
    page = client.get("/account/privacy/").content.decode()
    assert "Being prepared" in page and "Delete my account" in page
    assert 'href="/account/privacy/"' in client.get("/account/preferences/").content.decode()
    assert client.get("/account/privacy/export/").status_code == 405 or client.get(
        "/account/privacy/export/").status_code in (403, 404)
