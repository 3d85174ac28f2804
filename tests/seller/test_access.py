"""Who may use every seller URL: sellers of the store only; another store's objects are 404;
POSTs need a CSRF token."""
import pytest
from django.test import Client
from django.urls import reverse

from notifications.models import InboxMessage
from orders.models import Order, OrderStatus
from orders.services import return_request_create
from tests.factories import CustomerFactory, OrderFactory, ProductFactory, SellerFactory, StoreFactory

ORDER_ACTIONS = ["process", "mark_paid", "hold", "ship", "deliver", "backorder", "cancel", "refund"]
RETURN_STEPS = ["approved", "received", "refunded", "rejected"]


@pytest.fixture
def world(db):
    """Two stores, each with a seller, an order with a return request, and an inbox message."""
    out = {}
    for key in ("mine", "theirs"):
        store = StoreFactory()
        seller = SellerFactory(store=store)
        product = ProductFactory(store=store)
        customer = CustomerFactory()
        order = OrderFactory(store=store, customer=customer, lines=[(product, 1)])
        Order.objects.filter(pk=order.pk).update(status=OrderStatus.COMPLETED)
        order.refresh_from_db()
        rr = return_request_create(order=order, lines=order.lines.all(), reason="Too big", actor=customer)
        msg = InboxMessage.objects.create(user=seller, title=f"Hello {key}", url="/seller/")
        out[key] = {"store": store, "seller": seller, "order": order, "return": rr, "message": msg}
    return out


def object_urls(w):
    """(method, url) for every seller URL that names an object of store ``w``."""
    order, rr, msg = w["order"], w["return"], w["message"]
    urls = [("get", reverse("seller:order_detail", args=[order.number]))]
    urls += [("post", reverse("seller:order_action", args=[order.number, a])) for a in ORDER_ACTIONS]
    urls += [("post", reverse("seller:return_action", args=[order.number, rr.number, to])) for to in RETURN_STEPS]
    urls += [("post", reverse("seller:inbox_read", args=[msg.pk]))]
    return urls


def all_urls(w):
    return object_urls(w) + [
        ("get", reverse("seller:orders")),
        ("get", reverse("seller:settings")),
        ("post", reverse("seller:setting_toggle")),
        ("post", reverse("seller:option_toggle")),
        ("post", reverse("seller:review_url")),
        ("get", reverse("seller:branding")),
        ("post", reverse("seller:branding")),
        ("get", reverse("seller:email_preview")),
        ("get", reverse("seller:inbox")),
        ("post", reverse("seller:inbox_read_all")),
    ]


POST_DATA = {"hold-reason": "x", "cancel-reason": "x", "ship-carrier": "ups", "ship-tracking_number": "1Z12345",
             "backorder-expected": "2099-01-01", "reason": "x", "event": "order.placed", "channel": "sms",
             "enabled": "1", "name": "shipping_updates", "form": "message", "personal_note": "hi"}


def snapshot(w):
    order, rr, msg = w["order"], w["return"], w["message"]
    order.refresh_from_db()
    rr.refresh_from_db()
    msg.refresh_from_db()
    return (order.status, order.events.count(), order.shipments.count(), rr.status, msg.read_at)


def test_another_stores_objects_are_404_and_untouched(client, world):
    client.force_login(world["mine"]["seller"])
    before = snapshot(world["theirs"])
    for method, url in object_urls(world["theirs"]):
        response = getattr(client, method)(url, POST_DATA)
        assert response.status_code == 404, (method, url, response.status_code)
    assert snapshot(world["theirs"]) == before


def test_own_objects_are_reachable(client, world):
    client.force_login(world["mine"]["seller"])
    assert client.get(reverse("seller:order_detail", args=[world["mine"]["order"].number])).status_code == 200


def test_non_sellers_get_403_everywhere(client, world):
    client.force_login(world["mine"]["order"].customer)
    for method, url in all_urls(world["mine"]):
        response = getattr(client, method)(url, POST_DATA)
        assert response.status_code == 403, (method, url, response.status_code)
        assert "This area is for sellers" in response.content.decode()


def test_anonymous_is_sent_to_login_everywhere(client, world):
    login = reverse("accounts:login")
    for method, url in all_urls(world["mine"]):
        response = getattr(client, method)(url, POST_DATA)
        assert response.status_code == 302, (method, url)
        assert response["Location"].startswith(login)


def test_posts_without_csrf_are_refused(world):
    csrf_client = Client(enforce_csrf_checks=True)
    csrf_client.force_login(world["mine"]["seller"])
    before = snapshot(world["mine"])
    posts = [url for method, url in all_urls(world["mine"]) if method == "post"]
    assert len(posts) >= 16
    for url in posts:
        response = csrf_client.post(url, POST_DATA)
        assert response.status_code == 403, url
    assert snapshot(world["mine"]) == before


def test_get_on_action_urls_is_not_allowed(client, world):
    client.force_login(world["mine"]["seller"])
    order = world["mine"]["order"]
    assert client.get(reverse("seller:order_action", args=[order.number, "cancel"])).status_code == 405
