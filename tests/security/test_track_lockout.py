"""The per-order-number lookup limit cannot lock the real owner out: it counts wrong answers only,
and once tripped asks for the delivery postcode too (few tries per address) instead of closing."""
import pytest
from django.urls import reverse

from tests.factories import OrderFactory

pytestmark = pytest.mark.django_db
TRACK = reverse("storefront:track")


@pytest.fixture
def guest_order(product):
    return OrderFactory(customer=None, email="owner@example.com", store=product.store, lines=[(product, 1)],
                        shipping_postcode="SW1A 1AA")


def guess(client, order, n):
    for i in range(n):
        client.post(TRACK, {"number": order.number, "email": f"guess{i}@example.com"}, REMOTE_ADDR=f"198.51.100.{i}")


def test_the_owners_own_lookups_never_use_up_the_limit(client, guest_order):
    for i in range(25):
        response = client.post(TRACK, {"number": guest_order.number, "email": guest_order.email},
                               REMOTE_ADDR=f"203.0.113.{i}")
        assert response.status_code == 302


def test_after_many_wrong_guesses_the_owner_gets_in_with_the_postcode(client, guest_order):
    guess(client, guest_order, 20)
    asked = client.post(TRACK, {"number": guest_order.number, "email": guest_order.email}, REMOTE_ADDR="203.0.113.9")
    assert asked.status_code == 429
    body = asked.content.decode()
    assert "also enter the delivery postcode" in body and 'name="postcode"' in body
    ok = client.post(TRACK, {"number": guest_order.number, "email": guest_order.email, "postcode": "sw1a1aa"},
                     REMOTE_ADDR="203.0.113.9")
    assert ok.status_code == 302 and "/o/" in ok["Location"]


def test_a_guesser_with_the_right_email_but_not_the_postcode_learns_nothing(client, guest_order):
    guess(client, guest_order, 20)
    wrong_pc = client.post(TRACK, {"number": guest_order.number, "email": guest_order.email, "postcode": "N1 9GU"},
                           REMOTE_ADDR="192.0.2.1")
    wrong_email = client.post(TRACK, {"number": guest_order.number, "email": "x@example.com", "postcode": "N1 9GU"},
                              REMOTE_ADDR="192.0.2.2")
    assert wrong_pc.status_code == wrong_email.status_code == 404
    assert "also enter the delivery postcode" in wrong_pc.content.decode()


def test_step_up_tries_are_limited_per_address(client, guest_order):
    guess(client, guest_order, 20)
    for pc in ("A1", "A2", "A3"):
        client.post(TRACK, {"number": guest_order.number, "email": guest_order.email, "postcode": pc},
                    REMOTE_ADDR="192.0.2.7")
    blocked = client.post(TRACK, {"number": guest_order.number, "email": guest_order.email, "postcode": "SW1A 1AA"},
                          REMOTE_ADDR="192.0.2.7")
    assert blocked.status_code == 429
    # The owner from their own address still gets in.
    ok = client.post(TRACK, {"number": guest_order.number, "email": guest_order.email, "postcode": "SW1A 1AA"},
                     REMOTE_ADDR="203.0.113.50")
    assert ok.status_code == 302
