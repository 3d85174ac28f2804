"""The marketing row of the customer's preference grid acts per channel: it shows the latest consent
record (a checkout opt-in, an unsubscribe link) and switching a cell records consent that the
promotion audience reads."""
import pytest
from django.urls import reverse
from django.utils import timezone

from marketing import fanout as engine
from marketing.models import FanOut
from marketing.services import promotion_launch
from notifications.models import Notification
from notifications.selectors import customer_preferences_matrix
from tests.factories import CustomerFactory

from .conftest import consent, make_promotion

pytestmark = pytest.mark.django_db


def marketing_cells(user):
    row = next(r for r in customer_preferences_matrix(user) if r["category"] == "marketing")
    return {ch: cell["enabled"] for ch, cell in row["channels"].items() if ch in ("email", "sms")}


def test_the_grid_shows_the_latest_consent_and_its_switches_decide_the_audience(client, shop, frozen_clock):
    store, lamp, *_ = shop
    ada = CustomerFactory(email="ada@example.com", phone="+447700900123")
    consent(ada)  # ticked at checkout
    assert marketing_cells(ada) == {"email": True, "sms": False}
    client.force_login(ada)
    client.post(reverse("accounts:preference_toggle"), {"category": "marketing", "channel": "sms", "enabled": "1"})
    client.post(reverse("accounts:preference_toggle"), {"category": "marketing", "channel": "email", "enabled": ""})
    assert marketing_cells(ada) == {"email": False, "sms": True}

    promotion = make_promotion(store, [lamp], start=timezone.now(), channels=["email", "sms"])
    promotion_launch(promotion=promotion)
    engine.fanout_run(FanOut.objects.get(source_id=promotion.pk, source="promotion").pk)
    assert list(Notification.objects.filter(event_key=promotion.event_key).values_list("channel", flat=True)) == [
        "sms"]
