"""promotion.launched, like the other event tests: catalogue row (subject, category, channels),
recipients (the consenting audience, see test_fanout), shipped defaults render with what the
message must carry, and a real row's context, once delivery fills it in, has the sample's shape."""
import pytest
from django.core import mail

from marketing.services import promotion_launch, promotion_preview
from notifications.context import sample_context
from notifications.events import EVENTS
from notifications.models import Notification
from notifications.rendering import render
from tests.notifications.test_templates import _shape

from .conftest import customers, make_promotion

pytestmark = pytest.mark.django_db


def test_catalogue_row():
    e = EVENTS["promotion.launched"]
    assert (e.subject, e.category, e.customer_channels, e.seller_channels, e.supplier_channels) == (
        "promotion", "marketing", ("email", "sms"), (), ())
    assert e.audiences == ["customer"]


@pytest.mark.parametrize("channel", ["email", "sms", "inapp"])
def test_shipped_defaults_render_what_the_message_must_carry(channel):
    ctx = sample_context("promotion.launched", "customer")
    rendered = render(event="promotion.launched", audience="customer", channel=channel, language="en", context=ctx)
    text = rendered.text
    assert "SPRING20" in text and "20%" in (rendered.subject + text)  # code and discount
    if channel == "email":
        assert "Desk Lamp" in text and ctx["promotion"]["ends"] in text  # eligible products, dates
        assert ctx["links"]["unsubscribe"] in text and ctx["links"]["unsubscribe"] in rendered.html
    if channel == "sms":
        assert text.endswith("Reply STOP to opt out")


def test_real_context_has_the_sample_shape_and_everyone_gets_their_own_name(shop, commit, frozen_clock):
    store, lamp, bulb, _ = shop
    customers(3)
    from django.utils import timezone

    promotion = make_promotion(store, [lamp, bulb], start=timezone.now())
    with commit():
        promotion_launch(promotion=promotion)
    assert len(mail.outbox) == 3
    assert sorted(m.body.split("\n")[0] for m in mail.outbox) == ["Hi N0,", "Hi N1,", "Hi N2,"]
    row = Notification.objects.filter(event="promotion.launched").first()
    assert row.status == "sent" and set(row.context) == {"shared", "first_name"}  # no copy per row
    from marketing.context import for_row

    promotion.refresh_from_db()
    real = for_row(promotion.context, first_name="x", address=row.recipient_address, channel="email",
                   promotion_id=promotion.pk)
    assert _shape(real) == _shape(sample_context("promotion.launched", "customer"))


def test_preview_per_channel(shop, frozen_clock):
    store, lamp, *_ = shop
    from django.utils import timezone

    promotion = make_promotion(store, [lamp], start=timezone.now(), channels=["email", "sms"])
    assert "SPRING20" in promotion_preview(promotion, "email").html
    assert promotion_preview(promotion, "sms").text.endswith("Reply STOP to opt out")
