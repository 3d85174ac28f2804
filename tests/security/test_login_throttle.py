"""Login throttling (django-axes) on the site and the admin, with a clear message and an unlock path;
rate limits and the throttle key on the real client address behind a trusted proxy."""
import pytest
from django.core.management import call_command
from django.test import RequestFactory, override_settings
from django.urls import reverse

from notify_site.client_ip import client_ip
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db
LOGIN = reverse("accounts:login")
ADMIN_LOGIN = reverse("admin:login")


def fail(client, url, username, times, ip="203.0.113.5"):
    return [client.post(url, {"username": username, "password": "wrong"}, REMOTE_ADDR=ip) for _ in range(times)]


def test_site_login_locks_after_five_failures_with_a_clear_message(client):
    CustomerFactory(username="ann")
    responses = fail(client, LOGIN, "ann", 5)
    assert [r.status_code for r in responses[:4]] == [200] * 4
    locked = responses[4]
    assert locked.status_code == 429
    body = locked.content.decode()
    assert "Too many failed log-ins" in body and "try again in 15 minutes" in body and "unlock" in body
    # The right password is refused too while locked.
    right = client.post(LOGIN, {"username": "ann", "password": "pass12345!"}, REMOTE_ADDR="203.0.113.5")
    assert right.status_code == 429 and "_auth_user_id" not in client.session


def test_the_owner_from_another_address_is_not_locked_out(client):
    CustomerFactory(username="ann")
    fail(client, LOGIN, "ann", 6, ip="198.51.100.7")
    ok = client.post(LOGIN, {"username": "ann", "password": "pass12345!"}, REMOTE_ADDR="203.0.113.9")
    assert ok.status_code == 302


def test_admin_login_is_throttled_too(client, admin_user):
    responses = fail(client, ADMIN_LOGIN, admin_user.username, 5)
    assert responses[-1].status_code == 429


def test_staff_unlock_path(client):
    CustomerFactory(username="ann")
    fail(client, LOGIN, "ann", 5)
    call_command("axes_reset_username", "ann")
    ok = client.post(LOGIN, {"username": "ann", "password": "pass12345!"}, REMOTE_ADDR="203.0.113.5")
    assert ok.status_code == 302


def test_lock_expires_after_the_cool_off(client, settings):
    import datetime

    import time_machine

    CustomerFactory(username="ann")
    with time_machine.travel(datetime.datetime(2030, 1, 1, 12, 0, tzinfo=datetime.timezone.utc), tick=False):
        fail(client, LOGIN, "ann", 5)
    with time_machine.travel(datetime.datetime(2030, 1, 1, 12, 16, tzinfo=datetime.timezone.utc), tick=False):
        ok = client.post(LOGIN, {"username": "ann", "password": "pass12345!"}, REMOTE_ADDR="203.0.113.5")
    assert ok.status_code == 302


def _req(remote, xff=None):
    extra = {"REMOTE_ADDR": remote}
    if xff is not None:
        extra["HTTP_X_FORWARDED_FOR"] = xff
    return RequestFactory().get("/", **extra)


def test_client_ip_without_trusted_proxies_ignores_x_forwarded_for():
    assert client_ip(_req("203.0.113.5", "1.2.3.4")) == "203.0.113.5"


@override_settings(TRUSTED_PROXIES=["10.0.0.0/8", "127.0.0.1"])
def test_client_ip_behind_trusted_proxies():
    assert client_ip(_req("10.0.0.2", "198.51.100.7")) == "198.51.100.7"
    # A client-forged first hop is not believed: the rightmost untrusted hop is the client.
    assert client_ip(_req("10.0.0.2", "6.6.6.6, 198.51.100.7, 10.1.1.1")) == "198.51.100.7"
    # From an untrusted peer the header is ignored.
    assert client_ip(_req("203.0.113.5", "198.51.100.7")) == "203.0.113.5"
    # Garbage in the header stops at the last address we can vouch for.
    assert client_ip(_req("10.0.0.2", "nonsense")) == "10.0.0.2"
    assert client_ip(_req("bad")) == ""


@override_settings(TRUSTED_PROXIES=["10.0.0.0/8"])
def test_login_throttle_keys_on_the_forwarded_client(client):
    CustomerFactory(username="ann")
    for _ in range(5):
        client.post(LOGIN, {"username": "ann", "password": "wrong"}, REMOTE_ADDR="10.0.0.2",
                    HTTP_X_FORWARDED_FOR="198.51.100.7")
    # Same proxy, another client: not locked.
    ok = client.post(LOGIN, {"username": "ann", "password": "pass12345!"}, REMOTE_ADDR="10.0.0.2",
                     HTTP_X_FORWARDED_FOR="203.0.113.9")
    assert ok.status_code == 302


def test_authenticate_without_a_request_still_works_and_is_not_throttled():
    from django.contrib.auth import authenticate

    CustomerFactory(username="ann")
    assert authenticate(username="ann", password="pass12345!") is not None
