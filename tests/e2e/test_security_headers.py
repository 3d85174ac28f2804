"""Pages still work under the Content-Security-Policy (no inline script): the sort and branding
selects submit without inline handlers, htmx runs, and the admin template editor previews."""
import re

import pytest

from tests.factories import OrderFactory, ProductFactory, SellerFactory, StoreFactory

from .conftest import PASSWORD, login

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_seller_sort_and_branding_selects_work_under_the_csp(live_server, new_page, screenshot):
    store = StoreFactory(name="Northwind Outfitters", slug="northwind")
    seller = SellerFactory(store=store, username="nina")
    product = ProductFactory(store=store, name="Lamp", price="10.00", stock_on_hand=10)
    OrderFactory(store=store, lines=[(product, 1)])
    page = new_page()
    response = page.goto(f"{live_server.url}/")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    assert "permissions-policy" in response.headers
    login(page, live_server.url, seller)
    response = page.goto(f"{live_server.url}/seller/")
    assert "private" in response.headers["cache-control"]
    page.select_option("select[name=sort]", index=1)
    page.wait_for_url(re.compile(r"sort="))
    page.goto(f"{live_server.url}/seller/branding/")
    page.select_option("#event-select", index=2)
    page.wait_for_url(re.compile(r"event="))
    screenshot(page, "branding-under-csp")


def test_admin_template_editor_previews_under_the_csp(live_server, new_page, admin_user, screenshot):
    page = new_page()
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("input[name=username]", admin_user.username)
    page.fill("input[name=password]", "password")
    page.click("input[type=submit]")
    page.goto(f"{live_server.url}/admin/notifications/notificationtemplate/add/"
              "?event=order.shipped&audience=customer&channel=email")
    preview = page.locator("[data-testid=template-preview]")
    preview.locator("iframe").wait_for()
    assert "Rendering the preview" not in preview.inner_text()
    screenshot(page, "admin-template-preview-under-csp")
    _ = PASSWORD
