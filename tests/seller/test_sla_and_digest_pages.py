"""The seller's Late tab and badge, the digest choice and the shipping deadline form (issue 15)."""
import datetime
from datetime import UTC

import pytest
import time_machine
from django.urls import reverse

from notifications.models import SellerNotificationSetting
from orders.models import Order
from tests.factories import OrderFactory, ProductFactory, SellerFactory, StoreFactory

pytestmark = pytest.mark.django_db

NOW = datetime.datetime(2030, 1, 22, 17, 0, tzinfo=UTC)


@pytest.fixture
def clock():
    """The whole test at NOW (a session started in another year would have expired)."""
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def seller_client(clock, client):
    store = StoreFactory(name="Linen Co")
    seller = SellerFactory(store=store)
    client.force_login(seller)
    client.store = store
    return client


def _orders(store, *, late: int, on_time: int):
    product = ProductFactory(store=store)
    made = []
    for i in range(late + on_time):
        order = OrderFactory(store=store, lines=[(product, 1)], status="processing")
        hours = -(i + 1) if i < late else i + 1
        Order.objects.filter(pk=order.pk).update(ship_by=NOW + datetime.timedelta(hours=hours))
        made.append(order)
    shipped = OrderFactory(store=store, lines=[(product, 1)], status="shipped")
    Order.objects.filter(pk=shipped.pk).update(ship_by=NOW - datetime.timedelta(days=1))  # shipped: never late
    return made[:late], made[late:]


def test_the_late_tab_lists_only_open_orders_past_their_deadline_with_a_badge(seller_client):
    late, on_time = _orders(seller_client.store, late=2, on_time=3)
    page = seller_client.get(reverse("seller:orders") + "?status=late")
    everything = seller_client.get(reverse("seller:orders"))
    body = page.content.decode()
    assert page.status_code == 200
    assert 'data-testid="tab-late"' in body and "Late <span class=\"count\">2</span>" in body
    assert all(o.number in body for o in late) and not any(o.number in body for o in on_time)
    assert body.count('data-testid="late-badge"') == 2
    assert everything.content.decode().count('data-testid="late-badge"') == 2  # the badge on the All tab too


def test_the_late_tab_costs_the_same_queries_for_2_or_20_late_orders(seller_client, django_assert_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    _orders(seller_client.store, late=2, on_time=1)
    url = reverse("seller:orders") + "?status=late"
    seller_client.get(url)
    with CaptureQueriesContext(connection) as few:
        seller_client.get(url)
    _orders(seller_client.store, late=18, on_time=1)
    with django_assert_num_queries(len(few)):
        seller_client.get(url)


def test_an_empty_late_tab_says_so(seller_client):
    _orders(seller_client.store, late=0, on_time=1)
    body = seller_client.get(reverse("seller:orders") + "?status=late").content.decode()
    assert "No orders are late at the moment." in body


def test_the_order_page_shows_the_late_badge(seller_client):
    [late], _ = _orders(seller_client.store, late=1, on_time=0)
    body = seller_client.get(reverse("seller:order_detail", args=[late.number])).content.decode()
    assert 'data-testid="late-badge"' in body and "was due" in body


def test_the_settings_page_offers_a_digest_for_new_orders_per_channel(seller_client):
    page = seller_client.get(reverse("seller:settings"))
    body = page.content.decode()
    assert 'data-testid="digest-order.placed-email"' in body and 'data-testid="digest-order.placed-inapp"' in body
    assert 'data-testid="digest-order.cancelled-email"' not in body
    assert "order.placed_digest" not in body  # the digest follows the new-order switches, no row of its own
    response = seller_client.post(reverse("seller:digest_set"), {"event": "order.placed", "channel": "email",
                                                                  "minutes": "30"})
    assert response.status_code == 302
    setting = SellerNotificationSetting.objects.get(store=seller_client.store, event="order.placed", channel="email")
    assert setting.digest_minutes == 30 and setting.enabled
    body = seller_client.get(reverse("seller:settings")).content.decode()
    assert '<option value="30" selected>' in body
    bad = seller_client.post(reverse("seller:digest_set"), {"event": "order.placed", "channel": "email",
                                                             "minutes": "7"}, follow=True)
    assert "every 15, 30 or 60 minutes" in bad.content.decode()


def test_the_shipping_deadline_form_saves_and_shows_field_errors(seller_client):
    url = reverse("seller:shipping_deadline")
    good = {"sla_ship_within_hours": "16", "sla_escalate_after_hours": "4", "working_days": ["1", "2", "3", "4", "5", "6"],
            "opens_at": "09:00", "closes_at": "17:00", "country": "us", "time_zone": "America/New_York",
            "closed_dates": "2030-12-24, 2030-12-31"}
    assert seller_client.post(url, good).status_code == 302
    store = seller_client.store
    store.refresh_from_db()
    assert (store.sla_ship_within_hours, store.working_days, store.country, store.time_zone) == (
        16, "123456", "US", "America/New_York")
    assert store.closed_dates == "2030-12-24\n2030-12-31" and store.closes_at == datetime.time(17)
    assert seller_client.post(url, dict(good, country="gb-sct")).status_code == 302
    store.refresh_from_db()
    assert store.country == "GB-SCT"
    bad = seller_client.post(url, dict(good, country="XX", time_zone="Mars/Base", closes_at="08:00",
                                       closed_dates="soon", working_days=[]))
    body = bad.content.decode()
    assert bad.status_code == 422
    for message in ("Unknown code", "time zone name", "must end after it starts", "Not a date",
                    "at least one day"):
        assert message in body, message
    store.refresh_from_db()
    assert store.country == "GB-SCT"
