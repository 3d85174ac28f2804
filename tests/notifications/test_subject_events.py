"""The events about a product or an account: their catalogue rows, and that real contexts have the
shape the admin validates templates against (as test_templates does for the order events).
Per-event behaviour: tests/catalog/test_inventory.py, test_back_in_stock.py,
tests/seller/test_inventory_page.py, tests/accounts/test_security.py, tests/accounts/test_loyalty.py."""
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import LoyaltyTier
from catalog.inventory import back_in_stock_subscribe, product_record_update, stock_restock
from notifications.context import sample_context
from notifications.events import EVENTS
from notifications.models import Notification
from notifications.rendering import render
from orders.services import order_transition
from tests.factories import CustomerFactory, OrderFactory, ProductFactory, SellerFactory, StoreFactory

from .helpers import place
from .test_templates import _shape

pytestmark = pytest.mark.django_db

SUBJECT_EVENTS = {
    # code: (subject, category, customer channels, seller channels, supplier channels)
    "stock.low": ("product", "seller_alert", (), ("email", "inapp"), ("email",)),
    "product.back_in_stock": ("product", "transactional", ("email", "inapp"), (), ()),
    "product.alert_confirm": ("product", "transactional", ("email",), (), ()),
    "product.updated": ("product", "marketing", ("email",), (), ("email",)),
    "loyalty.tier_reached": ("account", "account", ("email", "inapp"), (), ()),
    "loyalty.milestone": ("account", "account", ("email", "inapp"), (), ()),
    "account.password_reset": ("account", "security", ("email",), (), ()),
    "account.suspicious_login": ("account", "security", ("email", "inapp"), (), ()),
    "account.unusual_order": ("account", "security", ("email", "inapp"), (), ()),
}


def test_catalogue_rows_for_products_and_accounts():
    for code, (subject, category, customer, seller, supplier) in SUBJECT_EVENTS.items():
        e = EVENTS[code]
        assert (e.subject, e.category, e.customer_channels, e.seller_channels, e.supplier_channels) == (
            subject, category, customer, seller, supplier), code
    # Security always goes by email, but for the code that proves a phone number (by SMS only).
    assert all("email" in EVENTS[c].customer_channels for c in EVENTS
               if EVENTS[c].category == "security" and c != "account.phone_verify")
    assert EVENTS["account.phone_verify"].customer_channels == ("sms",)
    # Every customer category now has a real event behind it (the preference grid's rows).
    assert {e.category for e in EVENTS.values() if e.customer_channels} >= {
        "transactional", "shipping_updates", "account", "marketing", "security"}


@pytest.mark.parametrize("code", sorted(SUBJECT_EVENTS))
def test_shipped_defaults_render_for_every_audience_and_channel(code):
    for audience in EVENTS[code].audiences:
        for channel in ("email", "sms", "inapp"):
            rendered = render(event=code, audience=audience, channel=channel, language="en",
                              context=sample_context(code, audience))
            assert rendered.source == "file default" and not rendered.fallback, (code, audience, channel)


def test_real_contexts_have_exactly_the_shape_of_the_samples(django_capture_on_commit_callbacks, settings):
    settings.BACK_IN_STOCK_FACTOR = 3
    store = StoreFactory()
    seller = SellerFactory(store=store)
    lamp = ProductFactory(store=store, stock_on_hand=0, low_stock_threshold=3, supplier_email="s@supplier.example",
                          supplier_name="Supplies")
    shirt = ProductFactory(store=store, stock_on_hand=10, low_stock_threshold=5, price=Decimal("25.00"),
                           supplier_email="s@supplier.example")
    customer = CustomerFactory(email="ann@example.com")
    for _ in range(3):
        OrderFactory(customer=customer, total=Decimal("20.00"))
    with django_capture_on_commit_callbacks(execute=True):
        back_in_stock_subscribe(product=lamp, email="guest@example.com")
        back_in_stock_subscribe(product=lamp, email=customer.email, user=customer)
        stock_restock(product=lamp, quantity=4)
        place({shirt.pk: 6}, customer=customer, email=customer.email, marketing_opt_in=True)  # low + unusual
        product_record_update(product=shirt, kind="design", note="New colours", actor=seller)
        Client().post(reverse("accounts:password_reset"), {"email": customer.email})
        LoyaltyTier.objects.update_or_create(name="Silver", defaults={"threshold": 500, "benefits": "Free shipping"})
        big = OrderFactory(customer=customer, status="shipped", total=Decimal("600.00"))
        order_transition(order=big, to="completed", actor="carrier")  # tier reached + 500-point milestone
        for agent in ("Firefox/1 (Windows)", "Chrome/1 (Android)"):
            Client().post(reverse("accounts:login"), {"username": customer.username, "password": "pass12345!"},
                   HTTP_USER_AGENT=agent)
    seen = set()
    for row in Notification.objects.exclude(subject_type="order"):
        expected = _shape(sample_context(row.event, row.audience))
        assert _shape(row.context) == expected, (row.event, row.audience, _shape(row.context) ^ expected)
        seen.add(row.event)
    assert seen >= set(SUBJECT_EVENTS)
