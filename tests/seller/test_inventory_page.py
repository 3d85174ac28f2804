"""The seller's inventory page: low stock first, recommendation with its inputs, search and filter,
edit stock and threshold in place, restock (who and when), record a product update (product.updated
to consenting past buyers and the supplier), fixed query count, only the seller's own store."""
import re
from decimal import Decimal

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import ConsentRecord
from catalog.models import BackInStockSubscription, ProductEvent
from notifications.models import Notification
from notifications.services import customer_preference_set
from tests.factories import CustomerFactory, OrderFactory, ProductFactory, SellerFactory, StoreFactory
from tests.notifications.helpers import place

pytestmark = pytest.mark.django_db
INVENTORY = reverse("seller:inventory")


@pytest.fixture
def commit(django_capture_on_commit_callbacks):
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture(autouse=True)
def _clean_mail():
    mail.outbox = []


@pytest.fixture
def shop(db):
    store = StoreFactory(name="Lumen")
    seller = SellerFactory(store=store, first_name="Sam", last_name="Seller")
    lamp = ProductFactory(store=store, name="Desk Lamp", sku="LAMP-1", stock_on_hand=0, low_stock_threshold=3,
                          supplier_name="Bright Ltd", supplier_email="orders@bright.example")
    bulb = ProductFactory(store=store, name="Bulb", sku="BULB-1", stock_on_hand=40, low_stock_threshold=5)
    shade = ProductFactory(store=store, name="Shade", sku="SHADE-1", stock_on_hand=4, low_stock_threshold=5)
    return store, seller, lamp, bulb, shade


def _names(html, testid):
    block = html.split(f'data-testid="{testid}"', 1)[1].split("</table>", 1)[0]
    return re.findall(r"<strong>([^<]+)</strong> ", block)


def test_low_stock_list_comes_first_with_the_recommendation_and_its_inputs(client, shop):
    store, seller, lamp, bulb, shade = shop
    OrderFactory(store=store, lines=[(shade, 30)])  # 30 in 30 days: 1.00 a day
    client.force_login(seller)
    html = client.get(INVENTORY).content.decode()
    assert _names(html, "low-stock") == ["Shade", "Desk Lamp"]  # lowest cover first; no sales last
    assert _names(html, "all-stock") == ["Bulb"]
    assert "out of stock" in html and "Bright Ltd" in html
    # Shade: 1.00/day × (7 lead + 7 safety) = 14, less 4 on hand → 10; 4 days of cover.
    row = html.split('data-sku="SHADE-1"', 1)[1].split("</tr>", 1)[0]
    assert "1.00" in row and "4.0 days of cover" in row and ">10<" in row and "30 sold in 30 days" in row
    assert "1.00 × (7 + 7 days) − 4" in row


def test_search_and_filter(client, shop):
    store, seller, lamp, bulb, shade = shop
    client.force_login(seller)
    assert "Bulb" not in client.get(INVENTORY, {"show": "low"}).content.decode()
    out = client.get(INVENTORY, {"show": "out"}).content.decode()
    assert "Desk Lamp" in out and "Shade" not in out
    found = client.get(INVENTORY, {"q": "bright"}).content.decode()  # supplier name
    assert "Desk Lamp" in found and "Bulb" not in found
    assert "No products match" in client.get(INVENTORY, {"q": "zzz"}).content.decode()


def test_inventory_page_runs_a_fixed_number_of_queries(client, shop):
    store, seller, lamp, bulb, shade = shop
    client.force_login(seller)
    client.get(INVENTORY)  # warm the user cache

    def count():
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(INVENTORY).status_code == 200
        return len(ctx.captured_queries)

    few = count()
    for i in range(15):
        product = ProductFactory(store=store, stock_on_hand=i)
        OrderFactory(store=store, lines=[(product, 1)])
        BackInStockSubscription.objects.create(product=product, email=f"f{i}@example.com", confirmed_at="2026-01-01T00:00Z")
    assert count() == few


def test_restock_in_place_records_who_and_when_and_tells_waiting_customers(client, shop, commit):
    store, seller, lamp, bulb, shade = shop
    BackInStockSubscription.objects.create(product=lamp, email="fan@example.com", confirmed_at="2026-01-01T00:00Z")
    client.force_login(seller)
    with commit():
        response = client.post(reverse("seller:inventory_restock", args=[lamp.pk]), {"quantity": "12"},
                               HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    row = response.content.decode()
    assert row.startswith("\n<tr") or row.lstrip().startswith("<tr")
    assert "Restocked Desk Lamp: 0 → 12" in row and "+12 by Sam Seller" in row
    lamp.refresh_from_db()
    assert lamp.stock_on_hand == 12 and lamp.low_stock_armed
    event = ProductEvent.objects.get(product=lamp, kind="restock")
    assert (event.actor, event.stock_before, event.stock_after) == (seller, 0, 12)
    assert [m.to for m in mail.outbox] == [["fan@example.com"]]


def test_bad_input_is_a_clear_error_and_changes_nothing(client, shop):
    store, seller, lamp, bulb, shade = shop
    client.force_login(seller)
    response = client.post(reverse("seller:inventory_restock", args=[lamp.pk]), {"quantity": "-3"},
                           HTTP_HX_REQUEST="true")
    assert response.status_code == 422 and "greater than or equal to 1" in response.content.decode()
    response = client.post(reverse("seller:inventory_edit", args=[bulb.pk]), {
        "stock_on_hand": "-1", "low_stock_threshold": "5", "restock_lead_days": "7"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 422 and "cannot be negative" in response.content.decode()
    bulb.refresh_from_db()
    assert bulb.stock_on_hand == 40 and not ProductEvent.objects.exists()


def test_edit_stock_and_threshold_in_place(client, shop, commit):
    store, seller, lamp, bulb, shade = shop
    client.force_login(seller)
    with commit():
        response = client.post(reverse("seller:inventory_edit", args=[bulb.pk]), {
            "stock_on_hand": "8", "low_stock_threshold": "10", "restock_lead_days": "14"})
    assert response.status_code == 302
    bulb.refresh_from_db()
    assert (bulb.stock_on_hand, bulb.low_stock_threshold, bulb.restock_lead_days) == (8, 10, 14)
    assert set(ProductEvent.objects.filter(product=bulb).values_list("kind", flat=True)) == {
        "settings", "count", "low_stock"}
    assert Notification.objects.filter(event="stock.low", subject_id=bulb.pk).exists()


def test_another_store_cannot_see_or_change_my_products(client, shop):
    store, seller, lamp, bulb, shade = shop
    other = SellerFactory(store=StoreFactory(name="Other"))
    client.force_login(other)
    assert "Desk Lamp" not in client.get(INVENTORY).content.decode()
    assert client.post(reverse("seller:inventory_restock", args=[lamp.pk]), {"quantity": "5"}).status_code == 404
    assert client.post(reverse("seller:inventory_update", args=[lamp.pk]),
                       {"kind": "design", "note": "x"}).status_code == 404
    lamp.refresh_from_db()
    assert lamp.stock_on_hand == 0
    client.force_login(CustomerFactory())
    assert client.get(INVENTORY).status_code == 403


def test_product_update_goes_to_consenting_past_buyers_and_the_supplier_with_unsubscribe(client, shop, commit):
    store, seller, lamp, bulb, shade = shop
    bulb_buyer = CustomerFactory(email="bea@example.com")
    prefs_buyer = CustomerFactory(email="cat@example.com")
    customer_preference_set(user=prefs_buyer, category="marketing", channel="email", enabled=True)
    with commit():
        place({bulb.pk: 1}, email="guest-yes@example.com", marketing_opt_in=True)
        place({bulb.pk: 1}, email="guest-no@example.com")
        place({bulb.pk: 1}, customer=bulb_buyer, email=bulb_buyer.email)
        place({bulb.pk: 1}, customer=prefs_buyer, email=prefs_buyer.email)
        place({shade.pk: 1}, email="other-product@example.com", marketing_opt_in=True)
    mail.outbox = []
    client.force_login(seller)
    with commit():
        response = client.post(reverse("seller:inventory_update", args=[bulb.pk]), {
            "kind": "material", "note": "Now made with recycled glass."}, follow=True)
    assert "Recorded the update to Bulb" in response.content.decode()
    assert sorted(m.to[0] for m in mail.outbox) == ["cat@example.com", "guest-yes@example.com"]
    message = next(m for m in mail.outbox if m.to == ["guest-yes@example.com"])
    assert message.subject == "Bulb: New material" and "Now made with recycled glass." in message.body
    assert message.extra_headers["List-Unsubscribe"].startswith("<http")
    rows = Notification.objects.filter(event="product.updated")
    assert {n.category for n in rows} == {"marketing"}
    assert all(n.legal_basis.startswith("consent:") for n in rows)

    # The one-click unsubscribe works, and the next update skips that address.
    https = message.extra_headers["List-Unsubscribe"].split(",")[0].strip("<> ")
    unsubscribe = re.sub(r"^https?://[^/]+", "", https)
    client.logout()
    assert client.post(unsubscribe).status_code == 200
    assert ConsentRecord.objects.filter(email="guest-yes@example.com", granted=False).exists()
    mail.outbox = []
    client.force_login(seller)
    with commit():
        client.post(reverse("seller:inventory_update", args=[bulb.pk]), {"kind": "design", "note": "New colours."})
    assert [m.to for m in mail.outbox] == [["cat@example.com"]]


def test_product_update_tells_the_supplier(client, shop, commit):
    store, seller, lamp, bulb, shade = shop
    client.force_login(seller)
    with commit():
        client.post(reverse("seller:inventory_update", args=[lamp.pk]), {"kind": "version", "note": "Version 2."})
    [message] = mail.outbox
    assert message.to == ["orders@bright.example"] and "Version 2." in message.body
    assert "Lumen updated Desk Lamp (LAMP-1)" == message.subject
    assert client.post(reverse("seller:inventory_update", args=[lamp.pk]), {"kind": "version", "note": ""},
                       HTTP_HX_REQUEST="true").status_code == 422


def test_staff_can_record_a_product_update_from_the_admin(admin_client, shop, commit):
    store, seller, lamp, bulb, shade = shop
    url = reverse("admin:catalog_product_changelist")
    page = admin_client.post(url, {"action": "record_update", "_selected_action": [lamp.pk]})
    assert page.status_code == 200 and "Record a product update" in page.content.decode()
    bad = admin_client.post(url, {"action": "record_update", "_selected_action": [lamp.pk], "confirm": "1",
                                  "kind": "design", "note": ""})
    assert bad.status_code == 400 and not ProductEvent.objects.filter(kind="updated").exists()
    with commit():
        done = admin_client.post(url, {"action": "record_update", "_selected_action": [lamp.pk], "confirm": "1",
                                       "kind": "design", "note": "A new shade shape."})
    assert done.status_code == 302
    event = ProductEvent.objects.get(kind="updated", product=lamp)
    assert event.actor.is_superuser and event.note == "A new shade shape."
    assert [m.to for m in mail.outbox] == [["orders@bright.example"]]
