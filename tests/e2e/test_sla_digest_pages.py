"""Seller pages of issue 15 in a real browser: the digest choice next to the new-order toggles, the
shipping deadline form (with its errors), and the order list's Late tab and badge, desktop and phone."""
import datetime

import pytest

from notifications.models import SellerNotificationSetting
from orders.models import Order
from tests.conftest import WEDNESDAY_MORNING
from tests.factories import OrderFactory, ProductFactory, SellerFactory, StoreFactory

from .conftest import login

pytestmark = pytest.mark.django_db(transaction=True)
PHONE = {"width": 390, "height": 844}


def test_seller_takes_new_orders_as_a_digest_and_sets_a_shipping_deadline(frozen_clock, live_server, new_page,
                                                                          screenshot):
    seller = SellerFactory(store=StoreFactory(name="Linen & Co"))
    page = new_page()
    login(page, live_server.url, seller)
    page.goto(f"{live_server.url}/seller/settings/")
    page.select_option("[data-testid='digest-order.placed-email'] select", "15")
    page.wait_for_url("**/seller/settings/#alerts")
    assert "one digest every 15 minutes" in page.content()
    assert SellerNotificationSetting.objects.get(event="order.placed", channel="email").digest_minutes == 15
    page.locator("[data-testid='settings-grid']").screenshot()
    screenshot(page, "seller-settings-digest")

    page.fill("#id_country", "XX")
    page.fill("#id_sla_ship_within_hours", "16")
    page.click("text=Save shipping deadline")
    assert "Unknown code" in page.inner_text("[data-testid=shipping-deadline]")
    page.locator("[data-testid=shipping-deadline]").scroll_into_view_if_needed()
    screenshot(page, "seller-shipping-deadline-error")
    page.fill("#id_country", "US")
    page.fill("#id_time_zone", "America/New_York")
    page.click("text=Save shipping deadline")
    assert "Shipping deadline saved" in page.content()
    seller.store.refresh_from_db()
    assert (seller.store.country, seller.store.sla_ship_within_hours) == ("US", 16)


def test_the_late_tab_and_badge_on_desktop_and_phone(frozen_clock, live_server, new_page, screenshot):
    store = StoreFactory(name="Linen & Co")
    seller = SellerFactory(store=store)
    product = ProductFactory(store=store)
    for hours in (-30, -5, -1, 3, 20):
        order = OrderFactory(store=store, lines=[(product, 1)], status="processing")
        Order.objects.filter(pk=order.pk).update(ship_by=WEDNESDAY_MORNING + datetime.timedelta(hours=hours))
    OrderFactory(store=store, lines=[(product, 2)], status="shipped")
    page = new_page()
    login(page, live_server.url, seller)
    page.goto(f"{live_server.url}/seller/")
    assert page.inner_text("[data-testid=tab-late]").split() == ["Late", "3"]
    page.click("[data-testid=tab-late]")
    assert page.locator("[data-testid=order-row]").count() == 3
    assert page.locator("[data-testid=late-badge]").count() == 3
    screenshot(page, "seller-orders-late-tab")
    phone = new_page(viewport=PHONE)
    login(phone, live_server.url, seller)
    phone.goto(f"{live_server.url}/seller/?status=late")
    assert phone.locator("[data-testid=late-badge]").count() == 3
    screenshot(phone, "seller-orders-late-tab-phone")
