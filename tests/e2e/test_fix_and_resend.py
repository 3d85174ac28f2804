"""In the browser: a guest's order email bounced; the status page says so in plain words, the
guest types the corrected address, confirms it from the email, and the message is resent."""
import os
import re

import pytest
from django.core import mail

from notifications.models import Notification
from notifications.services import attempt_record_provider_status
from orders.links import status_path
from orders.services import order_transition
from tests.factories import OrderFactory, ProductFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_guest_fixes_a_bounced_email_on_the_status_page(live_server, new_page, screenshot, settings):
    settings.SITE_URL = live_server.url
    order = OrderFactory(customer=None, email="grace@exmaple.com", phone="", lines=[(ProductFactory(), 1)])
    order_transition(order=order, to="on_hold", note="Checking the address")
    row = Notification.objects.get(order=order, event="order.on_hold", channel="email")
    attempt_record_provider_status(provider_message_id=row.delivery_attempts.get().provider_message_id,
                                   status="bounced", provider_status="postmark:bounced",
                                   error="550 5.1.1 mailbox does not exist", suppress="bounce")
    for viewport, name in (({"width": 390, "height": 844}, "phone"), ({"width": 1280, "height": 800}, "desktop")):
        page = new_page(viewport=viewport)
        page.goto(live_server.url + status_path(order))
        page.wait_for_selector("[data-testid=delivery-problems-card]")
        assert "bounced: that mailbox does not exist" in page.inner_text("[data-testid=problem-reason]")
        page.locator("[data-testid=delivery-problems-card]").scroll_into_view_if_needed()
        if os.environ.get("FIX_SHOTS_DIR"):
            page.screenshot(path=os.path.join(os.environ["FIX_SHOTS_DIR"], f"status-problem-{name}.png"),
                            full_page=True)
    # A mistyped correction shows the field's error in place.
    page.fill("[data-testid=fix-form] input[name=address]", "grace@")
    page.locator("[data-testid=fix-form] input[name=address]").evaluate("el => el.type = 'text'")
    page.click("[data-testid=fix-form] button[type=submit]")
    page.wait_for_selector("[data-testid=fix-error]")
    assert "valid email" in page.inner_text("[data-testid=fix-error]")
    page.fill("[data-testid=fix-form] input[name=address]", "grace@example.com")
    page.click("[data-testid=fix-form] button[type=submit]")
    page.wait_for_selector("[data-testid=delivery-flash]")
    assert "confirmation link to grace@example.com" in page.inner_text("[data-testid=delivery-flash]")
    screenshot(page, "status-page-fix-and-resend")
    link = re.search(r"http://\S+/account/delivery/confirm/\S+/", mail.outbox[-1].body).group(0)
    page.goto(link)
    page.click("[data-testid=confirm-resend]")
    page.wait_for_load_state()
    page.wait_for_selector("[data-testid=delivery-problems-card]")
    assert "Resent to the corrected address" in page.inner_text("[data-testid=delivery-problems-card]")
    assert Notification.objects.get(corrected_from=row).recipient_address == "grace@example.com"
    if os.environ.get("FIX_SHOTS_DIR"):
        page.screenshot(path=os.path.join(os.environ["FIX_SHOTS_DIR"], "status-resent.png"), full_page=True)
