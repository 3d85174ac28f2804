"""In a real browser: a seller uploads a CSV to ship many orders and watches the progress bar advance
to done (the worker's chunks are run from the test, between the page's polls); the delivery
statistics page draws its charts (canvas pixels painted) beside the numbers."""
import csv
import datetime
import io

import pytest
from django.utils import timezone

from notifications.models import DeliveryAttempt, Notification
from notifications.stats import stats_rollup
from orders.models import Order, OrderStatus, Shipment
from seller.bulk_shipping import shipment_upload_process
from seller.models import ShipmentUpload
from tests.factories import OrderFactory, ProductFactory, SellerFactory, StoreFactory

from .conftest import login

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
PHONE = {"width": 390, "height": 844}

CANVAS_PAINTED = """(id) => {
  const c = document.getElementById(id);
  const px = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
  let painted = 0;
  for (let i = 3; i < px.length; i += 4) { if (px[i] > 0) painted++; }
  return painted;
}"""


@pytest.fixture
def shop(db):
    store = StoreFactory(name="Lumen Lights", slug="lumen")
    seller = SellerFactory(store=store, username="nina", first_name="Nina", last_name="Patel")
    return {"store": store, "seller": seller}


def test_csv_upload_progress_bar_advances_to_done(live_server, new_page, screenshot, shop, tmp_path, monkeypatch):
    from seller import tasks

    # No worker: the test plays the worker, one chunk at a time, so the bar can be seen moving.
    monkeypatch.setattr(tasks.process_shipment_upload, "delay", lambda *args, **kwargs: None)
    store = shop["store"]
    product = ProductFactory(store=store)
    orders = [OrderFactory(store=store, lines=[(product, 1)]) for _ in range(6)]
    Order.objects.filter(pk__in=[o.pk for o in orders]).update(status=OrderStatus.PROCESSING)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["order_number", "carrier", "tracking_number", "shipped_date"])
    writer.writerows([o.number, "Royal Mail", f"RM{i:09d}GB", ""] for i, o in enumerate(orders))
    writer.writerow(["NS-ZZZZ-ZZZZ", "dpd", "DPD0000009", ""])
    writer.writerow([orders[0].number, "pigeon", "P00000001", ""])
    path = tmp_path / "todays-parcels.csv"
    path.write_text(out.getvalue())

    page = new_page()
    login(page, live_server.url, shop["seller"])
    page.goto(f"{live_server.url}/seller/shipping/")
    assert page.get_by_test_id("uploads-empty").is_visible()
    page.set_input_files("input[type=file]", str(path))
    page.click("[data-testid=upload-form] button[type=submit]")
    progress = page.get_by_test_id("upload-progress")
    progress.wait_for()
    assert "1 of 8 rows processed" in progress.inner_text()  # the bad carrier is known at once
    assert progress.get_attribute("data-status") == "pending"

    upload = ShipmentUpload.objects.get()
    shipment_upload_process(upload_id=upload.pk, chunk_size=3, max_chunks=1)
    page.get_by_text("4 of 8 rows processed").wait_for()
    assert page.locator("progress").get_attribute("value") == "4"
    page.screenshot()  # mid-way (not in the tour)

    shipment_upload_process(upload_id=upload.pk, chunk_size=3)
    page.locator("[data-testid=upload-progress][data-status=done]").wait_for()
    text = page.get_by_test_id("upload-progress").inner_text()
    assert "8 of 8 rows processed" in text and "6 shipped" in text and "2 errors" in text
    assert page.get_by_test_id("problem-row").count() == 2
    assert "Unknown order number NS-ZZZZ-ZZZZ in your store." in text
    assert Shipment.objects.count() == 6
    screenshot(page, "seller-bulk-shipping")

    with page.expect_download() as download:
        page.get_by_test_id("report-link").click()
    report = download.value.path().read_text()
    assert report.splitlines()[0] == "row,order_number,carrier,tracking_number,status,reason"
    assert len(report.splitlines()) == 9


def test_a_file_that_cannot_be_used_is_refused_on_a_phone(live_server, new_page, shop, tmp_path):
    path = tmp_path / "wrong.csv"
    path.write_text("order,tracking\nNS-AAAA-AAAA,123456\n")
    page = new_page(viewport=PHONE)
    login(page, live_server.url, shop["seller"])
    page.goto(f"{live_server.url}/seller/shipping/")
    page.set_input_files("input[type=file]", str(path))
    page.click("[data-testid=upload-form] button[type=submit]")
    error = page.get_by_test_id("upload-error")
    assert "Missing: carrier." in error.inner_text()
    assert page.get_by_test_id("template-link").is_visible()
    page.screenshot(path=str(tmp_path / "phone.png"), full_page=True)
    assert not ShipmentUpload.objects.exists()


def _seed_statistics(store):
    today = timezone.now().date()
    plan = [("email", "delivered", 120), ("email", "sent", 260), ("email", "bounced", 90), ("sms", "delivered", 700),
            ("sms", "failed", 1800), ("inapp", "delivered", 3), ("email", "failed", 5200)]
    rows, n = [], 0
    for day_back in range(14):
        for j, (channel, status, ms) in enumerate(plan):
            for _ in range(1 + (day_back * 3 + j) % 4):
                n += 1
                rows.append(Notification(
                    event=["order.placed", "order.shipped", "order.delivered"][n % 3], event_key=f"k{n}",
                    audience="customer", channel=channel, recipient_address=f"r{n}@example.com",
                    category="transactional", status=status, store=store,
                    last_error={"bounced": "550 5.1.1 Mailbox does not exist",
                                "failed": "Provider timed out after 10 s"}.get(status, "")))
    Notification.objects.bulk_create(rows)
    created = list(Notification.objects.filter(store=store).order_by("id"))
    for i, note in enumerate(created):
        day = today - datetime.timedelta(days=i % 14)
        Notification.objects.filter(pk=note.pk).update(
            created_at=datetime.datetime.combine(day, datetime.time(10), tzinfo=datetime.UTC))
    latency = {s: ms for _, s, ms in plan}
    DeliveryAttempt.objects.bulk_create([
        DeliveryAttempt(notification=note, status="sent", provider="test", latency_ms=latency[note.status] + i % 90)
        for i, note in enumerate(created)])
    stats_rollup(start=today - datetime.timedelta(days=30), end=today)


def test_statistics_page_draws_its_charts(live_server, new_page, screenshot, shop):
    _seed_statistics(shop["store"])
    page = new_page(viewport={"width": 1280, "height": 1700})
    login(page, live_server.url, shop["seller"])
    page.goto(f"{live_server.url}/seller/statistics/?preset=30")
    page.wait_for_function("document.getElementById('chart-series').width > 0")
    for chart in ("chart-series", "chart-channels"):
        assert page.evaluate(CANVAS_PAINTED, chart) > 1000, f"{chart} is blank"
    assert "Provider timed out after 10 s" in page.get_by_test_id("reason-table").inner_text()
    assert page.get_by_test_id("channel-email").is_visible()
    screenshot(page, "seller-statistics")

    # A preset picks the range (the form submits itself); week buckets for a long range.
    page.select_option("select[name=preset]", "90")
    page.wait_for_url("**preset=90**")
    page.wait_for_function("document.getElementById('chart-series').width > 0")
    assert page.evaluate(CANVAS_PAINTED, "chart-series") > 1000

    phone = new_page(viewport=PHONE)
    login(phone, live_server.url, shop["seller"])
    phone.goto(f"{live_server.url}/seller/statistics/")
    phone.wait_for_function("document.getElementById('chart-series').width > 0")
    assert phone.evaluate(CANVAS_PAINTED, "chart-series") > 500
    phone.screenshot()  # renders on a phone (the tour keeps the desktop picture)
