import pytest
from django.urls import reverse

from notifications.models import SellerNotificationSetting, StoreNotificationOptions
from notifications.services import platform_event_set
from seller.selectors import seller_alert_grid
from tests.factories import StoreFactory


@pytest.fixture
def seller_client(client, seller):
    client.force_login(seller)
    return client


def cell(rows, event, channel):
    return next(r for r in rows if r["event"] == event)["channels"][channel]["enabled"]


@pytest.fixture
def sms_offered(db):
    """The platform sends new-order alerts to sellers by email, SMS and in-app."""
    platform_event_set(event="order.placed", enabled=True, seller_channels=["email", "sms", "inapp"])


def test_grid_lists_seller_events_and_channels(seller_client, sms_offered):
    response = seller_client.get(reverse("seller:settings"))
    body = response.content.decode()
    assert response.status_code == 200
    assert 'data-testid="toggle-order.placed-sms"' in body
    # Out of the box every seller alert is offered by SMS (off until switched on).
    assert 'data-testid="toggle-order.cancelled-sms"' in body
    platform_event_set(event="order.cancelled", enabled=True, seller_channels=["email", "inapp"])
    body = seller_client.get(reverse("seller:settings")).content.decode()
    assert 'data-testid="not-offered-order.cancelled-sms"' in body
    assert "Order confirmation / new order" in body
    assert "Shipping updates" in body and "Review invitation" in body


def test_toggle_saves_in_place_for_htmx(seller_client, seller, sms_offered):
    seller.phone = seller.phone_verified_number = "+447911123456"  # a number proved by its code
    seller.save()
    assert cell(seller_alert_grid(seller.store), "order.placed", "sms") is False  # SMS is opt-in
    seller_client.post(reverse("seller:setting_toggle"), {"event": "order.placed", "channel": "sms", "enabled": "1"},
                       HTTP_HX_REQUEST="true")
    assert cell(seller_alert_grid(seller.store), "order.placed", "sms") is True
    response = seller_client.post(reverse("seller:setting_toggle"), {"event": "order.placed", "channel": "sms"},
                                  HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    body = response.content.decode()
    assert "Saved" in body and "checked" not in body and body.lstrip().startswith("<form")
    assert cell(seller_alert_grid(seller.store), "order.placed", "sms") is False

    seller_client.post(reverse("seller:setting_toggle"), {"event": "order.placed", "channel": "sms", "enabled": "1"},
                       HTTP_HX_REQUEST="true")
    assert cell(seller_alert_grid(seller.store), "order.placed", "sms") is True


def test_channel_the_platform_does_not_send_cannot_be_switched(seller_client):
    platform_event_set(event="order.cancelled", enabled=True, seller_channels=["email", "inapp"])
    response = seller_client.post(reverse("seller:setting_toggle"),
                                  {"event": "order.cancelled", "channel": "sms", "enabled": "1"},
                                  HTTP_HX_REQUEST="true")
    assert response.status_code == 422
    assert "does not send this alert by SMS" in response.content.decode()
    assert not SellerNotificationSetting.objects.exists()


def test_toggle_is_per_store(seller_client, seller):
    other = StoreFactory()
    seller_client.post(reverse("seller:setting_toggle"), {"event": "order.placed", "channel": "email"})
    assert SellerNotificationSetting.objects.get().store == seller.store
    assert cell(seller_alert_grid(other), "order.placed", "email") is True
    assert cell(seller_alert_grid(seller.store), "order.placed", "email") is False


@pytest.mark.parametrize("data", [
    {"event": "order.shipped", "channel": "email", "enabled": "1"},  # not a seller event
    {"event": "order.placed", "channel": "pigeon", "enabled": "1"},
    {"event": "nope", "channel": "sms", "enabled": "1"},
])
def test_bad_toggle_is_refused_and_nothing_saved(seller_client, data):
    response = seller_client.post(reverse("seller:setting_toggle"), data, HTTP_HX_REQUEST="true")
    assert response.status_code == 422
    assert not SellerNotificationSetting.objects.exists()


def test_store_switch_for_optional_customer_messages(seller_client, seller):
    response = seller_client.post(reverse("seller:option_toggle"), {"name": "shipping_updates"},
                                  HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert StoreNotificationOptions.objects.get(store=seller.store).shipping_updates is False
    assert seller_client.post(reverse("seller:option_toggle"), {"name": "evil"}).status_code == 400


def test_review_link_must_be_a_url(seller_client, seller):
    seller_client.post(reverse("seller:review_url"), {"review_url": "not a url"})
    assert not StoreNotificationOptions.objects.filter(store=seller.store, review_url="not a url").exists()
    seller_client.post(reverse("seller:review_url"), {"review_url": "https://reviews.example/store"})
    assert StoreNotificationOptions.objects.get(store=seller.store).review_url == "https://reviews.example/store"


def test_sms_alerts_are_offered_off_and_need_a_mobile_number_to_switch_on(seller_client, seller):
    page = seller_client.get(reverse("seller:settings")).content.decode()
    for event in ("order.placed", "order.payment_failed", "shipment.delivered", "order.cancelled",
                  "return.requested"):
        assert f'data-testid="toggle-{event}-sms"' in page
        assert cell(seller_alert_grid(seller.store), event, "sms") is False
    assert 'data-testid="sms-needs-number"' in page
    seller.phone = ""
    seller.save()
    response = seller_client.post(reverse("seller:setting_toggle"),
                                  {"event": "order.placed", "channel": "sms", "enabled": "1"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 422 and "mobile number" in response.content.decode()
    assert not SellerNotificationSetting.objects.exists()
    seller.phone = seller.phone_verified_number = "+447911123456"  # a number proved by its code
    seller.save()
    assert 'data-testid="sms-needs-number"' not in seller_client.get(reverse("seller:settings")).content.decode()
    response = seller_client.post(reverse("seller:setting_toggle"),
                                  {"event": "order.placed", "channel": "sms", "enabled": "1"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert cell(seller_alert_grid(seller.store), "order.placed", "sms") is True
