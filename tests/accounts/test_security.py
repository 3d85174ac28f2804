"""Account security: password reset, new-device and failed sign-in alerts, the security page with
"sign out everywhere", and unusual orders. Every message goes through the notification outbox."""
import re
from decimal import Decimal

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from accounts.models import AccountEvent, LoginActivity
from notifications.models import Notification, PlatformEventSetting
from tests.factories import CustomerFactory, OrderFactory, ProductFactory, SellerFactory, StoreFactory
from tests.notifications.helpers import ADDRESS, html_of, place

pytestmark = pytest.mark.django_db

LOGIN = reverse("accounts:login")
FIREFOX_WIN = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0"
CHROME_ANDROID = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 Chrome/126.0 Mobile Safari/537.36"


@pytest.fixture
def commit(django_capture_on_commit_callbacks):
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture(autouse=True)
def _clean_mail():
    mail.outbox = []


def _link(body: str, marker: str) -> str:
    match = re.search(r"https?://\S*" + re.escape(marker) + r"\S*", body)
    assert match, body
    return match.group(0).rstrip(".")


def _path(url: str) -> str:
    return re.sub(r"^https?://[^/]+", "", url)


# --- password reset --------------------------------------------------------------------------

@pytest.mark.parametrize("who", ["customer", "seller"])
def test_password_reset_email_goes_through_the_pipeline_and_its_link_sets_a_new_password(client, commit, who):
    user = SellerFactory(email="sam@shop.example") if who == "seller" else CustomerFactory(email="ann@example.com")
    with commit():
        response = client.post(reverse("accounts:password_reset"), {"email": user.email.upper()},
                               REMOTE_ADDR="198.51.100.4")
    assert response.status_code == 302 and response["Location"] == reverse("accounts:password_reset_done")

    row = Notification.objects.get(event="account.password_reset")
    assert (row.channel, row.category, row.audience, row.status) == ("email", "security", "customer", "sent")
    assert row.subject_type == "account" and row.subject_id == user.pk and row.order_id is None
    assert row.event_key == f"account.password_reset:ae{AccountEvent.objects.get(kind='password_reset').pk}"
    [message] = mail.outbox
    assert message.to == [user.email] and "Reset your" in message.subject
    assert "expires in 3 days" in message.body and "198.51.100.4" in message.body
    assert "/account/reset/" in html_of(message)
    link = _link(message.body, "/account/reset/")

    page = client.get(_path(link), follow=True)
    assert page.status_code == 200 and "Choose a new password" in page.content.decode()
    done = client.post(page.redirect_chain[-1][0], {"new_password1": "N3w-passphrase!", "new_password2":
                                                    "N3w-passphrase!"})
    assert done.status_code == 302
    user.refresh_from_db()
    assert user.check_password("N3w-passphrase!")
    # The link works once.
    again = client.get(_path(link), follow=True)
    assert "no longer works" in again.content.decode()


def test_password_reset_answers_the_same_for_an_unknown_address_and_sends_nothing(client, commit):
    CustomerFactory(email="ann@example.com")
    with commit():
        known = client.post(reverse("accounts:password_reset"), {"email": "ann@example.com"})
        unknown = client.post(reverse("accounts:password_reset"), {"email": "nobody@example.com"})
    assert known.status_code == unknown.status_code == 302
    assert known["Location"] == unknown["Location"]
    assert [m.to for m in mail.outbox] == [["ann@example.com"]]
    assert not Notification.objects.filter(recipient_address="nobody@example.com").exists()
    bad = client.post(reverse("accounts:password_reset"), {"email": "not an email"})
    assert bad.status_code == 200 and "valid email" in bad.content.decode()


def test_password_reset_is_always_emailed_even_if_the_platform_switched_the_event_off(client, commit):
    CustomerFactory(email="ann@example.com")
    PlatformEventSetting.objects.update_or_create(event="account.password_reset",
                                                  defaults={"enabled": False, "customer_channels": []})
    with commit():
        client.post(reverse("accounts:password_reset"), {"email": "ann@example.com"})
    assert len(mail.outbox) == 1


def test_password_reset_emails_are_capped_per_hour_so_the_form_cannot_flood_an_inbox(client, commit):
    CustomerFactory(email="ann@example.com")
    with commit():
        for _ in range(5):
            assert client.post(reverse("accounts:password_reset"), {"email": "ann@example.com"}).status_code == 302
    assert len(mail.outbox) == 3


# --- suspicious sign-in ------------------------------------------------------------------------

def _login(c, username, agent, ip):
    return c.post(LOGIN, {"username": username, "password": "pass12345!"}, HTTP_USER_AGENT=agent, REMOTE_ADDR=ip)


def test_sign_in_from_a_new_device_alerts_the_owner_with_when_ip_device_and_a_secure_link(commit):
    user = CustomerFactory(username="ann", email="ann@example.com")
    home = Client()
    with commit():
        assert _login(home, "ann", FIREFOX_WIN, "203.0.113.5").status_code == 302  # first sign-in: no history
        assert _login(Client(), "ann", FIREFOX_WIN, "203.0.113.77").status_code == 302  # same device and network
    assert not mail.outbox

    with commit():
        assert _login(Client(), "ann", CHROME_ANDROID, "198.51.100.9").status_code == 302
    [alert] = mail.outbox
    assert alert.to == ["ann@example.com"] and "New sign-in" in alert.subject
    for text in ("198.51.100.9", "Chrome on Android", "UTC", "device and a network"):
        assert text in alert.body
    row = Notification.objects.get(event="account.suspicious_login", channel="email")
    assert row.category == "security"
    assert Notification.objects.filter(event="account.suspicious_login", channel="inapp", recipient=user).exists()
    assert LoginActivity.objects.filter(user=user, new_device=True).count() == 1

    # The link signs out every session (the home browser too) and leads to a new password.
    secure = _path(_link(alert.body, "/account/secure/"))
    stranger = Client()
    assert "Sign out everywhere" in stranger.get(secure).content.decode()
    assert home.get(reverse("accounts:security")).status_code == 200
    mail.outbox = []
    with commit():
        response = stranger.post(secure)
    assert response.status_code == 302 and response["Location"] == reverse("accounts:password_reset_done")
    assert home.get(reverse("accounts:security")).status_code == 302  # signed out
    assert [m.subject for m in mail.outbox] == ["Reset your Notify Market password"]
    assert stranger.get(secure[:-3] + "xyz/").status_code == 400


def test_repeated_failed_sign_ins_alert_the_owner_once(commit):
    CustomerFactory(username="ann", email="ann@example.com")
    c = Client()
    with commit():
        for _ in range(7):
            c.post(LOGIN, {"username": "ann", "password": "wrong"}, HTTP_USER_AGENT=FIREFOX_WIN,
                   REMOTE_ADDR="192.0.2.50")
    [alert] = mail.outbox
    assert "5 failed sign-in attempts" in alert.body and "192.0.2.50" in alert.body


# --- security page -------------------------------------------------------------------------------

def test_security_page_lists_sign_ins_and_sign_out_everywhere_keeps_only_this_browser(commit):
    CustomerFactory(username="ann")
    CustomerFactory(username="bob")
    phone, laptop, bob = Client(), Client(), Client()
    _login(phone, "ann", CHROME_ANDROID, "198.51.100.9")
    _login(laptop, "ann", FIREFOX_WIN, "203.0.113.5")
    _login(bob, "bob", FIREFOX_WIN, "192.0.2.1")
    page = laptop.get(reverse("accounts:security")).content.decode()
    assert "Chrome on Android" in page and "Firefox on Windows" in page and "203.0.113.0/24" in page
    assert "this browser" in page and "192.0.2.1" not in page  # bob's sign-in is not ann's

    response = laptop.post(reverse("accounts:sign_out_everywhere"), follow=True)
    assert "Signed out of 1 other session" in response.content.decode()
    assert phone.get(reverse("accounts:security")).status_code == 302
    assert laptop.get(reverse("accounts:security")).status_code == 200
    assert bob.get(reverse("accounts:security")).status_code == 200
    assert "Signed out everywhere" in laptop.get(reverse("accounts:security")).content.decode()


def test_security_page_needs_a_login_and_sign_out_everywhere_is_post_only(client):
    assert client.get(reverse("accounts:security")).status_code == 302
    client.force_login(CustomerFactory())
    assert client.get(reverse("accounts:sign_out_everywhere")).status_code == 405


# --- unusual order ---------------------------------------------------------------------------------

@pytest.fixture
def regular(db):
    customer = CustomerFactory(email="ann@example.com", first_name="Ann")
    for _ in range(3):
        OrderFactory(customer=customer, total=Decimal("30.00"))
    return customer


def test_order_far_above_the_usual_alerts_the_customer_with_what_to_do(regular, commit):
    store = StoreFactory()
    SellerFactory(store=store)
    product = ProductFactory(store=store, price=Decimal("25.00"), stock_on_hand=20)
    with commit():
        order = place({product.pk: 5}, customer=regular, email=regular.email).orders[0]
    row = Notification.objects.get(event="account.unusual_order", channel="email")
    assert row.category == "security" and row.recipient == regular
    message = next(m for m in mail.outbox if "Did you place" in m.subject)
    assert order.number in message.subject
    assert "times your usual order" in message.body and f"£{order.total}" in message.body
    assert "/account/secure/" in message.body and "/o/" in message.body  # secure the account, cancel the order


def test_order_to_a_new_country_alerts_and_an_ordinary_order_does_not(regular, commit):
    product = ProductFactory(price=Decimal("25.00"), stock_on_hand=20)
    with commit():
        place({product.pk: 1}, customer=regular, email=regular.email)
    assert not Notification.objects.filter(event="account.unusual_order").exists()
    with commit():
        place({product.pk: 1}, customer=regular, email=regular.email, address=dict(ADDRESS, country="FR"))
    message = next(m for m in mail.outbox if "Did you place" in m.subject)
    assert "country you have not used before (FR)" in message.body


def test_a_first_order_is_never_unusual(commit):
    customer = CustomerFactory()
    product = ProductFactory(price=Decimal("250.00"), stock_on_hand=20)
    with commit():
        place({product.pk: 4}, customer=customer, email=customer.email, address=dict(ADDRESS, country="FR"))
    assert not Notification.objects.filter(event="account.unusual_order").exists()
