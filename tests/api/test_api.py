"""The store REST API: keys and scopes, store scoping, the endpoints, problem details, limits, idempotency."""
import datetime
import json

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from api.models import ApiKey
from notifications.models import Notification
from orders.models import OrderStatus, Shipment
from orders.services import order_transition, shipment_create
from tests.factories import OrderFactory, ProductFactory, StoreFactory

pytestmark = pytest.mark.django_db
PROBLEM = "application/problem+json"


def _processing(order):
    order_transition(order=order, to=OrderStatus.PROCESSING, actor="system")
    return order


def test_key_is_stored_hashed_and_only_its_prefix_is_kept(store, write_key):
    key = ApiKey.objects.get()
    assert write_key.startswith(f"nsk_{key.prefix}_")
    assert write_key not in key.key_hash and len(key.key_hash) == 64


@pytest.mark.parametrize("header", [None, "Bearer nsk_000000000000_notarealkeyatallbutlongenough", "Basic abc"])
def test_missing_or_bad_key_is_a_401_problem(order, header):
    client = APIClient()
    if header:
        client.credentials(HTTP_AUTHORIZATION=header)
    response = client.get("/api/v1/orders/")
    assert response.status_code == 401
    assert response["Content-Type"] == PROBLEM
    body = response.json()
    assert body["status"] == 401 and body["title"] == "Not authenticated" and body["detail"]


def test_revoked_key_stops_working(api, store, order):
    assert api.get("/api/v1/orders/").status_code == 200
    ApiKey.objects.update(revoked_at=datetime.datetime(2030, 1, 1, tzinfo=datetime.UTC))
    assert api.get("/api/v1/orders/").status_code == 401


def test_order_list_is_scoped_filtered_and_cursor_paginated(api, store, product, customer):
    mine = [OrderFactory(store=store, customer=customer, lines=[(product, 1)]) for _ in range(3)]
    _processing(mine[0])
    other_store_order = OrderFactory(store=StoreFactory())
    page = api.get("/api/v1/orders/", {"limit": 2}).json()
    assert len(page["results"]) == 2 and page["next"]
    rest = api.get(page["next"]).json()
    numbers = {o["number"] for o in page["results"] + rest["results"]}
    assert numbers == {o.number for o in mine} and other_store_order.number not in numbers
    processing = api.get("/api/v1/orders/", {"status": "processing"}).json()["results"]
    assert [o["number"] for o in processing] == [mine[0].number]
    assert api.get("/api/v1/orders/", {"placed_after": "2999-01-01T00:00:00Z"}).json()["results"] == []
    bad = api.get("/api/v1/orders/", {"status": "lost"})
    assert bad.status_code == 400 and bad["Content-Type"] == PROBLEM and "status" in bad.json()["errors"]


def test_order_detail_has_lines_payment_shipments_and_timeline(api, order):
    body = api.get(f"/api/v1/orders/{order.number}/").json()
    assert body["number"] == order.number and body["lines"][0]["quantity"] == 2
    assert body["payments"][0]["method"] == "card" and body["timeline"][0]["kind"] == "placed"
    assert body["allowed_transitions"] == ["cancelled", "on_hold", "processing"]
    assert body["shipping_address"]["postcode"] == "N1 9GU"


def test_another_stores_order_is_a_404(api):
    theirs = OrderFactory(store=StoreFactory())
    response = api.get(f"/api/v1/orders/{theirs.number}/")
    assert response.status_code == 404 and response["Content-Type"] == PROBLEM
    assert api.post(f"/api/v1/orders/{theirs.number}/status/", {"status": "processing"},
                    format="json").status_code == 404


def test_status_change_goes_through_the_transition_table_and_notifies(api, order, commit):
    with commit():
        response = api.post(f"/api/v1/orders/{order.number}/status/", {"status": "processing", "note": "Paid by BACS"},
                            format="json")
    assert response.status_code == 200 and response.json()["status"] == "processing"
    assert response.json()["timeline"][-1]["actor_label"] == "API key Warehouse WMS"
    assert Notification.objects.filter(order=order, event="order.processing").exists()
    forbidden = api.post(f"/api/v1/orders/{order.number}/status/", {"status": "completed"}, format="json")
    assert forbidden.status_code == 409 and forbidden["Content-Type"] == PROBLEM
    problem = forbidden.json()
    assert problem["current"] == "processing" and problem["allowed"] == ["cancelled", "on_hold", "refunded", "shipped"]
    order.refresh_from_db()
    assert order.status == "processing"


def test_read_only_key_cannot_write(read_key, order):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {read_key}")
    assert client.get(f"/api/v1/orders/{order.number}/").status_code == 200
    response = client.post(f"/api/v1/orders/{order.number}/status/", {"status": "processing"}, format="json")
    assert response.status_code == 403 and "read only" in response.json()["detail"]
    order.refresh_from_db()
    assert order.status == "pending"


def test_shipment_create_ships_the_order_and_fleet_checkpoints_move_it_forward_only(api, order, commit):
    _processing(order)
    with commit():
        created = api.post(f"/api/v1/orders/{order.number}/shipments/",
                           {"carrier": "fleet", "carrier_name": "Linen vans", "tracking_number": "VAN-7-0042"},
                           format="json")
    assert created.status_code == 201, created.json()
    shipment_id = created.json()["id"]
    assert created.json()["tracking_url"].endswith("/track/fleet/VAN-7-0042/")
    order.refresh_from_db()
    assert order.status == "shipped"
    assert Notification.objects.filter(order=order, event="order.shipped").exists()
    url = f"/api/v1/shipments/{shipment_id}/checkpoints/"
    out = api.post(url, {"id": "van-7-2", "status": "out_for_delivery", "occurred_at": "2030-01-16T09:00:00Z",
                         "location": "Leeds depot"}, format="json")
    assert out.status_code == 201 and out.json()["shipment"]["status"] == "out_for_delivery"
    late = api.post(url, {"id": "van-7-1", "status": "in_transit", "occurred_at": "2030-01-16T07:00:00Z"},
                    format="json")
    assert late.status_code == 201 and late.json()["shipment"]["status"] == "out_for_delivery"
    replay = api.post(url, {"id": "van-7-2", "status": "out_for_delivery", "occurred_at": "2030-01-16T09:00:00Z"},
                      format="json")
    assert replay.status_code == 200 and replay.json()["stored"] is False
    assert Shipment.objects.get(pk=shipment_id).tracking_events.count() == 2
    bad = api.post(url, {"id": "x", "status": "teleported", "occurred_at": "soon"}, format="json")
    assert bad.status_code == 400 and set(bad.json()["errors"]) == {"status", "occurred_at"}


def test_checkpoints_only_for_the_stores_own_fleet(api, order):
    _processing(order)
    shipment = shipment_create(order=order, carrier="dpd", tracking_number="15501234567890")
    response = api.post(f"/api/v1/shipments/{shipment.pk}/checkpoints/",
                        {"id": "x1", "status": "delivered", "occurred_at": "2030-01-16T09:00:00Z"}, format="json")
    assert response.status_code == 409 and "own delivery fleet" in response.json()["detail"]
    shipment.refresh_from_db()
    assert shipment.status == "label_created" and not shipment.tracking_events.exists()


def test_shipping_a_pending_order_is_a_409(api, order):
    response = api.post(f"/api/v1/orders/{order.number}/shipments/", {"carrier": "dpd", "tracking_number": "ABC123"},
                        format="json")
    assert response.status_code == 409 and "processing" in response.json()["allowed"]
    assert not Shipment.objects.exists()


def test_order_notifications_list_their_delivery_status(api, order, commit):
    with commit():
        _processing(order)
    rows = api.get(f"/api/v1/orders/{order.number}/notifications/").json()
    assert any(r["event"] == "order.processing" and r["channel"] == "email" and r["status"] == "sent" for r in rows)


def test_products_and_stock_set_and_restock(api, store, commit):
    product = ProductFactory(store=store, stock_on_hand=0, name="Linen shirt")
    ProductFactory(store=StoreFactory())
    listing = api.get("/api/v1/products/").json()["results"]
    assert [p["id"] for p in listing] == [product.pk]
    assert api.post(f"/api/v1/products/{product.pk}/stock/", {"stock_on_hand": 4}, format="json").json()[
        "stock_on_hand"] == 4
    assert api.post(f"/api/v1/products/{product.pk}/restock/", {"quantity": 6}, format="json").json()[
        "stock_on_hand"] == 10
    negative = api.post(f"/api/v1/products/{product.pk}/stock/", {"stock_on_hand": -1}, format="json")
    assert negative.status_code == 409 and "cannot be negative" in negative.json()["detail"]
    assert api.post(f"/api/v1/products/{product.pk}/restock/", {"quantity": 0}, format="json").status_code == 400
    product.refresh_from_db()
    assert product.stock_on_hand == 10


def test_idempotency_key_runs_a_post_once_and_replays_the_response(api, store):
    product = ProductFactory(store=store, stock_on_hand=1)
    url = f"/api/v1/products/{product.pk}/restock/"
    first = api.post(url, {"quantity": 5}, format="json", HTTP_IDEMPOTENCY_KEY="delivery-123")
    again = api.post(url, {"quantity": 5}, format="json", HTTP_IDEMPOTENCY_KEY="delivery-123")
    assert first.status_code == again.status_code == 200
    assert again["Idempotent-Replayed"] == "true" and again.json() == first.json()
    product.refresh_from_db()
    assert product.stock_on_hand == 6
    reused = api.post(url, {"quantity": 9}, format="json", HTTP_IDEMPOTENCY_KEY="delivery-123")
    assert reused.status_code == 422 and reused["Content-Type"] == PROBLEM
    assert api.post(url, {"quantity": 5}, format="json", HTTP_IDEMPOTENCY_KEY="delivery-124").json()[
        "stock_on_hand"] == 11


def test_rate_limit_per_key_is_a_429_problem_with_retry_after(api, read_key, order, settings):
    from rest_framework.settings import api_settings
    from api.auth import ApiKeyRateThrottle

    ApiKeyRateThrottle.THROTTLE_RATES = {"api_key": "3/min"}
    try:
        codes = [api.get("/api/v1/orders/").status_code for _ in range(4)]
        assert codes == [200, 200, 200, 429]
        limited = api.get("/api/v1/orders/")
        assert limited["Content-Type"] == PROBLEM and int(limited["Retry-After"]) > 0
        other = APIClient()
        other.credentials(HTTP_AUTHORIZATION=f"Bearer {read_key}")
        assert other.get("/api/v1/orders/").status_code == 200  # counted per key
    finally:
        ApiKeyRateThrottle.THROTTLE_RATES = api_settings.DEFAULT_THROTTLE_RATES


def test_schema_and_offline_docs_are_served(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json")
    assert schema.status_code == 200
    doc = json.loads(schema.content)
    assert doc["openapi"].startswith("3.") and "/api/v1/orders/{number}/status/" in doc["paths"]
    for page in ("/api/docs/", "/api/redoc/"):
        html = client.get(page).content.decode()
        assert "drf_spectacular_sidecar" in html and "cdn" not in html.lower()


def test_seller_creates_a_key_sees_it_once_and_revokes_it(client, seller, order):
    client.force_login(seller)
    page = client.post(reverse("seller:api_keys"), {"name": "Warehouse", "scope": "write"})
    assert page.status_code == 200
    token = page.context["created_token"]
    assert token in page.content.decode() and "shown only this once" in page.content.decode()
    assert token not in client.get(reverse("seller:api_keys")).content.decode()
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert api.get(f"/api/v1/orders/{order.number}/").status_code == 200
    key = ApiKey.objects.get(name="Warehouse")
    client.post(reverse("seller:api_key_revoke", args=[key.pk]))
    assert api.get(f"/api/v1/orders/{order.number}/").status_code == 401
    assert client.post(reverse("seller:api_keys"), {"name": "", "scope": "write"}).status_code == 422


def test_a_seller_cannot_revoke_another_stores_key(client, seller):
    from api.services import api_key_create

    theirs, _ = api_key_create(store=StoreFactory(), name="Theirs", scope="read")
    client.force_login(seller)
    assert client.post(reverse("seller:api_key_revoke", args=[theirs.pk])).status_code == 404
    theirs.refresh_from_db()
    assert theirs.revoked_at is None
