"""Restock recommendation (hand-computed on seeded sales, frozen clock) and the stock.low alert:
once when stock crosses the threshold, armed again after a restock, to sellers and the supplier."""
import datetime
from decimal import Decimal

import pytest
import time_machine
from django.core import mail

from catalog.inventory import product_recommendation, stock_restock, stock_settings_set
from catalog.models import Product, ProductEvent
from notifications.models import InboxMessage, Notification
from notifications.services import seller_setting_set
from tests.factories import OrderFactory, ProductFactory, SellerFactory, StoreFactory
from tests.notifications.helpers import html_of, place

pytestmark = pytest.mark.django_db

NOW = datetime.datetime(2026, 3, 10, 12, 0, tzinfo=datetime.UTC)


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def commit(django_capture_on_commit_callbacks):
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture(autouse=True)
def _clean_mail():
    mail.outbox = []


def _sale(product, qty, days_ago, status="processing"):
    order = OrderFactory(store=product.store, lines=[(product, qty)])
    type(order).objects.filter(pk=order.pk).update(placed_at=NOW - datetime.timedelta(days=days_ago), status=status)
    return order


@pytest.fixture
def pack(clock):
    store = StoreFactory(name="Trail Co", safety_stock_days=7)
    SellerFactory(store=store, email="sam@trail.example", first_name="Sam")
    product = ProductFactory(store=store, name="Trail Pack", sku="TP-1", price=Decimal("64.00"), stock_on_hand=9,
                             low_stock_threshold=5, restock_lead_days=7, supplier_name="Pack Makers Ltd",
                             supplier_email="orders@packmakers.example")
    _sale(product, 12, days_ago=10)
    _sale(product, 18, days_ago=20)
    _sale(product, 12, days_ago=29)
    _sale(product, 50, days_ago=31)  # outside the 30-day window
    _sale(product, 40, days_ago=5, status="cancelled")  # sold nothing
    return product


def test_recommendation_matches_hand_computed_figures(pack):
    # 12 + 18 + 12 = 42 units in 30 days → 1.40 a day; 9 in stock → 9 / 1.4 = 6.4 days of cover;
    # ceil(1.4 × (7 lead + 7 safety)) = ceil(19.6) = 20, less 9 on hand → 11.
    rec = product_recommendation(Product.objects.select_related("store").get(pk=pack.pk))
    assert rec == {"current": 9, "threshold": 5, "units_sold": 42, "window_days": 30,
                   "average_daily_sales": Decimal("1.40"), "days_of_cover": Decimal("6.4"), "lead_days": 7,
                   "safety_days": 7, "recommended_quantity": 11}


def test_a_product_without_recent_sales_needs_nothing_and_has_no_cover_figure(clock):
    product = ProductFactory(stock_on_hand=3)
    rec = product_recommendation(product)
    assert rec["units_sold"] == 0 and rec["days_of_cover"] is None and rec["recommended_quantity"] == 0


def test_stock_low_fires_once_when_the_threshold_is_crossed_to_sellers_and_supplier(pack, commit):
    with commit():
        place({pack.pk: 4}, email="buyer@example.com")  # 9 → 5: at the threshold
    # The alert fires while the order is being placed, from the sales recorded before it: 42 units →
    # 1.40 a day; cover 5 / 1.4 = 3.6 days; ceil(1.4 × (7 + 7)) = 20, less 5 on hand → 15.
    seller_mail = next(m for m in mail.outbox if m.to == ["sam@trail.example"] and "Low stock" in m.subject)
    supplier_mail = next(m for m in mail.outbox if m.to == ["orders@packmakers.example"])
    for message in (seller_mail, supplier_mail):
        for body in (message.body, html_of(message)):
            assert "Trail Pack" in body and "TP-1" in body
            assert "5 (" in body  # current stock (threshold 5)
            assert "1.40" in body and "42 sold" in body and "3.6" in body and "15" in body, body
    assert "/seller/inventory/" in seller_mail.body
    assert "Pack Makers Ltd" in supplier_mail.body and "/seller/" not in supplier_mail.body
    rows = Notification.objects.filter(event="stock.low")
    assert {(n.audience, n.channel) for n in rows} == {("seller", "email"), ("seller", "inapp"), ("supplier", "email")}
    assert {n.category for n in rows} == {"seller_alert"}
    assert {n.subject_type for n in rows} == {"product"} and {n.subject_id for n in rows} == {pack.pk}
    assert InboxMessage.objects.filter(title__contains="Low stock: Trail Pack").count() == 1

    with commit():
        place({pack.pk: 1}, email="buyer@example.com")  # 5 → 4: still low, no second alert
    assert Notification.objects.filter(event="stock.low").count() == 3
    assert ProductEvent.objects.filter(product=pack, kind="low_stock").count() == 1


def test_a_restock_arms_the_alert_again(pack, commit):
    with commit():
        place({pack.pk: 5}, email="buyer@example.com")  # 9 → 4
        stock_restock(product=pack, quantity=10)  # 14, above the threshold: armed
        place({pack.pk: 9}, email="buyer@example.com")  # 14 → 5
    assert ProductEvent.objects.filter(product=pack, kind="low_stock").count() == 2
    assert len([m for m in mail.outbox if m.to == ["orders@packmakers.example"]]) == 2
    pack.refresh_from_db()
    assert pack.low_stock_armed is False


def test_raising_the_threshold_above_the_stock_fires_the_alert(pack, commit):
    with commit():
        stock_settings_set(product=pack, low_stock_threshold=10)
    assert Notification.objects.filter(event="stock.low", audience="supplier").count() == 1


def test_seller_can_switch_stock_low_email_off_and_the_supplier_still_gets_it(pack, commit, client):
    from django.urls import reverse

    client.force_login(pack.store.sellers.get())
    settings_page = client.get(reverse("seller:settings")).content.decode()
    assert "Stock running low" in settings_page and 'data-testid="toggle-stock.low-email"' in settings_page
    seller_setting_set(store=pack.store, event="stock.low", channel="email", enabled=False)
    with commit():
        place({pack.pk: 4}, email="buyer@example.com")
    assert not [m for m in mail.outbox if m.to == ["sam@trail.example"] and "Low stock" in m.subject]
    assert [m for m in mail.outbox if m.to == ["orders@packmakers.example"]]
    assert Notification.objects.filter(event="stock.low", audience="seller", channel="inapp").exists()


def test_a_product_without_supplier_alerts_only_sellers(clock, commit):
    store = StoreFactory()
    SellerFactory(store=store)
    product = ProductFactory(store=store, stock_on_hand=6, low_stock_threshold=5)
    with commit():
        place({product.pk: 2}, email="buyer@example.com")
    assert set(Notification.objects.filter(event="stock.low").values_list("audience", flat=True)) == {"seller"}
