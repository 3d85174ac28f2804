"""Who decides what goes out: seller toggles, store switches, customer preferences, quiet hours,
guests, suppression and the SMS platform limits."""
import datetime
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from accounts.models import ConsentRecord
from notifications import services
from notifications.models import Notification, QuietHours, Suppression
from notifications.outbox import quiet_hours_end
from tests.factories import CustomerFactory, OrderFactory, ProductFactory, SellerFactory, StoreFactory

from .helpers import emails_to, only_email_to, place, sent, ship, track

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop():
    store = StoreFactory(name="Linen & Co")
    seller = SellerFactory(store=store, email="seller@linen.example")
    product = ProductFactory(store=store, price=Decimal("25.00"), stock_on_hand=50)
    return store, seller, product


def test_seller_switching_new_order_email_off_stops_it_and_keeps_in_app(shop, commit):
    store, seller, product = shop
    services.seller_setting_set(store=store, event="order.placed", channel="email", enabled=False)
    with commit():
        place({product.pk: 1})
    assert emails_to("seller@linen.example") == []
    assert sent("order.placed", audience="seller", channel="inapp").get().status == "sent"
    assert only_email_to("guest@example.com", "order.placed")  # the customer's confirmation still goes


def test_seller_can_opt_into_sms_alerts(shop, sms_outbox, commit):
    store, seller, product = shop
    seller.phone = seller.phone_verified_number = "+447911123456"  # a number proved by its code
    seller.save()
    QuietHours.objects.create(user=seller, enabled=False)  # whatever the time of day the test runs
    # Offered out of the box, but off until the store switches it on.
    with commit():
        place({product.pk: 1})
    assert sms_outbox == []
    services.seller_setting_set(store=store, event="order.placed", channel="sms", enabled=True)
    sms_outbox.clear()
    with commit():
        place({product.pk: 1})
    assert [m["to"] for m in sms_outbox] == [str(seller.phone)]
    services.seller_setting_set(store=store, event="order.placed", channel="sms", enabled=False)
    sms_outbox.clear()
    with commit():
        place({product.pk: 1})
    assert sms_outbox == []


def test_seller_toggles_are_validated():
    store = StoreFactory()
    with pytest.raises(ValidationError):
        # order.shipped is not sent to sellers
        services.seller_setting_set(store=store, event="order.shipped", channel="email", enabled=False)
    with pytest.raises(ValidationError):
        services.seller_setting_set(store=store, event="order.placed", channel="fax", enabled=False)


def test_customer_opt_out_of_shipping_updates_stops_them_but_not_transactional(shop, commit):
    store, seller, product = shop
    customer = CustomerFactory(email="ada@example.com")
    services.customer_preference_set(user=customer, category="shipping_updates", channel="email", enabled=False)
    order = OrderFactory(store=store, customer=customer, lines=[(product, 1)], status="processing")
    with commit():
        shipment = ship(order)
        track(shipment, "in_transit", message="Sorting")
        track(shipment, "out_for_delivery")
    row = sent("shipment.in_transit", channel="email").get()
    assert row.status == "skipped" and "switched off shipping updates" in row.status_reason
    assert sent("shipment.in_transit", channel="inapp").get().status == "sent"  # only email was switched off
    shipped = only_email_to("ada@example.com", "order.shipped")
    assert [m.subject for m in emails_to("ada@example.com")] == [shipped.subject]


def test_transactional_and_security_cannot_be_switched_off_marketing_records_consent():
    customer = CustomerFactory()
    for category in ("transactional", "security"):
        with pytest.raises(ValidationError):
            services.customer_preference_set(user=customer, category=category, channel="email", enabled=False)
    services.customer_preference_set(user=customer, category="marketing", channel="email", enabled=True)
    consent = ConsentRecord.objects.get(user=customer)
    assert consent.kind == "marketing_email" and consent.granted
    services.customer_preference_set(user=customer, category="marketing", channel="email", enabled=False)
    assert ConsentRecord.objects.filter(user=customer, granted=False).count() == 1


def test_store_switch_turns_shipping_updates_off_for_its_customers(shop, commit):
    store, seller, product = shop
    services.store_options_set(store=store, shipping_updates=False)
    order = OrderFactory(store=store, lines=[(product, 1)], status="processing")
    with commit():
        shipment = ship(order)
        track(shipment, "in_transit", message="Sorting")
    assert not sent("shipment.in_transit").exists()
    assert sent("order.shipped").exists()


def test_store_switch_removes_the_review_invitation_from_delivered(shop, commit):
    store, seller, product = shop
    services.store_options_set(store=store, review_request=False)
    order = OrderFactory(store=store, lines=[(product, 1)], status="processing")
    with commit():
        track(ship(order), "delivered")
    message = only_email_to(order.email, "shipment.delivered")
    assert "review" not in message.body.lower()


# The quiet-hours rules (what is held, in whose time zone, what is superseded) are in test_quiet_hours.py.


def test_quiet_hours_window_math_in_the_users_time_zone():
    user = CustomerFactory(time_zone="Asia/Tokyo")
    QuietHours.objects.create(user=user, enabled=True, start=datetime.time(22, 0), end=datetime.time(7, 0))
    # 14:00 UTC = 23:00 Tokyo → held until 07:00 Tokyo = 22:00 UTC.
    at = datetime.datetime(2030, 6, 1, 14, 0, tzinfo=datetime.UTC)
    assert quiet_hours_end(user, now=at) == datetime.datetime(2030, 6, 1, 22, 0, tzinfo=datetime.UTC)
    assert quiet_hours_end(user, now=datetime.datetime(2030, 6, 1, 3, 0, tzinfo=datetime.UTC)) is None  # 12:00
    QuietHours.objects.filter(user=user).update(enabled=False)
    user.refresh_from_db()
    assert quiet_hours_end(user, now=at) is None


def test_guest_gets_email_and_sms_only_when_opted_in_at_checkout(shop, sms_outbox, commit):
    store, seller, product = shop
    platform = services.platform_settings_get()  # no quiet hours: this test is about who, not when
    platform.quiet_hours_start = platform.quiet_hours_end = datetime.time(0, 0)
    platform.save()
    with commit():
        opted = place({product.pk: 1}, email="opted@example.com", phone="+447911123456", sms_opt_in=True).orders[0]
        plain = place({product.pk: 1}, email="plain@example.com", phone="+447911123457").orders[0]
    with commit():
        ship(opted)
        ship(plain, tracking="RM2")
    assert {n.channel for n in sent("order.shipped", order=opted)} == {"email", "sms"}
    assert {n.channel for n in sent("order.shipped", order=plain)} == {"email"}
    assert not sent("order.shipped", channel="inapp").exists()  # guests have no inbox
    assert only_email_to("plain@example.com", "order.shipped")


def test_suppressed_address_is_not_sent_to(shop, commit):
    store, seller, product = shop
    Suppression.objects.create(channel="email", address="bounced@example.com", reason="bounce")
    with commit():
        place({product.pk: 1}, email="bounced@example.com")
    row = sent("order.placed", audience="customer", channel="email").get()
    assert row.status == "suppressed" and "suppression list" in row.status_reason
    assert emails_to("bounced@example.com") == []


def test_sms_daily_cap_and_country_allow_list(shop, commit):
    store, seller, product = shop
    settings_row = services.platform_settings_get()
    settings_row.sms_allowed_countries = "44"
    settings_row.sms_daily_cap = 1
    settings_row.quiet_hours_start = settings_row.quiet_hours_end = datetime.time(0, 0)
    settings_row.save()
    customer = CustomerFactory(phone="+33612345678", sms_opt_in=True)
    french = OrderFactory(store=store, customer=customer, phone="+33612345678", lines=[(product, 1)],
                          status="processing")
    british = [OrderFactory(store=store, customer=None, email=f"g{i}@example.com", phone="+447700900555",
                            sms_opt_in=True, lines=[(product, 1)], status="processing") for i in range(2)]
    with commit():
        ship(french, tracking="A1")
        for i, order in enumerate(british):
            ship(order, tracking=f"B{i}")
    assert "not enabled" in sent("order.shipped", channel="sms", order=french).get().status_reason
    statuses = sorted(sent("order.shipped", channel="sms", order__in=british).values_list("status", flat=True))
    assert statuses == ["sent", "skipped"]


def test_notifications_for_order_selector_has_a_fixed_query_count(shop, commit, django_assert_num_queries):
    from notifications.selectors import notifications_for_order

    store, seller, product = shop
    order = OrderFactory(store=store, lines=[(product, 1)], status="processing")
    with commit():
        track(ship(order), "delivered")
    with django_assert_num_queries(1):
        rows = list(notifications_for_order(order, audience="customer"))
    assert rows and all(r.audience == "customer" for r in rows)
    assert Notification.objects.filter(order=order, audience="seller").exists()
