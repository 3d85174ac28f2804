"""A NUL (%00) anywhere in a request is refused once, by middleware, with a 400 and nothing saved."""
from urllib.parse import urlencode

import pytest
from django.urls import reverse

from orders.models import Order, OrderEvent, OrderStatus

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("url", [
    "/?q=%00",
    "/?q=a%00b",
    "/?%00=1",
    "/track/simulated/%00/",
    "/account/orders/%00/",
    "/seller/?q=a%00b",
    "/seller/orders/%00/",
    "/o/%00/",
])
def test_nul_in_path_or_query_is_a_400_with_the_reason(client, seller, customer, url):
    client.force_login(seller if url.startswith("/seller") else customer)
    response = client.get(url)
    assert response.status_code == 400
    assert "NUL" in response.content.decode()


def test_nul_in_a_post_field_is_a_400_and_the_refund_is_not_made(client, seller, order):
    Order.objects.filter(pk=order.pk).update(status=OrderStatus.PROCESSING)
    client.force_login(seller)
    events = OrderEvent.objects.filter(order=order).count()
    response = client.post(reverse("seller:order_action", args=[order.number, "refund"]),
                           urlencode({"reason": "damaged\x00in transit"}),
                           content_type="application/x-www-form-urlencoded")
    assert response.status_code == 400
    assert "Form field “reason” contains a NUL character" in response.content.decode()
    order.refresh_from_db()
    assert order.status == OrderStatus.PROCESSING
    assert OrderEvent.objects.filter(order=order).count() == events


def test_nul_in_a_multipart_field_is_a_400(client):
    response = client.post(reverse("accounts:signup"), {"username": "ada\x00", "email": "a@example.com"})
    assert response.status_code == 400


def test_nul_in_a_cookie_is_a_400(client):
    client.cookies["sessionid"] = "abcdefgh\x00ijkl"
    assert client.get("/").status_code == 400


def test_ordinary_requests_pass(client, product):
    assert client.get("/?q=caf%C3%A9").status_code == 200
    assert client.get("/?q=%F0%9F%98%80%ED%A0%80").status_code == 200  # emoji and a broken surrogate
