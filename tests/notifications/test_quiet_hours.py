"""Quiet hours hold only what may wait (SPEC section 8), in the recipient's own time zone.

Every test sets the clock itself (time-machine), so none depends on when the suite runs.
"""
import datetime
from decimal import Decimal

import pytest
import time_machine

from notifications.delivery import outbox_sweep
from notifications.events import Category, held_by_quiet_hours
from notifications.models import Notification, PlatformEventSetting, QuietHours
from notifications.outbox import quiet_hours_end, recipient_time_zone
from tests.factories import CustomerFactory, OrderFactory, ProductFactory, SellerFactory, StoreFactory

from .helpers import place, sent, ship, track

pytestmark = pytest.mark.django_db
UTC = datetime.UTC


def at(*args):
    return datetime.datetime(*args, tzinfo=UTC)


@pytest.fixture
def shop():
    store = StoreFactory(name="Linen & Co")
    SellerFactory(store=store, email="seller@linen.example")
    product = ProductFactory(store=store, price=Decimal("25.00"), stock_on_hand=50)
    return store, product


def customer_order(store, product, *, time_zone, phone):
    customer = CustomerFactory(email=f"{time_zone.split('/')[-1].lower()}@example.com", phone=phone,
                               sms_opt_in=True, time_zone=time_zone)
    return OrderFactory(store=store, customer=customer, lines=[(product, 1)], status="processing")


def sms_bodies(sms_outbox, to):
    return [m["body"] for m in sms_outbox if m["to"] == to]


def test_quiet_hours_hold_an_optional_sms_and_never_an_order_update(shop, sms_outbox, commit):
    """Rewritten from the old rule (every SMS but an urgent one waited): at 23:00 London the
    "shipped" SMS (transactional) goes at once; the "out for delivery" SMS (shipping updates, an
    optional category) waits until 08:00 London, and its email does not wait at all."""
    store, product = shop
    order = customer_order(store, product, time_zone="Europe/London", phone="+447911123456")
    with time_machine.travel(at(2030, 1, 15, 23, 0), tick=False):  # January: London = UTC
        with commit():
            shipment = ship(order)
        assert sent("order.shipped", channel="sms").get().status == "sent"
        assert len(sms_bodies(sms_outbox, "+447911123456")) == 1
        with commit():
            track(shipment, "out_for_delivery")
        held = sent("shipment.out_for_delivery", channel="sms").get()
        assert held.status == "queued" and held.send_after == at(2030, 1, 16, 8, 0)
        assert "until 08:00 (Europe/London)" in held.status_reason
        assert sent("shipment.out_for_delivery", channel="email").get().status == "sent"
        assert len(sms_bodies(sms_outbox, "+447911123456")) == 1

    # The sweeper hands it over once the window is over, not before.
    with time_machine.travel(at(2030, 1, 16, 7, 30), tick=False):
        assert outbox_sweep()["requeued"] == 0
    with time_machine.travel(at(2030, 1, 16, 8, 1), tick=False):
        assert outbox_sweep()["requeued"] == 1
    held.refresh_from_db()
    assert held.status == "sent"
    assert len(sms_bodies(sms_outbox, "+447911123456")) == 2


def test_the_window_is_the_customers_own_time_zone_tokyo_and_london(shop, sms_outbox, commit):
    """14:00 UTC is 23:00 in Tokyo and 14:00 in London: only the Tokyo customer's update waits,
    until 08:00 Tokyo (23:00 UTC)."""
    store, product = shop
    tokyo = customer_order(store, product, time_zone="Asia/Tokyo", phone="+819012345678")
    london = customer_order(store, product, time_zone="Europe/London", phone="+447911654321")
    with time_machine.travel(at(2030, 1, 15, 14, 0), tick=False):
        with commit():
            tokyo_shipment = ship(tokyo, tracking="JP1")
            london_shipment = ship(london, tracking="GB1")
        # The transactional "shipped" SMS goes to both at once, night in Tokyo or not.
        assert set(sent("order.shipped", channel="sms").values_list("status", flat=True)) == {"sent"}
        with commit():
            track(tokyo_shipment, "out_for_delivery")
            track(london_shipment, "out_for_delivery")
    tokyo_sms = sent("shipment.out_for_delivery", channel="sms", order=tokyo).get()
    london_sms = sent("shipment.out_for_delivery", channel="sms", order=london).get()
    assert tokyo_sms.status == "queued" and tokyo_sms.send_after == at(2030, 1, 15, 23, 0)
    assert "until 08:00 (Asia/Tokyo)" in tokyo_sms.status_reason
    assert london_sms.status == "sent" and london_sms.send_after is None
    with time_machine.travel(at(2030, 1, 15, 23, 2), tick=False):
        assert outbox_sweep()["requeued"] == 1
    tokyo_sms.refresh_from_db()
    assert tokyo_sms.status == "sent"


def test_a_customers_own_window_replaces_the_platforms(shop, sms_outbox, commit):
    store, product = shop
    order = customer_order(store, product, time_zone="Europe/London", phone="+447911123456")
    QuietHours.objects.create(user=order.customer, enabled=True, start=datetime.time(23, 30),
                              end=datetime.time(6, 45))
    order.customer.refresh_from_db()
    with time_machine.travel(at(2030, 1, 15, 22, 0), tick=False):  # inside the platform's, not theirs
        with commit():
            track(ship(order), "out_for_delivery")
    assert sent("shipment.out_for_delivery", channel="sms").get().status == "sent"
    assert quiet_hours_end(order.customer, now=at(2030, 1, 16, 1, 0), category=Category.SHIPPING_UPDATES) \
        == at(2030, 1, 16, 6, 45)


def test_a_guest_is_held_in_the_time_zone_of_their_phone_number(shop, sms_outbox, commit):
    store, product = shop
    with time_machine.travel(at(2030, 1, 15, 14, 0), tick=False):  # 23:00 in Tokyo
        with commit():
            order = place({product.pk: 1}, email="guest@example.jp", phone="+819012345678",
                          sms_opt_in=True).orders[0]
        with commit():
            track(ship(order, tracking="JP2"), "out_for_delivery")
    held = sent("shipment.out_for_delivery", channel="sms").get()
    assert held.status == "queued" and held.send_after == at(2030, 1, 15, 23, 0)
    assert recipient_time_zone(None, "+819012345678").key == "Asia/Tokyo"
    assert recipient_time_zone(None, "not a number").key == "Europe/London"


def test_marketing_sms_only_between_eight_and_nine_local_whatever_the_platform_says():
    user = CustomerFactory(time_zone="America/New_York")
    QuietHours.objects.create(user=user, enabled=False, start=datetime.time(22), end=datetime.time(7))
    user.refresh_from_db()
    marketing = {"category": Category.MARKETING, "channel": "sms"}
    # The customer switched quiet hours off: a shipping update goes at 22:30 New York...
    assert quiet_hours_end(user, now=at(2030, 1, 16, 3, 30), category=Category.SHIPPING_UPDATES) is None
    # ...but an offer by SMS waits until 08:00 New York (13:00 UTC), at 22:30 as at 06:00.
    assert quiet_hours_end(user, now=at(2030, 1, 16, 3, 30), **marketing) == at(2030, 1, 16, 13, 0)
    assert quiet_hours_end(user, now=at(2030, 1, 16, 11, 0), **marketing) == at(2030, 1, 16, 13, 0)
    assert quiet_hours_end(user, now=at(2030, 1, 16, 1, 59), **marketing) is None  # 20:59 New York
    assert quiet_hours_end(user, now=at(2030, 1, 16, 2, 0), **marketing) == at(2030, 1, 16, 13, 0)  # 21:00
    # By email an offer is not held.
    assert not held_by_quiet_hours(Category.MARKETING, "email")


def test_overlapping_windows_hold_until_outside_all_of_them():
    user = CustomerFactory(time_zone="Europe/London")
    QuietHours.objects.create(user=user, enabled=True, start=datetime.time(20), end=datetime.time(9, 30))
    user.refresh_from_db()
    marketing = {"category": Category.MARKETING, "channel": "sms"}
    # 07:00: the marketing window ends at 08:00 but the customer's own runs to 09:30.
    assert quiet_hours_end(user, now=at(2030, 1, 16, 7, 0), **marketing) == at(2030, 1, 16, 9, 30)
    assert quiet_hours_end(user, now=at(2030, 1, 16, 20, 30), **marketing) == at(2030, 1, 17, 9, 30)


@pytest.mark.parametrize("category,held", [
    (Category.TRANSACTIONAL, False), (Category.SECURITY, False), (Category.SELLER_ALERT, False),
    (Category.SHIPPING_UPDATES, True), (Category.ACCOUNT, True), (Category.MARKETING, True),
])
def test_only_optional_categories_wait_and_only_on_interrupting_channels(category, held):
    assert held_by_quiet_hours(category, "sms") is held
    assert held_by_quiet_hours(category, "push") is held
    assert held_by_quiet_hours(category, "email") is False
    assert held_by_quiet_hours(category, "inapp") is False


def test_payment_failed_sms_goes_at_night(shop, sms_outbox, commit):
    from orders.checkout import checkout_retry_payment

    from .helpers import DECLINED_CARD

    store, product = shop
    customer = CustomerFactory(email="ada@example.com", phone="+447911123456", sms_opt_in=True, time_zone="UTC")
    with time_machine.travel(at(2030, 1, 15, 2, 0), tick=False):
        with commit():
            order = place({product.pk: 1}, customer=customer, email=customer.email, phone="+447911123456",
                          sms_opt_in=True, card_number=DECLINED_CARD).orders[0]
    # A second declined attempt two hours later (past the one-notice-an-hour throttle), at 04:00.
    with time_machine.travel(at(2030, 1, 15, 4, 0), tick=False):
        with commit():
            checkout_retry_payment(orders=[order], payment_method="card", card_number=DECLINED_CARD)
    assert sent("order.payment_failed", channel="sms").get().status == "sent"


def test_a_held_out_for_delivery_sms_is_superseded_when_the_parcel_is_delivered_first(
        shop, sms_outbox, commit, client):
    """22:00 "out for delivery" is held; the parcel is delivered at 23:10 and that message goes at
    once; at 08:00 the held one is marked superseded and never sent."""
    store, product = shop
    order = customer_order(store, product, time_zone="Europe/London", phone="+447911123456")
    with time_machine.travel(at(2030, 1, 15, 21, 30), tick=False):
        with commit():
            shipment = ship(order)
    with time_machine.travel(at(2030, 1, 15, 22, 0), tick=False):
        with commit():
            track(shipment, "out_for_delivery")
    held = sent("shipment.out_for_delivery", channel="sms").get()
    assert held.status == "queued"
    with time_machine.travel(at(2030, 1, 15, 23, 10), tick=False):
        with commit():
            track(shipment, "delivered")
    assert sent("shipment.delivered", channel="sms").get().status == "sent"
    with time_machine.travel(at(2030, 1, 16, 8, 1), tick=False):
        outbox_sweep()
    held.refresh_from_db()
    assert held.status == "superseded" and held.sent_at is None and held.attempts == 0
    assert "later update (delivered)" in held.status_reason
    bodies = sms_bodies(sms_outbox, "+447911123456")
    assert len(bodies) == 2 and "out for delivery" not in " ".join(bodies).lower()
    assert not held.delivery_attempts.exists()

    # The status page and the admin delivery log show it as superseded.
    client.force_login(order.customer)
    page = client.get(f"/account/orders/{order.number}/").content.decode()
    assert "Superseded" in page and "later update (delivered)" in page
    from tests.factories import UserFactory

    admin = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(admin)
    log = client.get("/admin/notifications/notification/?status__exact=superseded").content.decode()
    assert "shipment.out_for_delivery" in log and "Superseded" in log


def test_a_held_message_is_superseded_when_the_parcel_moved_on_without_a_newer_message(
        shop, sms_outbox, commit):
    store, product = shop
    order = customer_order(store, product, time_zone="Europe/London", phone="+447911123456")
    with time_machine.travel(at(2030, 1, 15, 22, 0), tick=False):
        with commit():
            track(ship(order), "out_for_delivery")
    # The carrier reports delivery but no message was written for it (seller switched the store off,
    # say); the held update must still not claim the parcel is on its way.
    from orders.models import Shipment

    Shipment.objects.filter(order=order).update(status="delivered")
    with time_machine.travel(at(2030, 1, 16, 8, 1), tick=False):
        outbox_sweep()
    held = sent("shipment.out_for_delivery", channel="sms").get()
    assert held.status == "superseded" and "now delivered" in held.status_reason


def test_two_held_updates_become_one_message_with_the_current_state(shop, sms_outbox, commit):
    store, product = shop
    PlatformEventSetting.objects.update_or_create(event="shipment.in_transit",
                                                  defaults={"customer_channels": ["email", "sms", "inapp"]})
    order = customer_order(store, product, time_zone="Europe/London", phone="+447911123456")
    with time_machine.travel(at(2030, 1, 15, 20, 0), tick=False):
        with commit():
            shipment = ship(order)
    with time_machine.travel(at(2030, 1, 15, 23, 0), tick=False):
        with commit():
            track(shipment, "in_transit", location="Reading hub")
    with time_machine.travel(at(2030, 1, 16, 6, 30), tick=False):
        with commit():
            track(shipment, "out_for_delivery")
    with time_machine.travel(at(2030, 1, 16, 8, 1), tick=False):
        outbox_sweep()
    assert sent("shipment.in_transit", channel="sms").get().status == "superseded"
    assert sent("shipment.out_for_delivery", channel="sms").get().status == "sent"
    assert len(sms_bodies(sms_outbox, "+447911123456")) == 2  # shipped, then out for delivery
    assert Notification.objects.filter(channel="email", order=order, status="sent").count() == 3
