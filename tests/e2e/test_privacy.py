"""In the browser: a customer downloads their data from the emailed link, then deletes their account."""
import io
import json
import os
import re
import zipfile

import pytest
from django.core import mail

from accounts.models import User
from tests.factories import CustomerFactory, OrderFactory, ProductFactory

from .conftest import PASSWORD, login

pytestmark = pytest.mark.django_db(transaction=True)
SHOTS = os.environ.get("PRIVACY_SHOTS_DIR", "")


def _shot(page, screenshot, name):
    screenshot(page, name)
    if SHOTS:
        page.screenshot(path=os.path.join(SHOTS, f"{name}.png"), full_page=True)


def _link(pattern):
    for message in reversed(mail.outbox):
        found = re.search(pattern, message.body)
        if found:
            return found.group(0)
    raise AssertionError([m.subject for m in mail.outbox])


def test_customer_downloads_their_data_and_deletes_their_account(live_server, new_page, screenshot, settings):
    settings.SITE_URL = live_server.url
    customer = CustomerFactory(first_name="Grace", last_name="Hopper")
    product = ProductFactory(stock_on_hand=5)
    OrderFactory(customer=customer, store=product.store, lines=[(product, 1)], status="completed",
                 shipping_name="Grace Hopper")
    page = new_page()
    login(page, live_server.url, customer)
    page.goto(f"{live_server.url}/account/preferences/")
    page.click("[data-testid=privacy-link] a")
    page.wait_for_load_state()
    assert page.url.endswith("/account/privacy/")
    page.click("[data-testid=export-button]")
    page.wait_for_load_state()
    assert "We are preparing your data" in page.content()
    assert "Ready" in page.inner_text("[data-testid=export-list]")
    _shot(page, screenshot, "customer-privacy")

    link = _link(r"http://[^\s]+/account/privacy/export/[^\s/]+/")
    with page.expect_download() as info:
        page.evaluate("url => { window.location.href = url }", link)
    path = info.value.path()
    with zipfile.ZipFile(path) as archive, archive.open("data.json") as raw:
        data = json.load(io.TextIOWrapper(raw, encoding="utf-8"))
    assert data["account"]["email"] == customer.email and len(data["orders"]) == 1

    page.goto(f"{live_server.url}/account/privacy/")
    page.fill("input[name=password]", "wrong password")
    page.check("input[name=understood]")
    page.click("[data-testid=delete-form] button[type=submit]")
    page.wait_for_load_state()
    assert "not your current password" in page.content()
    _shot(page, screenshot, "customer-privacy-delete-error")
    page.fill("input[name=password]", PASSWORD)
    page.check("input[name=understood]")
    page.click("[data-testid=delete-form] button[type=submit]")
    page.wait_for_load_state()
    assert "We have emailed a confirmation link" in page.content()

    page.goto(_link(r"http://[^\s]+/account/privacy/delete/[^\s/]+/"))
    _shot(page, screenshot, "customer-privacy-confirm")
    page.click("[data-testid=confirm-delete]")
    page.wait_for_load_state()
    assert "Your account is deleted" in page.content()
    assert User.objects.get(pk=customer.pk).deleted_at is not None
    page.goto(f"{live_server.url}/account/")
    assert "/account/login/" in page.url
