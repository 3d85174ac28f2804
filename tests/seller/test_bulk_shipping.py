"""Bulk shipping by CSV: rows checked one by one, shipped in the background, nothing shipped twice."""
import csv
import datetime
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from notifications.models import Notification
from orders.models import Order, OrderStatus, Shipment
from seller.bulk_shipping import UploadRejected, parse_csv, shipment_upload_create, shipment_upload_process
from seller.models import ShipmentUpload, ShipmentUploadRow
from tests.factories import OrderFactory, ProductFactory, SellerFactory, StoreFactory

pytestmark = pytest.mark.usefixtures("frozen_clock")


@pytest.fixture
def seller_client(client, seller):
    client.force_login(seller)
    return client


def processing_orders(store, n):
    product = ProductFactory(store=store)
    orders = [OrderFactory(store=store, lines=[(product, 1)]) for _ in range(n)]
    Order.objects.filter(pk__in=[o.pk for o in orders]).update(status=OrderStatus.PROCESSING)
    return orders


def csv_bytes(rows, header=("order_number", "carrier", "tracking_number", "shipped_date"), delimiter=",",
              bom=False):
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter)
    writer.writerow(header)
    writer.writerows(rows)
    data = out.getvalue().encode("utf-8")
    return (b"\xef\xbb\xbf" + data) if bom else data


def upload(client, data, name="ship.csv", **extra):
    return client.post(reverse("seller:shipping"), {"file": SimpleUploadedFile(name, data, "text/csv")}, **extra)


def report(client, upload_id):
    response = client.get(reverse("seller:shipping_report", args=[upload_id]))
    assert response.status_code == 200
    return list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))


def test_five_good_rows_ship_three_bad_are_reported_and_the_same_file_again_ships_none(
        seller_client, seller, django_capture_on_commit_callbacks, mailoutbox):
    good = processing_orders(seller.store, 5)
    cancelled = processing_orders(seller.store, 1)[0]
    Order.objects.filter(pk=cancelled.pk).update(status=OrderStatus.CANCELLED)
    foreign = processing_orders(StoreFactory(), 1)[0]
    rows = [[o.number, "Royal Mail", f"RM{i:09d}GB", ""] for i, o in enumerate(good)]
    rows += [
        [foreign.number, "dpd", "DPD0000001", ""],         # another store's order: unknown
        [cancelled.number, "ups", "1Z0000000001", ""],     # not shippable
        ["NS-ZZZZ-ZZZZ", "pigeon", "P0000001", ""],        # bad carrier
    ]
    data = csv_bytes(rows)

    with django_capture_on_commit_callbacks(execute=True):
        response = upload(seller_client, data)
    item = ShipmentUpload.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("seller:shipping_upload", args=[item.pk])
    item.refresh_from_db()
    assert (item.status, item.total_rows, item.processed_rows, item.shipped_rows, item.error_rows) == (
        "done", 8, 8, 5, 3)
    for order in good:
        order.refresh_from_db()
        assert order.status == OrderStatus.SHIPPED
    assert Shipment.objects.filter(order__in=good).count() == 5
    assert not Shipment.objects.filter(order__in=[foreign, cancelled]).exists()
    # Each customer is told, as when shipping from the order page.
    shipped_mail = Notification.objects.filter(event="order.shipped", audience="customer", channel="email")
    assert shipped_mail.count() == 5

    lines = report(seller_client, item.pk)
    assert [(r["row"], r["status"]) for r in lines] == [
        ("2", "shipped"), ("3", "shipped"), ("4", "shipped"), ("5", "shipped"), ("6", "shipped"),
        ("7", "error"), ("8", "error"), ("9", "error")]
    reasons = {r["row"]: r["reason"] for r in lines}
    assert reasons["7"] == f"Unknown order number {foreign.number} in your store."
    assert reasons["8"] == f"Order {cancelled.number} is cancelled and cannot be shipped."
    assert reasons["9"].startswith("Unknown carrier “pigeon”.")

    page = seller_client.get(response["Location"]).content.decode()
    assert "8 of 8 rows processed" in page and "5 shipped" in page and "3 errors" in page
    assert foreign.number in page and "cannot be shipped" in page

    # The very same file again: nothing is shipped, nothing is sent, the first upload is shown.
    with django_capture_on_commit_callbacks(execute=True):
        again = upload(seller_client, data, name="ship-again.csv", follow=True)
    assert ShipmentUpload.objects.count() == 1
    assert Shipment.objects.count() == 5 and shipped_mail.count() == 5
    assert "You already uploaded this file" in again.content.decode()


def test_rows_already_shipped_with_the_same_tracking_are_skipped_in_a_new_file(
        seller_client, seller, django_capture_on_commit_callbacks):
    orders = processing_orders(seller.store, 2)
    first = csv_bytes([[orders[0].number, "dpd", "DPD1111111", ""]])
    second = csv_bytes([[orders[0].number, "dpd", "DPD1111111", ""], [orders[1].number, "dpd", "DPD2222222", ""]],
                       delimiter=";")
    with django_capture_on_commit_callbacks(execute=True):
        upload(seller_client, first)
        upload(seller_client, second)
    assert Shipment.objects.count() == 2
    latest = ShipmentUpload.objects.order_by("-id").first()
    assert (latest.shipped_rows, latest.error_rows, latest.processed_rows) == (1, 0, 2)
    row = latest.rows.get(line=2)
    assert row.status == ShipmentUploadRow.Status.SKIPPED and "Already shipped" in row.reason


@pytest.mark.parametrize("cells, reason", [
    (["", "dpd", "DPD1234567", ""], "No order number."),
    (["{n}", "", "DPD1234567", ""], "No carrier."),
    (["{n}", "dpd", "", ""], "No tracking number."),
    (["{n}", "dpd", "AB1", ""], "Tracking number “AB1” looks too short."),
    (["{n}", "dpd", "DPD1234567", "tomorrow"], "Shipped date “tomorrow” is not a date (use YYYY-MM-DD)."),
    (["{n}", "dpd", "DPD1234567", "2030-01-20"], "Shipped date 2030-01-20 is in the future."),
])
def test_each_bad_row_gets_its_reason(seller, cells, reason):
    order = processing_orders(seller.store, 1)[0]
    rows = parse_csv(csv_bytes([[c.format(n=order.number) for c in cells]]))
    assert [r.reason for r in rows] == [reason]


def test_duplicates_within_the_file_are_reported_on_the_later_line(seller):
    a, b = processing_orders(seller.store, 2)
    rows = parse_csv(csv_bytes([[a.number, "dpd", "DPD1234567", ""], [b.number, "DPD", "DPD1234567", ""],
                                [a.number, "ups", "1Z99999999", ""]]))
    assert [r.reason for r in rows] == ["", "Tracking number DPD1234567 is also on line 2 of this file.",
                                        f"Order {a.number} is also on line 2 of this file."]


def test_tracking_already_used_by_another_order(seller, django_capture_on_commit_callbacks):
    a, b = processing_orders(seller.store, 2)
    from orders.services import shipment_create

    shipment_create(order=a, carrier="dpd", tracking_number="DPD7777777")
    with django_capture_on_commit_callbacks(execute=True):
        item, _ = shipment_upload_create(store=seller.store, user=seller, file_name="x.csv",
                                         data=csv_bytes([[b.number, "dpd", "DPD7777777", ""]]))
    row = item.rows.get()
    assert row.status == "error" and row.reason == "Tracking number DPD7777777 is already used by another shipment."
    b.refresh_from_db()
    assert b.status == OrderStatus.PROCESSING


def test_utf8_bom_semicolons_header_aliases_and_shipped_date(seller, django_capture_on_commit_callbacks):
    order = processing_orders(seller.store, 1)[0]
    data = csv_bytes([[order.number.lower(), "ROYAL MAIL", "RM 123 456 789 GB", "14/01/2030"]],
                     header=("Order", "Carrier", "Tracking", "Shipped on"), delimiter=";", bom=True)
    with django_capture_on_commit_callbacks(execute=True):
        shipment_upload_create(store=seller.store, user=seller, file_name="excel.csv", data=data)
    shipment = Shipment.objects.get(order=order)
    assert (shipment.carrier, shipment.carrier_name, shipment.tracking_number) == (
        "royalmail", "Royal Mail", "RM123456789GB")
    assert shipment.shipped_at.date() == datetime.date(2030, 1, 14)


@pytest.mark.parametrize("data, message", [
    (b"", "file is empty."),
    (b"\n \n", "The file is empty."),
    (b"order_number,tracking_number\nNS-AAAA-AAAA,1234\n", "Missing: carrier."),
    (b"order_number,carrier,tracking_number\n", "The file has a header but no orders below it."),
    ("order_number,carrier,tracking_number\nNS-AAAA-AAAA,dpd,Zürich1\n".encode("latin-1"), "not UTF-8"),
])
def test_unusable_files_are_refused_as_a_whole(seller_client, data, message):
    response = upload(seller_client, data)
    assert response.status_code == 422
    assert message in response.content.decode()
    assert not ShipmentUpload.objects.exists()


def test_row_and_size_limits(seller_client, seller, settings):
    settings.SHIPMENT_UPLOAD_MAX_ROWS = 2
    response = upload(seller_client, csv_bytes([["NS-AAAA-AAA%d" % i, "dpd", "DPD000000%d" % i, ""]
                                                for i in range(3)]))
    assert response.status_code == 422 and "at most 2 fit in one upload" in response.content.decode()
    settings.SHIPMENT_UPLOAD_MAX_BYTES = 100
    with pytest.raises(UploadRejected, match="larger than"):
        parse_csv(b"x" * 101)


def test_processing_in_chunks_advances_the_progress(seller, django_capture_on_commit_callbacks):
    orders = processing_orders(seller.store, 5)
    item, _ = shipment_upload_create(store=seller.store, user=seller, file_name="x.csv",
                                     data=csv_bytes([[o.number, "dpd", f"DPD00000{i}", ""]
                                                     for i, o in enumerate(orders)]))
    assert not shipment_upload_process(upload_id=item.pk, chunk_size=2, max_chunks=1)
    item.refresh_from_db()
    assert (item.status, item.processed_rows, item.shipped_rows) == ("processing", 2, 2)
    assert shipment_upload_process(upload_id=item.pk, chunk_size=2)
    item.refresh_from_db()
    assert (item.status, item.processed_rows, item.shipped_rows) == ("done", 5, 5)
    # Running it again (a redelivered task) changes nothing.
    assert shipment_upload_process(upload_id=item.pk)
    assert Shipment.objects.count() == 5


def test_a_seller_sees_only_their_own_uploads(client, seller):
    other = SellerFactory(store=StoreFactory())
    theirs, _ = shipment_upload_create(store=other.store, user=other, file_name="theirs.csv",
                                       data=csv_bytes([["NS-AAAA-AAAA", "dpd", "DPD0000001", ""]]))
    client.force_login(seller)
    assert client.get(reverse("seller:shipping_upload", args=[theirs.pk])).status_code == 404
    assert client.get(reverse("seller:shipping_report", args=[theirs.pk])).status_code == 404
    assert "theirs.csv" not in client.get(reverse("seller:shipping")).content.decode()


def test_the_same_file_from_another_store_is_that_stores_own_upload(seller):
    other = SellerFactory(store=StoreFactory())
    data = csv_bytes([["NS-AAAA-AAAA", "dpd", "DPD0000001", ""]])
    mine, created_mine = shipment_upload_create(store=seller.store, user=seller, file_name="a.csv", data=data)
    theirs, created_theirs = shipment_upload_create(store=other.store, user=other, file_name="a.csv", data=data)
    assert created_mine and created_theirs and mine.pk != theirs.pk


def test_customers_and_anonymous_users_cannot_upload(client, customer):
    assert client.get(reverse("seller:shipping")).status_code == 302
    client.force_login(customer)
    assert client.get(reverse("seller:shipping")).status_code == 403
    assert upload(client, csv_bytes([["NS-AAAA-AAAA", "dpd", "DPD0000001", ""]])).status_code == 403
    assert not ShipmentUpload.objects.exists()


def test_template_csv_downloads_with_the_header(seller_client):
    response = seller_client.get(reverse("seller:shipping_template"))
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert response.content.decode().splitlines()[0] == "order_number,carrier,tracking_number,shipped_date"


def test_the_progress_partial_polls_until_done(seller_client, seller):
    order = processing_orders(seller.store, 1)[0]
    item, _ = shipment_upload_create(store=seller.store, user=seller, file_name="x.csv",
                                     data=csv_bytes([[order.number, "dpd", "DPD0000001", ""]]))
    partial = seller_client.get(reverse("seller:shipping_upload", args=[item.pk]), HTTP_HX_REQUEST="true")
    body = partial.content.decode()
    assert 'hx-trigger="every 1s"' in body and "0 of 1 rows processed" in body and "<html" not in body
    shipment_upload_process(upload_id=item.pk)
    body = seller_client.get(reverse("seller:shipping_upload", args=[item.pk]), HTTP_HX_REQUEST="true").content.decode()
    assert "hx-trigger" not in body and "1 of 1 rows processed" in body and "Download the report" in body
