import datetime

import pytest
from django.urls import reverse

from accounts.models import ConsentRecord
from notifications.models import CustomerPreference, QuietHours


@pytest.fixture
def customer_client(client, customer):
    client.force_login(customer)
    return client


def test_grid_shows_transactional_and_security_as_always_on(customer_client):
    body = customer_client.get(reverse("accounts:preferences")).content.decode()
    assert "Always on" in body
    assert 'data-testid="pref-transactional-email"' not in body
    assert 'data-testid="pref-shipping_updates-sms"' in body
    assert 'data-testid="pref-marketing-email"' in body


def test_switch_off_shipping_updates_by_sms(customer_client, customer):
    response = customer_client.post(reverse("accounts:preference_toggle"),
                                    {"category": "shipping_updates", "channel": "sms"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and "Saved" in response.content.decode()
    assert CustomerPreference.objects.get(user=customer, category="shipping_updates", channel="sms").enabled is False


def test_transactional_cannot_be_switched_off(customer_client, customer):
    response = customer_client.post(reverse("accounts:preference_toggle"),
                                    {"category": "transactional", "channel": "email"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 422
    assert "cannot be switched off" in response.content.decode()
    assert not CustomerPreference.objects.exists()


def test_marketing_opt_in_records_consent(customer_client, customer):
    customer_client.post(reverse("accounts:preference_toggle"),
                         {"category": "marketing", "channel": "email", "enabled": "1"})
    consent = ConsentRecord.objects.get(user=customer)
    assert consent.kind == "marketing_email" and consent.granted


def test_profile_phone_language_time_zone_and_quiet_hours(customer_client, customer):
    response = customer_client.post(reverse("accounts:preferences"), {
        "phone": "+447911123456", "sms_opt_in": "on", "language": "fr", "time_zone": "Europe/Paris",
        "quiet_enabled": "on", "quiet_start": "22:00", "quiet_end": "07:30"})
    assert response.status_code == 302
    customer.refresh_from_db()
    assert (str(customer.phone), customer.sms_opt_in, customer.language, customer.time_zone) == (
        "+447911123456", True, "fr", "Europe/Paris")
    quiet = QuietHours.objects.get(user=customer)
    assert quiet.enabled and quiet.start == datetime.time(22) and quiet.end == datetime.time(7, 30)
    assert ConsentRecord.objects.filter(user=customer, kind="sms_updates", granted=True).exists()


@pytest.mark.parametrize("data,error", [
    ({"phone": "12345"}, "Enter a valid phone number"),
    ({"phone": "", "sms_opt_in": "on"}, "Add a mobile number"),
    ({"time_zone": "Mars/Olympus"}, "Select a valid choice"),
    ({"quiet_enabled": "on", "quiet_start": "22:00", "quiet_end": ""}, "Give both a start and an end"),
])
def test_bad_profile_input_is_explained_and_nothing_saved(customer_client, customer, data, error):
    before = (str(customer.phone), customer.time_zone)
    base = {"phone": "+447911123456", "language": "en", "time_zone": "Europe/London"}
    response = customer_client.post(reverse("accounts:preferences"), {**base, **data})
    assert response.status_code == 422
    assert error in response.content.decode()
    customer.refresh_from_db()
    assert (str(customer.phone), customer.time_zone) == before
    assert not QuietHours.objects.exists()


def test_every_row_of_the_grid_names_the_real_messages_it_switches(customer_client):
    body = customer_client.get(reverse("accounts:preferences")).content.decode()
    for category, example in (("transactional", "Order confirmation"), ("shipping_updates", "Out for delivery"),
                              ("account", "New loyalty tier"), ("marketing", "Product updated"),
                              ("security", "Sign-in from a new device")):
        row = body.split(f'data-testid="examples-{category}"', 1)[1].split("</div>", 1)[0]
        assert example in row, (category, row)
