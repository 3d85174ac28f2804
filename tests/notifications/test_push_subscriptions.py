"""Push subscriptions (endpoints, service worker), who gets push, quiet hours; WhatsApp consent."""
import datetime
import json

import pytest
from django.urls import reverse

from accounts.models import ConsentRecord
from notifications.models import Notification, PlatformSettings, PushSubscription, QuietHours
from notifications.vapid import b64url
from orders.checkout import checkout_place
from tests.factories import CustomerFactory, OrderFactory, ProductFactory, SellerFactory

from .helpers import ADDRESS, ship, track

pytestmark = pytest.mark.django_db
KEYS = {"p256dh": b64url(b"\x04" + b"\x01" * 64), "auth": b64url(b"\x02" * 16)}


def post_json(client, name, data):
    return client.post(reverse(name), json.dumps(data), content_type="application/json",
                       HTTP_USER_AGENT="Mozilla/5.0 Firefox/140.0")


def test_service_worker_is_served_from_the_root_with_its_scope_header(client):
    response = client.get("/sw.js")
    assert response.status_code == 200 and response["Content-Type"].startswith("application/javascript")
    assert response["Service-Worker-Allowed"] == "/"
    assert b'addEventListener("push"' in response.content


def test_subscribe_needs_a_signed_in_user_and_a_well_formed_subscription(client):
    data = {"endpoint": "https://push.example.test/abc", "keys": KEYS}
    assert post_json(client, "notifications:push_subscribe", data).status_code == 302  # to the login page
    user = CustomerFactory()
    client.force_login(user)
    for bad in ({"endpoint": "javascript:alert(1)", "keys": KEYS}, {"endpoint": data["endpoint"], "keys": {}},
                {"endpoint": data["endpoint"], "keys": {"p256dh": "short", "auth": KEYS["auth"]}}, []):
        response = post_json(client, "notifications:push_subscribe", bad)
        assert response.status_code == 400 and response.json()["error"]
    ok = post_json(client, "notifications:push_subscribe", data)
    assert ok.status_code == 201 and ok.json()["devices"] == 1
    sub = PushSubscription.objects.get()
    assert (sub.user, sub.endpoint, sub.user_agent) == (user, data["endpoint"], "Mozilla/5.0 Firefox/140.0")
    # Subscribing the same browser again refreshes it; another user on that browser takes it over.
    assert post_json(client, "notifications:push_subscribe", data).status_code == 201
    other = CustomerFactory()
    client.force_login(other)
    post_json(client, "notifications:push_subscribe", data)
    assert list(PushSubscription.objects.values_list("user", flat=True)) == [other.pk]
    # Unsubscribe removes only one's own.
    client.force_login(user)
    assert post_json(client, "notifications:push_unsubscribe", {"endpoint": data["endpoint"]}).json()["removed"] == 0
    client.force_login(other)
    assert post_json(client, "notifications:push_unsubscribe", {"endpoint": data["endpoint"]}).json()["removed"] == 1


def test_push_rows_only_for_subscribed_customers_and_sellers(commit):
    store_seller = SellerFactory()
    subscribed = CustomerFactory()
    PushSubscription.objects.create(user=subscribed, endpoint="https://push.example.test/1", **KEYS)
    PushSubscription.objects.create(user=store_seller, endpoint="https://push.example.test/2", **KEYS)
    QuietHours.objects.create(user=subscribed, enabled=False)
    product = ProductFactory(store=store_seller.store)
    with commit():
        order = OrderFactory(customer=subscribed, store=product.store, lines=[(product, 1)], status="processing")
        other = OrderFactory(customer=CustomerFactory(), store=product.store, lines=[(product, 1)],
                             status="processing")
        ship(order)
        ship(other, tracking="RM987654321GB")
    push = Notification.objects.filter(channel="push", event="order.shipped")
    assert list(push.values_list("recipient_address", flat=True)) == [f"user:{subscribed.pk}"]
    # Seller alerts by push too (order.placed goes to the store's sellers).
    with commit():
        checkout_place(customer=None, email="g@example.com", items={product.pk: 1}, address=ADDRESS,
                       shipping_method="standard", payment_method="card", card_number="4242 4242 4242 4242")
    assert Notification.objects.filter(channel="push", event="order.placed", audience="seller",
                                       recipient=store_seller).exists()


def test_quiet_hours_hold_an_optional_push_but_never_a_transactional_one(commit, frozen_clock):
    PlatformSettings.objects.update_or_create(pk=1, defaults={"quiet_hours_start": datetime.time(10, 0),
                                                              "quiet_hours_end": datetime.time(12, 0)})
    customer = CustomerFactory(time_zone="UTC")
    PushSubscription.objects.create(user=customer, endpoint="https://push.example.test/1", **KEYS)
    order = OrderFactory(customer=customer, lines=[(ProductFactory(), 1)], status="processing")
    with commit():
        shipment = ship(order)
        track(shipment, "out_for_delivery")
    shipped = Notification.objects.get(channel="push", event="order.shipped")
    assert shipped.send_after is None  # transactional: never held
    held = Notification.objects.get(channel="push", event="shipment.out_for_delivery")
    assert held.status == "queued" and held.send_after == datetime.datetime(2030, 1, 16, 12, 0, tzinfo=datetime.UTC)


def test_whatsapp_choice_at_checkout_is_recorded_and_used(commit, sms_outbox):
    from notifications.channels import whatsapp

    product = ProductFactory()
    whatsapp.outbox.clear()
    with commit():
        result = checkout_place(customer=None, email="wa@example.com", items={product.pk: 1}, address=ADDRESS,
                                shipping_method="standard", payment_method="card",
                                card_number="4242 4242 4242 4242", phone="+447911123456", whatsapp_opt_in=True)
    order = result.orders[0]
    assert order.whatsapp_opt_in and not order.sms_opt_in
    assert ConsentRecord.objects.filter(email="wa@example.com", kind="whatsapp_updates", granted=True,
                                        source="checkout").exists()
    order.status = "processing"
    order.save(update_fields=["status"])
    with commit():
        ship(order)
    row = Notification.objects.get(event="order.shipped", channel="whatsapp")
    assert row.recipient_address == "+447911123456" and "WhatsApp" in row.legal_basis
    assert not Notification.objects.filter(event="order.shipped", channel="sms").exists()


def test_whatsapp_choice_in_preferences_records_consent(client):
    user = CustomerFactory(phone="+447911123456")
    client.force_login(user)
    page = client.get(reverse("accounts:preferences")).content.decode()
    assert "Send me order updates by WhatsApp" in page and "Notifications in this browser" in page
    response = client.post(reverse("accounts:preferences"), {
        "phone": "+447911123456", "whatsapp_opt_in": "on", "language": "en", "time_zone": "Europe/London",
        "quiet_start": "21:00", "quiet_end": "08:00"})
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.whatsapp_opt_in and not user.sms_opt_in
    assert ConsentRecord.objects.filter(user=user, kind="whatsapp_updates", granted=True,
                                        source="preferences").exists()


def test_seller_settings_offer_push_and_no_whatsapp_column(client, settings):
    settings.VAPID_PUBLIC_KEY, settings.VAPID_PRIVATE_KEY = "BPub", "priv"
    seller = SellerFactory()
    client.force_login(seller)
    page = client.get(reverse("seller:settings")).content.decode()
    assert "Turn on notifications in this browser" in page and 'data-vapid-key="BPub"' in page
    assert "Browser notification" in page and ">WhatsApp<" not in page
