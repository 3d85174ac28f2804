import datetime
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from orders.links import status_path
from orders.models import Order, OrderStatus, Payment, ReturnRequest, TrackingStatus
from orders.services import TrackingUpdate, order_transition, shipment_create, shipment_record_tracking
from tests.factories import OrderFactory


@pytest.fixture(autouse=True)
def _fresh_status_caches():
    from accounts.dashboard.status_page import local_cache

    local_cache.clear()
    yield
    local_cache.clear()


@pytest.fixture
def customer_client(client, customer):
    client.force_login(customer)
    return client


def page(client, order, **params):
    return client.get(reverse("accounts:order_detail", args=[order.number]), params)


def test_new_order_shows_placed_step_lines_totals_and_address(customer_client, order):
    response = page(customer_client, order)
    body = response.content.decode()
    assert response.status_code == 200
    assert order.number in body
    assert "Order received" in body
    progress = response.context["snap"]["top"]
    assert 'class="step current"' in progress or "step current" in progress
    for line in order.lines.all():
        assert line.product_name in body
    assert f"£{order.total}" in body
    assert "1 Analytical Row" in body
    assert "Cancel this order" in body  # pending: cancellable
    assert "Return items" not in body


@pytest.mark.usefixtures("frozen_clock")
def test_shipped_order_shows_carrier_link_tracking_number_eta_and_checkpoints(customer_client, order, seller):
    order_transition(order=order, to=OrderStatus.PROCESSING, actor=seller)
    eta = timezone.localdate() + datetime.timedelta(days=3)
    shipment = shipment_create(order=order, carrier="royalmail", carrier_name="Royal Mail",
                               tracking_number="RM123456789GB", eta=eta, actor=seller)
    shipment_record_tracking(shipment=shipment, update=TrackingUpdate(
        dedupe_key="cp1", status=TrackingStatus.IN_TRANSIT, occurred_at=timezone.now(),
        message="Arrived at the delivery office", location="London Mail Centre"))

    body = page(customer_client, order).content.decode()

    assert "On its way" in body
    assert "RM123456789GB" in body
    assert "https://www.royalmail.com/track-your-item#/tracking-results/RM123456789GB" in body
    assert "Arrived at the delivery office" in body and "London Mail Centre" in body
    assert eta.strftime("%a %-d %b") in body
    assert "Cancel this order" not in body


def test_completed_order_offers_a_return_and_the_return_is_created(customer_client, order):
    Order.objects.filter(pk=order.pk).update(status=OrderStatus.COMPLETED)
    body = page(customer_client, order).content.decode()
    assert "Return items" in body

    line = order.lines.first()
    response = customer_client.post(reverse("accounts:order_return", args=[order.number]),
                                    {"lines": [line.pk], "reason": "Too small"})

    assert response.status_code == 302
    rr = ReturnRequest.objects.get(order=order)
    assert list(rr.lines.all()) == [line] and rr.reason == "Too small"
    body = customer_client.get(response["Location"]).content.decode()
    assert rr.number in body and "Return requested" in body


def test_return_without_items_is_refused_with_a_message(customer_client, order):
    Order.objects.filter(pk=order.pk).update(status=OrderStatus.COMPLETED)
    response = customer_client.post(reverse("accounts:order_return", args=[order.number]), {"reason": "x"})
    assert response.status_code == 422
    assert "Choose at least one item to return." in response.content.decode()
    assert not ReturnRequest.objects.exists()


def test_customer_cancels_a_paid_order_and_payment_is_refunded(customer_client, order):
    payment = order.payments.get()
    Payment.objects.filter(pk=payment.pk).update(status=Payment.Status.CAPTURED)
    Order.objects.filter(pk=order.pk).update(status=OrderStatus.PROCESSING)

    response = customer_client.post(reverse("accounts:order_cancel", args=[order.number]),
                                    {"reason": "Changed my mind"})

    assert response.status_code == 302
    order.refresh_from_db()
    payment.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED and payment.status == Payment.Status.REFUNDED
    event = order.events.filter(to_status="cancelled").get()
    assert event.data["refund_amount"] == str(payment.amount)
    assert event.data["refund_method"] == "Card ending 4242"
    assert event.data["refund_timeframe"]
    assert event.data["cancelled_by"] == "customer"
    body = customer_client.get(response["Location"]).content.decode()
    assert "Cancelled" in body and "refund" in body.lower()


def test_customer_cannot_cancel_a_shipped_order(customer_client, order):
    Order.objects.filter(pk=order.pk).update(status=OrderStatus.SHIPPED)
    response = customer_client.post(reverse("accounts:order_cancel", args=[order.number]),
                                    {"reason": "Changed my mind"})
    assert response.status_code == 422
    assert "can no longer be cancelled" in response.content.decode()
    order.refresh_from_db()
    assert order.status == OrderStatus.SHIPPED


def test_on_hold_shows_the_reason(customer_client, order, seller):
    order_transition(order=order, to=OrderStatus.ON_HOLD, actor=seller, note="Checking your address")
    body = page(customer_client, order).content.decode()
    assert "On hold" in body and "Checking your address" in body
    assert 'data-state="on_hold"' in body


@pytest.mark.usefixtures("frozen_clock")
def test_backordered_order_reads_as_delayed(customer_client, order, seller):
    from orders.services import order_mark_backordered

    expected = timezone.localdate() + datetime.timedelta(days=12)
    order_mark_backordered(order=order, expected=expected, actor=seller)
    body = page(customer_client, order).content.decode()
    assert 'data-state="delayed"' in body
    assert "backorder" in body.lower()


# --- in-place refresh -----------------------------------------------------------------

def test_live_fragment_has_etag_and_answers_304_when_nothing_changed(customer_client, order):
    first = page(customer_client, order, live=1)
    assert first.status_code == 200 and first["ETag"]
    assert 'id="order-live"' in first.content.decode()

    again = customer_client.get(reverse("accounts:order_detail", args=[order.number]), {"live": 1},
                                HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 304
    assert again.content == b""


def test_live_fragment_rerenders_after_a_change(customer_client, order, seller):
    first = page(customer_client, order, live=1)
    order_transition(order=order, to=OrderStatus.PROCESSING, actor=seller)

    after = customer_client.get(reverse("accounts:order_detail", args=[order.number]), {"live": 1},
                                HTTP_IF_NONE_MATCH=first["ETag"])

    assert after.status_code == 200
    assert after["ETag"] != first["ETag"]
    assert "Being prepared" in after.content.decode()
    assert 'id="bell"' in after.content.decode() and 'hx-swap-oob="true"' in after.content.decode()


def test_304_costs_one_query_after_the_session(customer_client, order):
    etag = page(customer_client, order, live=1)["ETag"]
    with CaptureQueriesContext(connection) as ctx:
        response = customer_client.get(reverse("accounts:order_detail", args=[order.number]), {"live": 1},
                                       HTTP_IF_NONE_MATCH=etag)
    assert response.status_code == 304
    order_queries = [q for q in ctx.captured_queries if "orders_order" in q["sql"]]
    assert len(order_queries) == 1
    # The session (cached_db) and the user (CachedModelBackend) come from the cache: the
    # fingerprint is the only query.
    assert len(ctx.captured_queries) == 1


def test_guest_304_is_a_single_query(client, order):
    url = status_path(order)
    etag = client.get(url, {"live": 1})["ETag"]
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, {"live": 1}, HTTP_IF_NONE_MATCH=etag)
    assert response.status_code == 304
    assert len(ctx.captured_queries) == 1


def test_status_page_query_count_is_fixed(customer_client, customer, product, seller):
    small = OrderFactory(customer=customer, store=product.store, lines=[(product, 1)])
    big = OrderFactory(customer=customer, store=product.store, lines=[(product, 1)] * 6)
    for o in (small, big):
        order_transition(order=o, to=OrderStatus.PROCESSING, actor=seller)
    for i in range(5):
        order_transition(order=big, to=OrderStatus.ON_HOLD, actor=seller, note=f"hold {i}")
        order_transition(order=big, to=OrderStatus.PROCESSING, actor=seller)

    def count(o):
        from django.core.cache import cache

        from accounts.dashboard.status_page import local_cache
        cache.clear()
        local_cache.clear()
        with CaptureQueriesContext(connection) as ctx:
            assert page(customer_client, o).status_code == 200
        return len(ctx.captured_queries)

    assert count(small) == count(big)


def test_cached_render_is_reused_until_the_order_changes(customer_client, order, seller):
    page(customer_client, order)
    with CaptureQueriesContext(connection) as ctx:
        page(customer_client, order)
    cached = len(ctx.captured_queries)
    order_transition(order=order, to=OrderStatus.PROCESSING, actor=seller)
    with CaptureQueriesContext(connection) as ctx:
        body = page(customer_client, order).content.decode()
    assert len(ctx.captured_queries) > cached
    assert "Being prepared" in body


def _live_url(client, order):
    """The refresh URL the page itself polls (it carries the signed poll key)."""
    body = page(client, order).content.decode()
    return re.search(r'id="order-live" hx-get="([^"]+)"', body).group(1).replace("&amp;", "&")


def test_page_refresh_with_its_poll_key_answers_304_from_one_query(customer_client, order):
    url = _live_url(customer_client, order)
    etag = customer_client.get(url)["ETag"]
    with CaptureQueriesContext(connection) as ctx:
        response = customer_client.get(url, HTTP_IF_NONE_MATCH=etag)
    assert response.status_code == 304
    assert len(ctx.captured_queries) == 1  # no session, no user: the fingerprint only


def test_poll_key_never_shows_content_without_login(customer_client, order, seller):
    from django.test import Client

    client = Client()  # anonymous
    url = _live_url(customer_client, order)
    etag = customer_client.get(url)["ETag"]
    assert client.get(url, HTTP_IF_NONE_MATCH=etag).status_code == 304  # "unchanged" reveals nothing
    order_transition(order=order, to=OrderStatus.PROCESSING, actor=seller)
    anonymous = client.get(url, HTTP_IF_NONE_MATCH=etag)
    assert anonymous.status_code == 302 and reverse("accounts:login") in anonymous["Location"]
    assert customer_client.get(url, HTTP_IF_NONE_MATCH=etag).status_code == 200


def test_tampered_poll_key_falls_back_to_the_login_check(customer_client, order):
    from django.test import Client

    url = _live_url(customer_client, order)
    etag = customer_client.get(url)["ETag"]
    response = Client().get(url[:-4] + "AAAA", HTTP_IF_NONE_MATCH=etag)
    assert response.status_code == 302


def test_poll_key_for_another_order_is_ignored(customer_client, customer, order, product):
    other = OrderFactory(customer=customer, store=product.store, lines=[(product, 1)])
    url = _live_url(customer_client, order)
    key = url.split("k=")[1]
    etag = customer_client.get(url)["ETag"]
    from django.test import Client
    response = Client().get(reverse("accounts:order_detail", args=[other.number]) + f"?live=1&k={key}",
                            HTTP_IF_NONE_MATCH=etag)
    assert response.status_code == 302


def test_cached_customer_page_follows_the_header_bell_and_cart(customer_client, customer, order, product):
    from notifications.models import InboxMessage

    assert "bell-count" not in page(customer_client, order).content.decode()
    InboxMessage.objects.create(user=customer, title="Your order has shipped")
    assert 'data-testid="bell-count">1<' in page(customer_client, order).content.decode()
    customer_client.post(reverse("storefront:cart_add", args=[product.pk]), {"quantity": 2})
    assert 'data-testid="cart-link">Cart <span class="pill">2</span>' in page(customer_client, order).content.decode()


def test_flash_message_is_shown_once_not_cached(customer_client, order):
    response = customer_client.post(reverse("accounts:order_cancel", args=[order.number]),
                                    {"reason": "Changed my mind"}, follow=True)
    assert "Your order has been cancelled" in response.content.decode()
    assert "Your order has been cancelled" not in page(customer_client, order).content.decode()


def test_bench_view_is_not_mounted_unless_asked(client, order):
    assert client.get(f"/bench/order/{order.pk}/").status_code == 404


def test_cached_logged_in_page_costs_the_user_and_the_fingerprint_only(customer_client, customer, order):
    from notifications.models import InboxMessage

    InboxMessage.objects.create(user=customer, title="Your order has shipped")
    page(customer_client, order)  # renders and caches the page
    with CaptureQueriesContext(connection) as ctx:
        response = page(customer_client, order)
    assert response.status_code == 200
    assert 'data-testid="bell-count">1<' in response.content.decode()
    # The session (cached_db) and the user (CachedModelBackend) come from the cache; the one
    # query left is the fingerprint, which reads the bell's unread count too.
    assert len(ctx.captured_queries) == 1
    assert "inboxmessage" in ctx.captured_queries[0]["sql"] and "orders_order" in ctx.captured_queries[0]["sql"]


def test_cached_page_bell_goes_down_as_messages_are_read(customer_client, customer, order):
    from notifications.models import InboxMessage

    first, _second = (InboxMessage.objects.create(user=customer, title=t) for t in ("Shipped", "Delivered"))
    assert 'data-testid="bell-count">2<' in page(customer_client, order).content.decode()
    customer_client.post(reverse("accounts:inbox_read", args=[first.pk]))
    assert 'data-testid="bell-count">1<' in page(customer_client, order).content.decode()
    customer_client.post(reverse("accounts:inbox_read_all"))
    assert "bell-count" not in page(customer_client, order).content.decode()


def test_cached_page_bell_counts_only_the_viewers_own_messages(customer_client, customer, order):
    from notifications.models import InboxMessage
    from tests.factories import UserFactory

    other = UserFactory()
    InboxMessage.objects.create(user=other, title="Someone else's message")
    assert "bell-count" not in page(customer_client, order).content.decode()
    InboxMessage.objects.create(user=customer, title="Mine")
    assert 'data-testid="bell-count">1<' in page(customer_client, order).content.decode()
