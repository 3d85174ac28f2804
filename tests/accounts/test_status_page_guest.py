"""Guests: /track/ (number + email, rate limited) and the signed /o/<token>/ link."""
import datetime
import re

import pytest
from django.core import signing
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.test import override_settings
from django.urls import reverse

from orders.links import SALT, status_path, status_token
from orders.models import Order, OrderStatus
from tests.factories import OrderFactory

TRACK = reverse("storefront:track")


@pytest.fixture(autouse=True)
def _fresh_status_caches():
    from accounts.dashboard.status_page import local_cache

    local_cache.clear()
    yield
    local_cache.clear()


@pytest.fixture
def guest_order(product):
    return OrderFactory(customer=None, email="Guest.Person@example.com", store=product.store, lines=[(product, 1)])


def test_track_form_renders(client, db):
    response = client.get(TRACK)
    assert response.status_code == 200 and "Track an order" in response.content.decode()


@pytest.mark.parametrize("number_of", [str.upper, str.lower, lambda n: n.replace("-", "")])
def test_track_with_number_and_email_opens_the_status_page(client, guest_order, number_of):
    response = client.post(TRACK, {"number": number_of(guest_order.number), "email": "guest.person@EXAMPLE.com"})
    assert response.status_code == 302
    assert response["Location"] == status_path(guest_order)
    page = client.get(response["Location"])
    assert page.status_code == 200
    assert guest_order.number in page.content.decode()


def test_wrong_number_and_wrong_email_get_the_same_answer(client, guest_order):
    wrong_number = client.post(TRACK, {"number": "NS-0000-0000", "email": guest_order.email})
    wrong_email = client.post(TRACK, {"number": guest_order.number, "email": "someone@else.example"})
    assert wrong_number.status_code == wrong_email.status_code == 404
    assert wrong_number.context["error"] == wrong_email.context["error"]
    assert guest_order.number not in wrong_email.content.decode().replace(f'value="{guest_order.number}"', "")


@pytest.mark.usefixtures("frozen_clock")
def test_track_is_rate_limited_per_client(client, guest_order):
    for _ in range(10):
        client.post(TRACK, {"number": "NS-0000-0000", "email": "x@example.com"})
    response = client.post(TRACK, {"number": guest_order.number, "email": guest_order.email})
    assert response.status_code == 429
    assert "Too many attempts" in response.content.decode()


@pytest.mark.usefixtures("frozen_clock")
def test_track_is_rate_limited_per_order_number_across_addresses(client, guest_order):
    for i in range(20):
        client.post(TRACK, {"number": guest_order.number, "email": f"guess{i}@example.com"},
                    REMOTE_ADDR=f"10.0.0.{i}")
    response = client.post(TRACK, {"number": guest_order.number, "email": guest_order.email},
                           REMOTE_ADDR="10.0.1.1")
    assert response.status_code == 429


def test_token_shows_that_order_only(client, guest_order, product):
    other = OrderFactory(customer=None, email="other@example.com", store=product.store, lines=[(product, 1)])
    body = client.get(status_path(guest_order)).content.decode()
    assert guest_order.number in body and other.number not in body


def test_tampered_token_is_refused_with_a_way_to_track(client, guest_order):
    token = status_token(guest_order)
    response = client.get(reverse("storefront:order_status_token", args=[token[:-3] + "abc"]))
    assert response.status_code == 403
    body = response.content.decode()
    assert "not valid" in body and reverse("storefront:track") in body
    assert guest_order.number not in body


def test_token_for_another_order_number_forged_without_the_key_is_refused(client, guest_order):
    forged = signing.dumps({"n": guest_order.number, "e": guest_order.email.lower()}, salt=SALT, key="wrong-key")
    assert client.get(reverse("storefront:order_status_token", args=[forged])).status_code == 403


@override_settings(STATUS_LINK_MAX_AGE_DAYS=1)
def test_expired_token_is_refused(client, guest_order, frozen_clock):
    token = status_token(guest_order)
    frozen_clock.shift(datetime.timedelta(hours=23, minutes=59))
    assert client.get(reverse("storefront:order_status_token", args=[token])).status_code == 200
    frozen_clock.shift(datetime.timedelta(minutes=2))
    response = client.get(reverse("storefront:order_status_token", args=[token]))
    assert response.status_code == 410
    assert "expired" in response.content.decode()


def test_token_stops_working_if_the_order_email_changes(client, guest_order):
    token = status_token(guest_order)
    Order.objects.filter(pk=guest_order.pk).update(email="new@example.com")
    assert client.get(reverse("storefront:order_status_token", args=[token])).status_code == 404


def test_guest_can_cancel_through_the_link(client, guest_order):
    response = client.post(status_path(guest_order), {"action": "cancel", "reason": "Ordered by mistake"})
    assert response.status_code == 302
    guest_order.refresh_from_db()
    assert guest_order.status == OrderStatus.CANCELLED
    event = guest_order.events.get(to_status="cancelled")
    assert event.actor is None and event.actor_label == "Guest (customer)"


def test_guest_live_fragment_answers_304(client, guest_order):
    url = status_path(guest_order)
    first = client.get(url, {"live": 1})
    assert first.status_code == 200
    assert client.get(url, {"live": 1}, HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 304


def test_cached_guest_page_carries_each_visitors_own_working_csrf_token(guest_order):
    from django.test import Client

    from accounts.dashboard.status_page import CSRF_SLOT

    url = status_path(guest_order)
    first, second = Client(enforce_csrf_checks=True), Client(enforce_csrf_checks=True)
    body_1 = first.get(url).content.decode()
    with CaptureQueriesContext(connection) as ctx:
        body_2 = second.get(url).content.decode()
    assert len(ctx.captured_queries) == 1  # the fingerprint; the page itself came from the cache
    assert CSRF_SLOT not in body_1 + body_2
    token_2 = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', body_2).group(1)
    assert second.cookies["csrftoken"].value != first.cookies["csrftoken"].value
    response = second.post(url, {"action": "cancel", "reason": "Changed my mind", "csrfmiddlewaretoken": token_2})
    assert response.status_code == 302
    guest_order.refresh_from_db()
    assert guest_order.status == OrderStatus.CANCELLED
