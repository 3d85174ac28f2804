"""The promotion code at checkout: eligible lines only, only between its dates, once per order,
shown in the cart, the order's totals and the order messages."""
import datetime
from decimal import Decimal

import pytest
from django.core import mail
from django.urls import reverse

from marketing.models import Promotion
from orders.checkout import CheckoutError, cart_quote
from tests.notifications.helpers import place

from .conftest import make_promotion

pytestmark = pytest.mark.django_db


@pytest.fixture
def priced(shop):
    store, lamp, bulb, other = shop
    lamp.price, bulb.price, other.price = Decimal("40.00"), Decimal("10.00"), Decimal("20.00")
    for p in (lamp, bulb, other):
        p.stock_on_hand = 50
        p.save()
    return shop


def launched(store, products, start, **kw):
    promotion = make_promotion(store, products, start=start, **kw)
    Promotion.objects.filter(pk=promotion.pk).update(status=Promotion.Status.SENT)
    return promotion


def test_the_code_discounts_eligible_lines_only_and_only_between_its_dates(priced, frozen_clock, commit):
    store, lamp, bulb, other = priced
    start = datetime.datetime(2030, 1, 17, 9, 0, tzinfo=datetime.UTC)  # tomorrow morning
    launched(store, [lamp], start, days=2)
    items = {lamp.pk: 1, bulb.pk: 2, other.pk: 1}

    with pytest.raises(CheckoutError, match="works from"):
        place(items, promo_code="spring20")
    assert cart_quote(items, promo_code="SPRING20").promo_error.startswith("That code works from")

    frozen_clock.move_to(start + datetime.timedelta(hours=1))
    quote = cart_quote(items, promo_code="spring20")
    assert quote.discount == Decimal("8.00") and quote.promo_code == "SPRING20"  # 20 % of the lamp only
    with commit():
        result = place(items, promo_code=" spring20 ", email="ada@example.com")
    ours = next(o for o in result.orders if o.store_id == store.pk)
    theirs = next(o for o in result.orders if o.store_id != store.pk)
    assert (ours.subtotal, ours.discount_total, ours.promo_code) == (Decimal("60.00"), Decimal("8.00"), "SPRING20")
    assert ours.total == Decimal("52.00") + ours.shipping_total
    assert (theirs.discount_total, theirs.promo_code) == (Decimal("0.00"), "")  # the other store's mug
    confirmation = next(m for m in mail.outbox if m.to == ["ada@example.com"] and ours.number in m.subject)
    assert "Discount (SPRING20): -£8.00" in confirmation.body

    with pytest.raises(CheckoutError, match="does not apply"):
        place({bulb.pk: 1}, promo_code="SPRING20")
    frozen_clock.move_to(start + datetime.timedelta(days=2))
    with pytest.raises(CheckoutError, match="expired"):
        place(items, promo_code="SPRING20")
    with pytest.raises(CheckoutError, match="does not exist"):
        place(items, promo_code="NOPE")


def test_a_whole_store_code_covers_that_store_only(priced, frozen_clock):
    store, lamp, bulb, other = priced
    launched(store, [], datetime.datetime(2030, 1, 1, tzinfo=datetime.UTC), days=60, whole_store=True, code="ALL10")
    quote = cart_quote({lamp.pk: 1, bulb.pk: 1, other.pk: 1}, promo_code="ALL10")
    assert quote.discount == Decimal("10.00")


def test_a_draft_or_cancelled_promotions_code_does_not_work(priced, frozen_clock):
    store, lamp, *_ = priced
    make_promotion(store, [lamp], start=datetime.datetime(2030, 1, 1, tzinfo=datetime.UTC), days=60)
    with pytest.raises(CheckoutError, match="does not exist"):
        place({lamp.pk: 1}, promo_code="SPRING20")


def test_the_cart_applies_and_shows_the_code(client, priced, frozen_clock):
    store, lamp, bulb, other = priced
    launched(store, [lamp], datetime.datetime(2030, 1, 1, tzinfo=datetime.UTC), days=60)
    client.post(reverse("storefront:cart_add", args=[lamp.pk]), {"quantity": 1})
    bad = client.post(reverse("storefront:cart_promo"), {"code": "WRONG"}, follow=True).content.decode()
    assert "That code does not exist." in bad
    page = client.post(reverse("storefront:cart_promo"), {"code": "spring20"}, follow=True).content.decode()
    assert "Code SPRING20 applied: you save £8.00." in page and "-£8.00" in page
    checkout = client.get(reverse("storefront:checkout")).content.decode()
    assert "Discount (SPRING20)" in checkout
    page = client.post(reverse("storefront:cart_promo"), {"remove": "1"}, follow=True).content.decode()
    assert "Code removed." in page and "-£8.00" not in page
