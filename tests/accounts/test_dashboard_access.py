"""Every customer dashboard URL: another customer's order or message is 404 and untouched;
anonymous users go to login; POSTs need a CSRF token."""
import pytest
from django.test import Client
from django.urls import reverse

from notifications.models import InboxMessage
from orders.links import status_path
from orders.models import Order, OrderStatus
from tests.factories import CustomerFactory, OrderFactory, ProductFactory, SellerFactory


@pytest.fixture
def world(db):
    out = {}
    product = ProductFactory()
    for key in ("mine", "theirs"):
        customer = CustomerFactory()
        order = OrderFactory(customer=customer, store=product.store, lines=[(product, 1)])
        msg = InboxMessage.objects.create(user=customer, title=f"For {key}", url="/account/")
        out[key] = {"customer": customer, "order": order, "message": msg}
    out["seller"] = SellerFactory(store=product.store)
    return out


def order_urls(order):
    return [
        ("get", reverse("accounts:order_detail", args=[order.number])),
        ("get", reverse("accounts:order_detail", args=[order.number]) + "?live=1"),
        ("post", reverse("accounts:order_cancel", args=[order.number])),
        ("post", reverse("accounts:order_return", args=[order.number])),
    ]


def object_urls(w):
    return order_urls(w["order"]) + [("post", reverse("accounts:inbox_read", args=[w["message"].pk]))]


def all_urls(w):
    return object_urls(w) + [
        ("get", reverse("accounts:dashboard")),
        ("get", reverse("accounts:preferences")),
        ("post", reverse("accounts:preferences")),
        ("post", reverse("accounts:preference_toggle")),
        ("get", reverse("accounts:inbox")),
        ("post", reverse("accounts:inbox_read_all")),
    ]


POST_DATA = {"reason": "Changed my mind", "lines": [], "category": "shipping_updates", "channel": "sms",
             "phone": "+447911123456", "language": "en", "time_zone": "Europe/London"}


def snapshot(w):
    w["order"].refresh_from_db()
    w["message"].refresh_from_db()
    return (w["order"].status, w["order"].events.count(), w["order"].returns.count(), w["message"].read_at)


def test_another_customers_order_and_messages_are_404_and_untouched(client, world):
    client.force_login(world["mine"]["customer"])
    Order.objects.filter(pk=world["theirs"]["order"].pk).update(status=OrderStatus.COMPLETED)
    before = snapshot(world["theirs"])
    for method, url in object_urls(world["theirs"]):
        response = getattr(client, method)(url, POST_DATA)
        assert response.status_code == 404, (method, url, response.status_code)
        assert world["theirs"]["order"].number not in response.content.decode()
    assert snapshot(world["theirs"]) == before


def test_the_stores_seller_cannot_use_the_customer_pages_for_it(client, world):
    client.force_login(world["seller"])
    for method, url in order_urls(world["mine"]["order"]):
        assert getattr(client, method)(url, POST_DATA).status_code == 404, url


def test_own_order_is_reachable(client, world):
    client.force_login(world["mine"]["customer"])
    for method, url in order_urls(world["mine"]["order"])[:2]:
        assert client.get(url).status_code == 200


def test_anonymous_is_sent_to_login(client, world):
    for method, url in all_urls(world["mine"]):
        response = getattr(client, method)(url, POST_DATA)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("accounts:login"))


def test_posts_without_csrf_are_refused(world):
    csrf_client = Client(enforce_csrf_checks=True)
    csrf_client.force_login(world["mine"]["customer"])
    before = snapshot(world["mine"])
    posts = [url for method, url in all_urls(world["mine"]) if method == "post"]
    for url in posts:
        assert csrf_client.post(url, POST_DATA).status_code == 403, url
    assert snapshot(world["mine"]) == before


def test_guest_posts_without_csrf_are_refused(world):
    csrf_client = Client(enforce_csrf_checks=True)
    order = world["mine"]["order"]
    assert csrf_client.post(reverse("storefront:track"), {"number": order.number, "email": order.email}).status_code == 403
    assert csrf_client.post(status_path(order), {"action": "cancel", "reason": "Changed my mind"}).status_code == 403
    order.refresh_from_db()
    assert order.status == OrderStatus.PENDING


def test_csrf_token_from_the_page_works(world):
    """The forms on the page carry a token that the same refusal check accepts."""
    csrf_client = Client(enforce_csrf_checks=True)
    csrf_client.force_login(world["mine"]["customer"])
    url = reverse("accounts:order_detail", args=[world["mine"]["order"].number])
    csrf_client.get(url)
    token = csrf_client.cookies["csrftoken"].value
    response = csrf_client.post(reverse("accounts:order_cancel", args=[world["mine"]["order"].number]),
                                {"reason": "Changed my mind", "csrfmiddlewaretoken": token})
    assert response.status_code == 302
