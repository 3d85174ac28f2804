"""Shipping deadlines (orders.sla): business hours on the store's calendar, the sellers' alert when an
order is late, the escalation to staff, once each, never for shipped or cancelled orders."""
import datetime
from datetime import UTC

import pytest
import time_machine
from django.core import mail

from notifications.context import sample_context
from notifications.models import Notification
from notifications.services import seller_setting_set
from orders.models import Order, OrderStatus
from orders.services import order_transition
from orders.sla import BusinessCalendar, sla_sweep
from tests.factories import ProductFactory, SellerFactory, StoreFactory, UserFactory
from tests.notifications.helpers import place, ship

pytestmark = pytest.mark.django_db

FRIDAY_4PM = datetime.datetime(2030, 1, 18, 16, 0, tzinfo=UTC)  # London is on UTC in January
TUESDAY_4PM = datetime.datetime(2030, 1, 22, 16, 0, tzinfo=UTC)
WEDNESDAY_NOON = datetime.datetime(2030, 1, 23, 12, 0, tzinfo=UTC)  # + 8 business hours: Tue 16–20, Wed 08–12
MINUTE = datetime.timedelta(minutes=1)


@pytest.fixture
def commit(django_capture_on_commit_callbacks):
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture
def shop(db):
    store = StoreFactory(name="Linen Co", country="GB", time_zone="Europe/London")
    seller = SellerFactory(store=store, email="seller@linen.example", first_name="Sam")
    staff = UserFactory(is_staff=True, email="ops@notify.example", first_name="Olu")
    shirt = ProductFactory(store=store, stock_on_hand=50)
    return store, seller, staff, shirt


def place_at(moment, shirt, commit):
    with time_machine.travel(moment, tick=False), commit():
        return Order.objects.get(pk=place({shirt.pk: 1}).orders[0].pk)


def sweep_at(moment, commit):
    with time_machine.travel(moment, tick=False), commit():
        return sla_sweep()


def mails(event):
    ids = set(Notification.objects.filter(event=event, channel="email").values_list("provider_message_id", flat=True))
    return [m for m in mail.outbox if m.extra_headers.get("Message-ID") in ids]


def calendar(**store_fields):
    return BusinessCalendar.for_store(StoreFactory.build(**store_fields))


# --- the calendar ------------------------------------------------------------------------------

def test_24_business_hours_from_friday_4pm_end_on_tuesday_4pm_not_saturday():
    assert calendar().add_business_hours(FRIDAY_4PM, 24) == TUESDAY_4PM


def test_a_public_holiday_of_the_stores_country_does_not_count():
    # Monday 21 January 2030 is Martin Luther King Jr. Day in the US, an ordinary Monday in the UK.
    new_york = calendar(country="US", time_zone="America/New_York")
    friday = datetime.datetime(2030, 1, 18, 21, 0, tzinfo=UTC)  # 16:00 in New York
    assert new_york.add_business_hours(friday, 24) == datetime.datetime(2030, 1, 23, 21, 0, tzinfo=UTC)
    assert calendar(country="GB").add_business_hours(FRIDAY_4PM, 24) == TUESDAY_4PM


def test_uk_good_friday_and_easter_monday_do_not_count_in_england():
    good_friday = datetime.datetime(2030, 4, 19, 15, 0, tzinfo=UTC)  # 16:00 BST
    # Friday and Monday are bank holidays in England: Tuesday and Wednesday 08:00–20:00 BST.
    assert calendar().country == "GB-ENG"  # the default
    assert calendar().add_business_hours(good_friday, 24) == datetime.datetime(2030, 4, 24, 19, 0, tzinfo=UTC)
    # In Scotland Easter Monday is a working day: Monday and Tuesday.
    assert calendar(country="GB-SCT").add_business_hours(good_friday, 24) == datetime.datetime(2030, 4, 23, 19, 0,
                                                                                               tzinfo=UTC)


def test_hours_are_real_hours_across_a_daylight_saving_change():
    friday = datetime.datetime(2030, 3, 29, 16, 0, tzinfo=UTC)  # 16:00 GMT; clocks go forward on Sunday 31 March
    assert calendar().add_business_hours(friday, 24) == datetime.datetime(2030, 4, 2, 15, 0, tzinfo=UTC)  # 16:00 BST


def test_extra_closure_days_working_days_and_hours_are_the_stores_own():
    closed_monday = calendar(closed_dates="2030-01-21")
    assert closed_monday.add_business_hours(FRIDAY_4PM, 24) == TUESDAY_4PM + datetime.timedelta(days=1)
    saturday_shop = calendar(working_days="123456")
    assert saturday_shop.add_business_hours(FRIDAY_4PM, 24) == datetime.datetime(2030, 1, 21, 16, 0, tzinfo=UTC)
    nine_to_five = calendar(opens_at=datetime.time(9), closes_at=datetime.time(17))
    # Fri 16–17 (1 h), Mon and Tue 8 h each (17 h), then 7 h of Wednesday: 16:00 on Wednesday.
    assert nine_to_five.add_business_hours(FRIDAY_4PM, 24) == datetime.datetime(2030, 1, 23, 16, 0, tzinfo=UTC)


def test_an_order_ready_outside_opening_hours_starts_counting_at_the_next_opening():
    saturday = datetime.datetime(2030, 1, 19, 10, 0, tzinfo=UTC)
    assert calendar().add_business_hours(saturday, 12) == datetime.datetime(2030, 1, 21, 20, 0, tzinfo=UTC)
    assert calendar().add_business_hours(saturday, 13) == datetime.datetime(2030, 1, 22, 9, 0, tzinfo=UTC)


# --- the alerts ---------------------------------------------------------------------------------

def test_an_order_placed_friday_4pm_alerts_the_seller_on_tuesday_4pm_then_staff_once(shop, commit):
    store, seller, staff, shirt = shop
    order = place_at(FRIDAY_4PM, shirt, commit)
    assert order.status == OrderStatus.PROCESSING and order.ship_by == TUESDAY_4PM
    assert sweep_at(datetime.datetime(2030, 1, 19, 16, 0, tzinfo=UTC), commit)["steps"] == 0  # Saturday: no
    assert sweep_at(TUESDAY_4PM - MINUTE, commit)["steps"] == 0
    assert not Notification.objects.filter(event__startswith="order.sla").exists()

    assert sweep_at(TUESDAY_4PM, commit)["steps"] == 1
    [alert] = mails("order.sla_breached")
    assert alert.to == ["seller@linen.example"] and order.number in alert.subject
    assert "22 Jan 2030, 16:00" in alert.body and f"/seller/orders/{order.number}/" in alert.body
    assert Notification.objects.filter(event="order.sla_breached", channel="inapp", recipient=seller).exists()
    assert not mails("order.sla_escalated")
    order.refresh_from_db()
    assert order.sla_step == 1 and order.sla_due_at == WEDNESDAY_NOON
    with time_machine.travel(TUESDAY_4PM, tick=False):
        assert order.is_late
    # The customer's timeline does not show the internal alert.
    from accounts.dashboard.status import timeline_entries
    from orders.selectors import order_with_details

    assert not any("alerted" in e["detail"] for e in timeline_entries(order_with_details(order)))
    assert any("alerted" in e["detail"] for e in timeline_entries(order_with_details(order), audience="seller"))

    assert sweep_at(WEDNESDAY_NOON - MINUTE, commit)["steps"] == 0
    assert sweep_at(WEDNESDAY_NOON, commit)["steps"] == 1
    [escalation] = mails("order.sla_escalated")
    assert escalation.to == ["ops@notify.example"] and "Linen Co" in escalation.subject
    assert f"/admin/orders/order/{order.pk}/change/" in escalation.body
    assert not Notification.objects.filter(event="order.sla_escalated", recipient=seller).exists()

    rows = Notification.objects.count()
    for later in (WEDNESDAY_NOON, WEDNESDAY_NOON + datetime.timedelta(days=3)):
        assert sweep_at(later, commit) == {"orders": 0, "steps": 0}
    assert Notification.objects.count() == rows and len(mails("order.sla_breached")) == 1
    assert len(mails("order.sla_escalated")) == 1


def test_a_step_run_twice_for_the_same_order_writes_nothing_new(shop, commit):
    """Two overlapping runs (the second before the first's state change is seen) share the outbox key."""
    from notifications.receivers import on_order_sla_missed
    from orders.models import OrderEvent

    store, seller, staff, shirt = shop
    order = place_at(FRIDAY_4PM, shirt, commit)
    sweep_at(TUESDAY_4PM, commit)
    before = Notification.objects.filter(event="order.sla_breached").count()
    with time_machine.travel(TUESDAY_4PM, tick=False):
        on_order_sla_missed(sender=Order, order=order, step=1, event=OrderEvent.objects.last(), ship_by=order.ship_by)
    assert Notification.objects.filter(event="order.sla_breached").count() == before


def test_a_late_beat_takes_both_steps_in_one_run(shop, commit):
    store, seller, staff, shirt = shop
    place_at(FRIDAY_4PM, shirt, commit)
    assert sweep_at(WEDNESDAY_NOON + datetime.timedelta(hours=1), commit)["steps"] == 2
    assert len(mails("order.sla_breached")) == 1 and len(mails("order.sla_escalated")) == 1


def test_shipped_and_cancelled_orders_never_alert(shop, commit):
    store, seller, staff, shirt = shop
    shipped = place_at(FRIDAY_4PM, shirt, commit)
    cancelled = place_at(FRIDAY_4PM, shirt, commit)
    with time_machine.travel(TUESDAY_4PM - MINUTE, tick=False), commit():
        ship(shipped)
        order_transition(order=cancelled, to="cancelled", actor=seller, note="Out of stock")
    assert sweep_at(WEDNESDAY_NOON + datetime.timedelta(days=2), commit) == {"orders": 0, "steps": 0}
    assert not Notification.objects.filter(event__startswith="order.sla").exists()
    shipped.refresh_from_db()
    with time_machine.travel(WEDNESDAY_NOON, tick=False):
        assert not shipped.is_late


def test_an_order_on_hold_is_still_late_and_a_release_keeps_its_deadline(shop, commit):
    store, seller, staff, shirt = shop
    order = place_at(FRIDAY_4PM, shirt, commit)
    with time_machine.travel(FRIDAY_4PM + MINUTE, tick=False), commit():
        order_transition(order=order, to="on_hold", actor=seller, note="Checking the address")
        order_transition(order=order, to="processing", actor=seller)
    order.refresh_from_db()
    assert order.ship_by == TUESDAY_4PM
    assert sweep_at(TUESDAY_4PM, commit)["steps"] == 1


def test_an_unpaid_order_has_no_deadline_until_it_is_paid(shop, commit):
    from tests.notifications.helpers import DECLINED_CARD

    store, seller, staff, shirt = shop
    with time_machine.travel(FRIDAY_4PM, tick=False), commit():
        order = place({shirt.pk: 1}, card_number=DECLINED_CARD).orders[0]
    order.refresh_from_db()
    assert order.status == OrderStatus.PENDING and order.ship_by is None
    assert sweep_at(WEDNESDAY_NOON, commit)["orders"] == 0


def test_the_sellers_toggles_apply_to_the_late_alert(shop, commit):
    store, seller, staff, shirt = shop
    seller_setting_set(store=store, event="order.sla_breached", channel="email", enabled=False)
    place_at(FRIDAY_4PM, shirt, commit)
    sweep_at(TUESDAY_4PM, commit)
    assert not mails("order.sla_breached")
    assert Notification.objects.filter(event="order.sla_breached", channel="inapp").count() == 1


def test_sla_contexts_have_the_shape_the_templates_are_validated_against(shop, commit):
    from tests.notifications.test_templates import _shape

    store, seller, staff, shirt = shop
    place_at(FRIDAY_4PM, shirt, commit)
    sweep_at(WEDNESDAY_NOON, commit)
    rows = Notification.objects.filter(event__startswith="order.sla")
    assert {(r.event, r.audience) for r in rows} == {("order.sla_breached", "seller"), ("order.sla_escalated", "staff")}
    for row in rows:
        assert _shape(row.context) == _shape(sample_context(row.event, row.audience)), row.event
