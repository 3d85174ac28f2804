"""product.back_in_stock: guests confirm first, oldest first, capped per restock, told once,
one-click stop; and product.alert_confirm, the double opt-in message."""
import re
from decimal import Decimal

import pytest
from django.core import mail
from django.urls import reverse

from catalog.inventory import back_in_stock_subscribe, stock_restock
from catalog.models import BackInStockSubscription
from notifications.models import InboxMessage, Notification
from tests.factories import CustomerFactory, ProductFactory, StoreFactory
from tests.notifications.helpers import html_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def commit(django_capture_on_commit_callbacks):
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture(autouse=True)
def _clean_mail():
    mail.outbox = []


@pytest.fixture
def lamp(db):
    store = StoreFactory(name="Lumen", sender_name="Lumen Lights")
    return ProductFactory(store=store, name="Desk Lamp", slug="desk-lamp", price=Decimal("39.00"), stock_on_hand=0)


def _link(body, marker):
    return re.sub(r"^https?://[^/]+", "", re.search(r"https?://\S*" + re.escape(marker) + r"\S*", body).group(0))


def _confirmed(product, email, **kw):
    sub, _ = back_in_stock_subscribe(product=product, email=email, **kw)
    BackInStockSubscription.objects.filter(pk=sub.pk).update(confirmed_at="2026-01-01T00:00Z")
    return sub


def test_a_guest_confirms_by_email_first_and_only_then_is_told_when_it_is_back(client, lamp, commit):
    with commit():
        response = client.post(reverse("storefront:stock_alert", args=[lamp.store.slug, lamp.slug]),
                               {"email": "Fan@Example.com"}, follow=True)
    assert "sent a confirmation link" in response.content.decode()
    [confirm] = mail.outbox
    assert confirm.to == ["fan@example.com"] and "Confirm your alert for Desk Lamp" in confirm.subject
    row = Notification.objects.get(event="product.alert_confirm")
    assert (row.category, row.channel, row.subject_type) == ("transactional", "email", "product")

    # Asking again does not mail the address again (the form cannot be used to pester someone).
    with commit():
        client.post(reverse("storefront:stock_alert", args=[lamp.store.slug, lamp.slug]), {"email": "fan@example.com"})
    assert len(mail.outbox) == 1

    # Unconfirmed: a restock tells nobody.
    with commit():
        stock_restock(product=lamp, quantity=3)
    assert not Notification.objects.filter(event="product.back_in_stock").exists()

    link = _link(confirm.body, "/confirm/")
    assert "Yes, confirm" in client.get(link).content.decode()
    assert "Alert confirmed" in client.post(link).content.decode()
    assert BackInStockSubscription.objects.get().confirmed_at is not None
    assert client.get(link[:-12] + "broken/confirm/").status_code == 400


def test_back_in_stock_email_carries_product_price_link_and_a_stop_link_that_works(client, lamp, commit):
    customer = CustomerFactory(email="ann@example.com", first_name="Ann")
    client.force_login(customer)
    with commit():
        client.post(reverse("storefront:stock_alert", args=[lamp.store.slug, lamp.slug]), {"email": "ann@example.com"})
    assert not mail.outbox  # her own address: confirmed at once
    with commit():
        stock_restock(product=lamp, quantity=2)
    [message] = mail.outbox
    assert message.to == ["ann@example.com"] and message.subject == "Desk Lamp is back in stock"
    for body in (message.body, html_of(message)):
        assert "Desk Lamp" in body and "£39.00" in body and "/p/lumen/desk-lamp/" in body
        assert "/alerts/" in body and "/stop/" in body
    rows = Notification.objects.filter(event="product.back_in_stock")
    assert {(n.channel, n.category) for n in rows} == {("email", "transactional"), ("inapp", "transactional")}
    assert InboxMessage.objects.filter(user=customer, title="Desk Lamp is back in stock").exists()
    product_page = client.get(_link(message.body, "/p/lumen/desk-lamp/"))
    assert product_page.status_code == 200 and "Desk Lamp" in product_page.content.decode()

    stop = _link(message.body, "/stop/")
    client.logout()
    assert "Stop the alert" in client.get(stop).content.decode()
    assert "Alert stopped" in client.post(stop).content.decode()  # no CSRF token: one-click from a mail client
    assert not BackInStockSubscription.objects.exists()


def test_oldest_subscribers_first_at_most_units_times_factor_the_rest_on_the_next_restock(lamp, commit, settings):
    settings.BACK_IN_STOCK_FACTOR = 2
    emails = [f"fan{i}@example.com" for i in range(7)]
    for email in emails:
        _confirmed(lamp, email)
    with commit():
        stock_restock(product=lamp, quantity=2)  # 2 units × 2 = 4 told
    assert sorted(m.to[0] for m in mail.outbox) == emails[:4]

    mail.outbox = []
    with commit():
        stock_restock(product=lamp, quantity=1)  # stock 3 → up to 6 more: the 3 still waiting
    assert sorted(m.to[0] for m in mail.outbox) == emails[4:]

    mail.outbox = []
    with commit():
        stock_restock(product=lamp, quantity=5)  # everyone told once already
    assert not mail.outbox
    assert Notification.objects.filter(event="product.back_in_stock").count() == 7


def test_restock_when_nobody_waits_sends_nothing(lamp, commit):
    with commit():
        stock_restock(product=lamp, quantity=5)
    assert not Notification.objects.exists()
