"""In a real browser: the seller watches a promotion's progress bar fill in place (htmx polling a
partial, no inline script) while the fan-out writes chunks and the pump releases them."""
import datetime

import pytest
from django.utils import timezone

from accounts.models import ConsentRecord
from marketing import fanout as engine
from marketing.models import FanOut, Promotion
from marketing.pacing import pump_once
from tests.factories import CustomerFactory, ProductFactory, SellerFactory, StoreFactory

from .conftest import login

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
PHONE = {"width": 390, "height": 844}


def test_the_progress_bar_updates_in_place(live_server, new_page, screenshot, settings):
    settings.NOTIFY_MARKETING_RATE = {"email": 1000}
    store = StoreFactory(name="Lumen Lights", slug="lumen")
    lamp = ProductFactory(store=store, name="Desk Lamp", sku="LAMP-1")
    for i in range(12):
        user = CustomerFactory(email=f"fan{i}@example.com", first_name=f"Fan{i}")
        ConsentRecord.objects.create(user=user, email=user.email, kind="marketing_email", granted=True,
                                     source="checkout")
    seller = SellerFactory(store=store, username="nina", first_name="Nina")  # after them: not in chunk 1
    now = timezone.now()
    promotion = Promotion.objects.create(title="Spring sale", store=store, discount_percent=20, code="SPRING20",
                                         starts_at=now, ends_at=now + datetime.timedelta(days=7), channels=["email"],
                                         status=Promotion.Status.SENDING)
    promotion.products.set([lamp])
    from marketing.context import promotion_context

    Promotion.objects.filter(pk=promotion.pk).update(context=promotion_context(promotion))
    fanout = FanOut.objects.create(key=promotion.event_key, source="promotion", source_id=promotion.pk, audience=12)
    engine.fanout_run(fanout.pk, chunk_size=3, max_chunks=1)  # a quarter written, nothing sent yet

    page = new_page()
    login(page, live_server.url, seller)
    page.goto(f"{live_server.url}/seller/promotions/{promotion.pk}/")
    assert page.locator('[data-testid="written-pct"]').inner_text() == "25"
    assert page.locator('[data-testid="sent-pct"]').inner_text() == "0"

    promotion.refresh_from_db()
    engine.fanout_run(fanout.pk, chunk_size=3)  # the rest is written
    pump_once(promotion, clock=100.0)  # and released to the (eager) workers
    page.locator('[data-testid="count-sent"]', has_text="12").wait_for(timeout=10_000)  # no reload
    assert page.locator('[data-testid="written-pct"]').inner_text() == "100"
    assert page.locator('[data-testid="sent-pct"]').inner_text() == "100"
    assert page.locator('[data-testid="sent-bar"]').get_attribute("value") == "100"
    screenshot(page, "promotion-progress")

    phone = new_page(viewport=PHONE)
    login(phone, live_server.url, seller)
    phone.goto(f"{live_server.url}/seller/promotions/{promotion.pk}/")
    phone.locator('[data-testid="promotion-progress"]').wait_for()
    phone.screenshot()  # checked at phone width (not kept for the README)


def test_staff_see_the_promotion_with_its_progress_and_previews_in_the_admin(live_server, new_page, screenshot):
    from tests.factories import UserFactory

    staff = UserFactory(username="root", is_staff=True, is_superuser=True)
    store = StoreFactory(name="Lumen Lights", slug="lumen")
    lamp = ProductFactory(store=store, name="Desk Lamp", sku="LAMP-1")
    now = timezone.now()
    promotion = Promotion.objects.create(title="Spring sale", store=store, discount_percent=20, code="SPRING20",
                                         starts_at=now, ends_at=now + datetime.timedelta(days=7),
                                         channels=["email", "sms"], message="Twenty percent off our lamps.")
    promotion.products.set([lamp])
    page = new_page()
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("input[name=username]", staff.username)
    page.fill("input[name=password]", "pass12345!")
    page.click("input[type=submit]")
    page.goto(f"{live_server.url}/admin/marketing/promotion/{promotion.pk}/change/")
    page.locator('[data-testid="promotion-progress"]').wait_for()
    page.locator('[data-testid="preview-email"]').click()
    page.locator('[data-testid="promotion-preview"] iframe').wait_for()
    page.locator('[data-testid="preview-sms"]').click()
    page.locator('[data-testid="promotion-preview"]', has_text="Reply STOP to opt out").wait_for()
    screenshot(page, "promotion-admin")


def test_a_customer_applies_the_code_in_the_cart(live_server, new_page):
    store = StoreFactory(name="Lumen Lights", slug="lumen")
    lamp = ProductFactory(store=store, name="Desk Lamp", slug="desk-lamp", sku="LAMP-1", price="40.00",
                          stock_on_hand=5)
    now = timezone.now()
    promotion = Promotion.objects.create(title="Spring sale", store=store, discount_percent=20, code="SPRING20",
                                         starts_at=now, ends_at=now + datetime.timedelta(days=7), channels=["email"],
                                         status=Promotion.Status.SENT)
    promotion.products.set([lamp])
    page = new_page(viewport=PHONE)
    page.goto(f"{live_server.url}{lamp.get_absolute_url()}")
    page.click("form[action*='cart/add'] button[type=submit]")
    page.fill("input[name=code]", "nope")
    page.click(".promo-form button[type=submit]")
    page.locator(".msg.error, .messages", has_text="That code does not exist.").first.wait_for()
    page.fill("input[name=code]", "spring20")
    page.click(".promo-form button[type=submit]")
    page.locator('[data-testid="cart-discount"]', has_text="-£8.00").wait_for()
    page.screenshot()  # looked at, phone width; not one of the README pictures
