"""Seller digests (notifications.digest): new-order alerts taken as one message per window, per
channel; every order in exactly one digest, nothing for an empty period, the toggles respected."""
import datetime
from datetime import UTC

import pytest
import time_machine
from django.core import mail

from notifications.context import sample_context
from notifications.digest import digest_close_due, window_end
from notifications.models import Notification
from notifications.services import seller_digest_set, seller_setting_set
from tests.factories import ProductFactory, SellerFactory, StoreFactory

from .helpers import place

pytestmark = pytest.mark.django_db

TEN = datetime.datetime(2030, 1, 16, 10, 0, tzinfo=UTC)
MINUTE = datetime.timedelta(minutes=1)
S = Notification.Status


@pytest.fixture
def shop(db):
    store = StoreFactory(name="Linen Co")
    seller = SellerFactory(store=store, email="seller@linen.example", first_name="Sam")
    shirt = ProductFactory(store=store, stock_on_hand=100)
    return store, seller, shirt


def place_at(moment, shirt, commit):
    with time_machine.travel(moment, tick=False), commit():
        return place({shirt.pk: 1}).orders[0]


def close_at(moment, commit):
    with time_machine.travel(moment, tick=False), commit():
        return digest_close_due()


def seller_mails():
    return [m for m in mail.outbox if m.to == ["seller@linen.example"]]


def test_windows_are_aligned_on_the_clock():
    assert window_end(TEN + 7 * MINUTE, 15) == TEN + 15 * MINUTE
    assert window_end(TEN + 15 * MINUTE, 15) == TEN + 30 * MINUTE
    assert window_end(TEN + 59 * MINUTE, 60) == TEN + 60 * MINUTE
    assert window_end(TEN + 31 * MINUTE, 30) == TEN + 60 * MINUTE


def test_a_digest_of_7_orders_is_one_message_listing_7(shop, commit):
    store, seller, shirt = shop
    seller_digest_set(store=store, event="order.placed", channel="email", minutes=15)
    orders = [place_at(TEN + (i + 1) * MINUTE, shirt, commit) for i in range(7)]
    assert seller_mails() == []  # held, not sent one by one
    assert Notification.objects.filter(event="order.placed", audience="seller", channel="email",
                                        status=S.HELD_FOR_DIGEST).count() == 7
    # The in-app alerts were not switched to a digest: one per order, as before.
    assert Notification.objects.filter(event="order.placed", audience="seller", channel="inapp",
                                        status=S.SENT).count() == 7

    assert close_at(TEN + 14 * MINUTE, commit) == {"windows": 0, "digests": 0}
    assert close_at(TEN + 15 * MINUTE, commit) == {"windows": 1, "digests": 1}
    [digest] = seller_mails()
    assert digest.subject == "7 new orders for Linen Co"
    html = next(content for content, mime in digest.alternatives if mime == "text/html")
    for order in orders:
        assert order.number in digest.body and f"/seller/orders/{order.number}/" in digest.body
        assert f"/seller/orders/{order.number}/" in html
    assert digest.body.count("£") >= 7  # each order with its total
    assert digest.body.count("payment captured") == 7  # the card payment taken later in each checkout
    row = Notification.objects.get(event="order.placed_digest")
    assert row.status == S.SENT and row.recipient == seller and row.digested_rows.count() == 7
    assert not Notification.objects.filter(status=S.HELD_FOR_DIGEST).exists()

    assert close_at(TEN + 16 * MINUTE, commit) == {"windows": 0, "digests": 0}
    assert close_at(TEN + 2 * 60 * MINUTE, commit) == {"windows": 0, "digests": 0}
    assert len(seller_mails()) == 1


def test_an_empty_period_sends_nothing(shop, commit):
    store, seller, shirt = shop
    seller_digest_set(store=store, event="order.placed", channel="email", minutes=15)
    for minutes in (15, 30, 45, 60):
        assert close_at(TEN + minutes * MINUTE, commit) == {"windows": 0, "digests": 0}
    assert not Notification.objects.exists() and seller_mails() == []


def test_each_window_is_its_own_digest(shop, commit):
    store, seller, shirt = shop
    seller_digest_set(store=store, event="order.placed", channel="email", minutes=15)
    place_at(TEN + 2 * MINUTE, shirt, commit)
    place_at(TEN + 20 * MINUTE, shirt, commit)
    place_at(TEN + 21 * MINUTE, shirt, commit)
    assert close_at(TEN + 40 * MINUTE, commit) == {"windows": 2, "digests": 2}
    assert sorted(m.subject for m in seller_mails()) == ["1 new order for Linen Co", "2 new orders for Linen Co"]


def test_no_order_is_lost_when_the_window_closes_during_an_order_placement(shop, commit):
    """The order's transaction began at 10:14:59 (its row is held for the 10:15 window) but
    committed after the beat had already sent the 10:15 digest: the next run sends it, once."""
    store, seller, shirt = shop
    seller_digest_set(store=store, event="order.placed", channel="email", minutes=15)
    first = place_at(TEN + 5 * MINUTE, shirt, commit)
    assert close_at(TEN + 15 * MINUTE, commit)["digests"] == 1
    straggler = place_at(TEN + 15 * MINUTE - datetime.timedelta(seconds=1), shirt, commit)
    assert close_at(TEN + 16 * MINUTE, commit)["digests"] == 1
    assert close_at(TEN + 17 * MINUTE, commit)["digests"] == 0
    digests = seller_mails()
    assert len(digests) == 2
    assert [first.number in m.body for m in digests] == [True, False]
    assert [straggler.number in m.body for m in digests] == [False, True]
    held = Notification.objects.filter(event="order.placed", audience="seller", channel="email")
    assert {n.status for n in held} == {S.DIGESTED} and len({n.digest_id for n in held}) == 2


def test_switching_the_digest_off_mid_window_still_sends_what_was_held(shop, commit):
    store, seller, shirt = shop
    seller_digest_set(store=store, event="order.placed", channel="email", minutes=30)
    held = [place_at(TEN + m * MINUTE, shirt, commit) for m in (1, 2)]
    seller_digest_set(store=store, event="order.placed", channel="email", minutes=0)
    now = place_at(TEN + 3 * MINUTE, shirt, commit)
    [single] = seller_mails()
    assert now.number in single.subject
    assert close_at(TEN + 30 * MINUTE, commit)["digests"] == 1
    digest = seller_mails()[-1]
    assert digest.subject == "2 new orders for Linen Co"
    assert all(order.number in digest.body for order in held) and now.number not in digest.body


def test_a_channel_switched_off_gets_neither_alerts_nor_digests(shop, commit):
    store, seller, shirt = shop
    seller_digest_set(store=store, event="order.placed", channel="email", minutes=15)
    seller_setting_set(store=store, event="order.placed", channel="email", enabled=False)
    place_at(TEN + MINUTE, shirt, commit)
    assert close_at(TEN + 15 * MINUTE, commit) == {"windows": 0, "digests": 0}
    assert seller_mails() == []


def test_in_app_and_sms_digests_are_one_message_each(shop, commit, sms_outbox):
    from notifications.models import InboxMessage

    store, seller, shirt = shop
    seller_setting_set(store=store, event="order.placed", channel="sms", enabled=True)
    for channel in ("inapp", "sms"):
        seller_digest_set(store=store, event="order.placed", channel=channel, minutes=60)
    orders = [place_at(TEN + m * MINUTE, shirt, commit) for m in (1, 2, 3)]
    assert close_at(TEN + 60 * MINUTE, commit)["digests"] == 2
    [inbox] = InboxMessage.objects.filter(user=seller)
    assert inbox.title == "3 new orders" and all(o.number in inbox.body for o in orders)
    [sms] = [m for m in sms_outbox if m["to"] == str(seller.phone)]
    body = sms["body"]
    assert body.startswith("3 new orders for Linen Co") and all(o.number in body for o in orders)


def test_only_15_30_or_60_minutes_and_only_for_new_orders():
    from django.core.exceptions import ValidationError

    store = StoreFactory()
    with pytest.raises(ValidationError):
        seller_digest_set(store=store, event="order.placed", channel="email", minutes=20)
    with pytest.raises(ValidationError):
        seller_digest_set(store=store, event="order.cancelled", channel="email", minutes=15)


def test_the_digest_context_has_the_shape_of_the_sample(shop, commit):
    from .test_templates import _shape

    store, seller, shirt = shop
    seller_digest_set(store=store, event="order.placed", channel="email", minutes=15)
    place_at(TEN + MINUTE, shirt, commit)
    close_at(TEN + 15 * MINUTE, commit)
    row = Notification.objects.get(event="order.placed_digest")
    assert _shape(row.context) == _shape(sample_context("order.placed_digest", "seller"))
