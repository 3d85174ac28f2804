"""The public tracking page for carriers without one of their own, and the tracking links."""
from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from orders.carriers import tracking_url_for
from orders.services import TrackingUpdate, shipment_record_tracking
from tests.orders.carrier_helpers import ship, utc

pytestmark = pytest.mark.django_db


def add_checkpoints(shipment, n, start=utc(2030, 8, 1, 8)):
    for i in range(n):
        shipment_record_tracking(shipment=shipment, source="simulated", update=TrackingUpdate(
            dedupe_key=f"cp-{i}", status="in_transit", occurred_at=start + timedelta(hours=i),
            message=f"Scanned at depot {i}", location=f"Depot {i}, Leeds"))


def test_tracking_links_go_to_the_carrier_or_to_our_page(settings):
    settings.SITE_URL = "https://shop.example"
    assert tracking_url_for("royalmail", "AB123456789GB") == (
        "https://www.royalmail.com/track-your-item#/tracking-results/AB123456789GB")
    assert tracking_url_for("simulated", "SM000000001GB") == "https://shop.example/track/simulated/SM000000001GB/"
    assert tracking_url_for("easypost", "EZ1000000001") == "https://shop.example/track/easypost/EZ1000000001/"


def test_page_lists_the_checkpoints_newest_first_with_status_and_eta(client, order):
    shipment = ship(order, carrier="simulated", tracking_number="SM000000001GB", eta=date(2030, 8, 4))
    add_checkpoints(shipment, 3)

    response = client.get("/track/simulated/SM000000001GB/")

    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-testid="tracking-status">In transit' in html
    assert html.index("Scanned at depot 2") < html.index("Scanned at depot 1") < html.index("Scanned at depot 0")
    assert "Depot 2, Leeds" in html
    assert 'data-testid="tracking-eta">Sunday 4 August' in html
    # A tracking number shows the parcel's journey, never the order or the customer.
    for private in (order.number, order.email, order.shipping_name, order.shipping_line1, order.shipping_postcode):
        assert private not in html


def test_page_does_not_reload_itself_once_delivered(client, order):
    shipment = ship(order, carrier="simulated", tracking_number="SM000000002GB")
    assert 'hx-trigger="every 20s"' in client.get("/track/simulated/SM000000002GB/").content.decode()
    shipment_record_tracking(shipment=shipment, update=TrackingUpdate(
        dedupe_key="d", status="delivered", occurred_at=utc(2030, 8, 2, 12), message="Delivered to neighbour"))

    html = client.get("/track/simulated/SM000000002GB/").content.decode()

    assert "Delivered to neighbour" in html and "every 20s" not in html


def test_unknown_numbers_and_carriers_with_their_own_site_are_404(client, order):
    ship(order, carrier="royalmail", tracking_number="AB123456789GB")
    assert client.get("/track/simulated/NOPE/").status_code == 404
    assert client.get("/track/royalmail/AB123456789GB/").status_code == 404


def test_query_count_does_not_grow_with_checkpoints(client, order):
    from tests.factories import OrderFactory

    few = ship(order, carrier="simulated", tracking_number="SM000000003GB")
    many = ship(OrderFactory(), carrier="simulated", tracking_number="SM000000004GB")
    add_checkpoints(few, 2)
    add_checkpoints(many, 25)

    counts = []
    for tn in ("SM000000003GB", "SM000000004GB"):
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(f"/track/simulated/{tn}/").status_code == 200
        counts.append(len(ctx))
    assert counts[0] == counts[1] <= 3
