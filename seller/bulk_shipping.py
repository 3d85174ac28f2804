"""Bulk shipping by CSV: read the file, store one row per line, ship the rows in the background.

``shipment_upload_create`` (the upload view) checks the file as a whole (size, encoding, header,
row limit) and each line on its own (carrier, tracking number, date, duplicates within the file),
stores the upload with its rows and queues ``seller.process_shipment_upload`` on commit.
``shipment_upload_process`` (the task) ships the pending rows in chunks, each row in its own
transaction through ``orders.services.shipment_create``, so the customer gets the same
"shipped" messages as from the order page, and counts the results for the progress bar.

Nothing ships twice: the same file (same bytes) for the same store is the same upload; a row
whose carrier and tracking number already belong to a shipment is not shipped again; a row is
claimed under a row lock and only while it is pending.
"""
import csv
import datetime
import hashlib
import io
import time
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext as _

from orders.carriers import CARRIER_CHOICES
from orders.models import Order, Shipment
from orders.selectors import normalise_order_number
from orders.services import TransitionNotAllowed, shipment_create

from .models import ShipmentUpload, ShipmentUploadRow

TEMPLATE_HEADER = ["order_number", "carrier", "tracking_number", "shipped_date"]
COLUMN_ALIASES = {
    "order_number": ("order_number", "order", "order_no", "order_id", "number"),
    "carrier": ("carrier", "carrier_code", "courier"),
    "tracking_number": ("tracking_number", "tracking", "tracking_no", "tracking_code"),
    "shipped_date": ("shipped_date", "shipped_on", "ship_date", "shipped", "date"),
}
DATE_FORMATS = ("%Y-%m-%d", "%d/%m/%Y", "%d.%m.%Y")
MAX_DAYS_BACK = 60

# Carrier codes and names, case- and space-insensitive: "Royal Mail", "royalmail", "ROYAL MAIL".
_CARRIERS = {}
for _code, _label in CARRIER_CHOICES:
    _CARRIERS[_code] = (_code, _label)
    _CARRIERS["".join(_label.lower().split())] = (_code, _label)


class UploadRejected(Exception):
    """The file as a whole cannot be used (nothing was stored)."""


@dataclass
class ParsedRow:
    line: int
    order_number: str = ""
    carrier: str = ""
    carrier_name: str = ""
    tracking_number: str = ""
    shipped_on: datetime.date | None = None
    reason: str = ""


def template_csv() -> str:
    """The CSV a seller downloads to fill in: the header and one example line."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(TEMPLATE_HEADER)
    writer.writerow(["NS-ABCD-EFGH", "royalmail", "AB123456789GB", timezone.localdate().isoformat()])
    return out.getvalue()


def carrier_lookup(value: str) -> tuple[str, str] | None:
    return _CARRIERS.get("".join((value or "").lower().split()))


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise UploadRejected(_("The file is not UTF-8 text. In your spreadsheet choose “CSV UTF-8” "
                               "when you save it, and upload it again.")) from None


def _reader(text: str):
    sample = text[:4096]
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    return csv.reader(io.StringIO(text), dialect)


def _columns(header: list[str]) -> dict[str, int]:
    names = ["_".join(h.strip().lower().replace("-", " ").split()) for h in header]
    columns = {}
    for key, aliases in COLUMN_ALIASES.items():
        for index, name in enumerate(names):
            if name in aliases:
                columns[key] = index
                break
    missing = [key for key in ("order_number", "carrier", "tracking_number") if key not in columns]
    if missing:
        raise UploadRejected(_("The first line must name the columns: order_number, carrier, tracking_number "
                               "(and optionally shipped_date). Missing: %(missing)s.")
                             % {"missing": ", ".join(missing)})
    return columns


def _parse_date(value: str, today: datetime.date) -> tuple[datetime.date | None, str]:
    value = value.strip()
    if not value:
        return None, ""
    for fmt in DATE_FORMATS:
        try:
            day = datetime.datetime.strptime(value, fmt).date()
            break
        except ValueError:
            continue
    else:
        return None, _("Shipped date “%(value)s” is not a date (use YYYY-MM-DD).") % {"value": value[:20]}
    if day > today:
        return None, _("Shipped date %(day)s is in the future.") % {"day": day.isoformat()}
    if day < today - datetime.timedelta(days=MAX_DAYS_BACK):
        return None, _("Shipped date %(day)s is more than %(n)s days ago.") % {"day": day.isoformat(),
                                                                              "n": MAX_DAYS_BACK}
    return day, ""


def parse_csv(data: bytes) -> list[ParsedRow]:
    """The file's data lines, each with the first problem found on it (``reason``) or none."""
    if len(data) > settings.SHIPMENT_UPLOAD_MAX_BYTES:
        raise UploadRejected(_("The file is larger than %(kb)s KB. Split it into smaller files.")
                             % {"kb": settings.SHIPMENT_UPLOAD_MAX_BYTES // 1024})
    rows = [r for r in _reader(_decode(data))]
    numbered = [(n, r) for n, r in enumerate(rows, start=1) if any(cell.strip() for cell in r)]
    if not numbered:
        raise UploadRejected(_("The file is empty."))
    header_line, header = numbered[0]
    columns = _columns(header)
    data_rows = numbered[1:]
    if not data_rows:
        raise UploadRejected(_("The file has a header but no orders below it."))
    if len(data_rows) > settings.SHIPMENT_UPLOAD_MAX_ROWS:
        raise UploadRejected(_("The file has %(n)s orders; at most %(max)s fit in one upload. Split it.")
                             % {"n": len(data_rows), "max": settings.SHIPMENT_UPLOAD_MAX_ROWS})

    today = timezone.localdate()
    seen_tracking: dict[tuple[str, str], int] = {}
    seen_order: dict[str, int] = {}
    parsed = []
    for line, cells in data_rows:
        def cell(key):
            index = columns.get(key)
            return cells[index].strip() if index is not None and index < len(cells) else ""

        row = ParsedRow(line=line, order_number=normalise_order_number(cell("order_number"))[:40],
                        tracking_number="".join(cell("tracking_number").split())[:64])
        raw_carrier = cell("carrier")
        carrier = carrier_lookup(raw_carrier)
        if carrier:
            row.carrier, row.carrier_name = carrier
        else:
            row.carrier = raw_carrier[:32]
        shipped_on, date_error = _parse_date(cell("shipped_date"), today)
        row.shipped_on = shipped_on
        if not row.order_number:
            row.reason = _("No order number.")
        elif not raw_carrier:
            row.reason = _("No carrier.")
        elif not carrier:
            row.reason = _("Unknown carrier “%(carrier)s”. Use one of: %(codes)s.") % {
                "carrier": raw_carrier[:32], "codes": ", ".join(code for code, _label in CARRIER_CHOICES)}
        elif not row.tracking_number:
            row.reason = _("No tracking number.")
        elif len(row.tracking_number) < 4:
            row.reason = _("Tracking number “%(n)s” looks too short.") % {"n": row.tracking_number}
        elif date_error:
            row.reason = date_error
        elif (row.carrier, row.tracking_number) in seen_tracking:
            row.reason = _("Tracking number %(n)s is also on line %(line)s of this file.") % {
                "n": row.tracking_number, "line": seen_tracking[(row.carrier, row.tracking_number)]}
        elif row.order_number in seen_order:
            row.reason = _("Order %(number)s is also on line %(line)s of this file.") % {
                "number": row.order_number, "line": seen_order[row.order_number]}
        if not row.reason:
            seen_tracking[(row.carrier, row.tracking_number)] = line
            seen_order[row.order_number] = line
        parsed.append(row)
    return parsed


@transaction.atomic
def shipment_upload_create(*, store, user, file_name: str, data: bytes) -> tuple[ShipmentUpload, bool]:
    """Store the upload and its rows and queue the shipping; ``(upload, False)`` when this store
    already uploaded the very same file (nothing is queued again). Raises UploadRejected."""
    digest = hashlib.sha256(data).hexdigest()
    existing = ShipmentUpload.objects.filter(store=store, sha256=digest).first()
    if existing is not None:
        return existing, False
    parsed = parse_csv(data)
    errors = sum(1 for row in parsed if row.reason)
    upload = ShipmentUpload.objects.create(
        store=store, uploaded_by=user, file_name=(file_name or "upload.csv")[:200], sha256=digest,
        total_rows=len(parsed), processed_rows=errors, error_rows=errors,
    )
    ShipmentUploadRow.objects.bulk_create([
        ShipmentUploadRow(upload=upload, line=row.line, order_number=row.order_number, carrier=row.carrier,
                          carrier_name=row.carrier_name, tracking_number=row.tracking_number,
                          shipped_on=row.shipped_on, reason=row.reason,
                          status=ShipmentUploadRow.Status.ERROR if row.reason else ShipmentUploadRow.Status.PENDING)
        for row in parsed
    ], batch_size=500)
    if errors == len(parsed):
        upload.status, upload.finished_at = ShipmentUpload.Status.DONE, timezone.now()
        upload.save(update_fields=["status", "finished_at"])
    else:
        from .tasks import process_shipment_upload

        transaction.on_commit(lambda: process_shipment_upload.delay(upload.pk))
    return upload, True


def _ship_row(row: ShipmentUploadRow, upload: ShipmentUpload) -> None:
    """Ship one pending row (its own transaction; a row no longer pending is left alone)."""
    with transaction.atomic():
        row = ShipmentUploadRow.objects.select_for_update().filter(
            pk=row.pk, status=ShipmentUploadRow.Status.PENDING).first()
        if row is None:
            return
        # Another store's order reads as unknown: the upload must not tell that an order number exists.
        order = Order.objects.filter(number=row.order_number, store_id=upload.store_id).first()
        used = Shipment.objects.filter(carrier=row.carrier, tracking_number=row.tracking_number).only(
            "id", "order_id").first()
        if order is None:
            row.status, row.reason = ShipmentUploadRow.Status.ERROR, _(
                "Unknown order number %(number)s in your store.") % {"number": row.order_number}
        elif used is not None and used.order_id == order.pk:
            row.status, row.shipment = ShipmentUploadRow.Status.SKIPPED, used
            row.reason = _("Already shipped with this tracking number; nothing was sent again.")
        elif used is not None:
            row.status, row.reason = ShipmentUploadRow.Status.ERROR, _(
                "Tracking number %(n)s is already used by another shipment.") % {"n": row.tracking_number}
        else:
            try:
                with transaction.atomic():
                    shipment = shipment_create(order=order, carrier=row.carrier, carrier_name=row.carrier_name,
                                               tracking_number=row.tracking_number, actor=upload.uploaded_by)
                    if row.shipped_on and row.shipped_on != timezone.localdate():
                        shipped_at = timezone.make_aware(datetime.datetime.combine(row.shipped_on,
                                                                                   datetime.time(12, 0)))
                        Shipment.objects.filter(pk=shipment.pk).update(shipped_at=shipped_at)
                row.status, row.shipment, row.reason = ShipmentUploadRow.Status.SHIPPED, shipment, ""
            except TransitionNotAllowed:
                order.refresh_from_db(fields=["status"])
                row.status, row.reason = ShipmentUploadRow.Status.ERROR, _(
                    "Order %(number)s is %(status)s and cannot be shipped.") % {
                    "number": order.number, "status": order.get_status_display().lower()}
            except IntegrityError:
                row.status, row.reason = ShipmentUploadRow.Status.ERROR, _(
                    "Tracking number %(n)s is already used by another shipment.") % {"n": row.tracking_number}
        row.save(update_fields=["status", "reason", "shipment"])


def _count(upload: ShipmentUpload) -> bool:
    """Refresh the upload's counters from its rows; True when no row is pending."""
    by_status = dict(upload.rows.order_by().values_list("status").annotate(n=Count("id")))
    pending = by_status.get(ShipmentUploadRow.Status.PENDING, 0)
    upload.processed_rows = upload.total_rows - pending
    upload.shipped_rows = by_status.get(ShipmentUploadRow.Status.SHIPPED, 0)
    upload.error_rows = by_status.get(ShipmentUploadRow.Status.ERROR, 0)
    fields = ["processed_rows", "shipped_rows", "error_rows", "status"]
    if not pending:
        upload.status, upload.finished_at = ShipmentUpload.Status.DONE, timezone.now()
        fields.append("finished_at")
    upload.save(update_fields=fields)
    return not pending


def shipment_upload_process(*, upload_id: int, chunk_size: int | None = None, max_chunks: int | None = None,
                            time_budget: float = 20.0) -> bool:
    """Ship the upload's pending rows chunk by chunk, updating the progress after each chunk.

    Returns True when every row is done; False when it stopped early (``max_chunks`` or the time
    budget ran out) and should be called again (the task re-queues itself)."""
    chunk_size = chunk_size or settings.SHIPMENT_UPLOAD_CHUNK
    upload = ShipmentUpload.objects.filter(pk=upload_id).first()
    if upload is None or upload.is_done:
        return True
    if upload.status == ShipmentUpload.Status.PENDING:
        upload.status, upload.started_at = ShipmentUpload.Status.PROCESSING, timezone.now()
        upload.save(update_fields=["status", "started_at"])
    started, chunks = time.monotonic(), 0
    with timezone.override(upload.uploaded_by.time_zone if upload.uploaded_by else settings.TIME_ZONE):
        while True:
            rows = list(upload.rows.filter(status=ShipmentUploadRow.Status.PENDING).order_by("line")[:chunk_size])
            for row in rows:
                _ship_row(row, upload)
            chunks += 1
            if _count(upload):
                return True
            if (max_chunks and chunks >= max_chunks) or time.monotonic() - started > time_budget:
                return False


def upload_report_rows(upload: ShipmentUpload):
    """The result report: a header and one line per row of the file."""
    yield ["row", "order_number", "carrier", "tracking_number", "status", "reason"]
    for row in upload.rows.order_by("line").iterator(chunk_size=1000):
        yield [row.line, row.order_number, row.carrier, row.tracking_number, row.status, row.reason]
