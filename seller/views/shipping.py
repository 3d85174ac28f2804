"""Bulk shipping by CSV: the upload form, the progress of an upload, its report, the template."""
import csv

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from ..access import seller_required
from ..bulk_shipping import UploadRejected, shipment_upload_create, template_csv, upload_report_rows
from ..forms import ShipmentUploadForm
from ..models import ShipmentUpload

RECENT_UPLOADS = 10
PROBLEM_ROWS = 200  # shown on the page; the report has every row


class _Echo:
    def write(self, value):
        return value


def _store_upload(request, upload_id: int) -> ShipmentUpload:
    # Scoped to the seller's store: another store's upload is a 404, like a missing one.
    upload = ShipmentUpload.objects.filter(store=request.store, pk=upload_id).first()
    if upload is None:
        raise Http404("No such upload in your store.")
    return upload


@require_http_methods(["GET", "POST"])
@seller_required
def shipping(request):
    form = ShipmentUploadForm()
    status = 200
    if request.method == "POST":
        form = ShipmentUploadForm(request.POST, request.FILES)
        if form.is_valid():
            file = form.cleaned_data["file"]
            try:
                upload, created = shipment_upload_create(store=request.store, user=request.user,
                                                         file_name=file.name, data=file.read())
            except UploadRejected as exc:
                form.add_error("file", str(exc))
            else:
                if not created:
                    messages.info(request, _("You already uploaded this file on %(when)s: nothing was shipped "
                                             "again. Here is what it did.")
                                  % {"when": upload.created_at.strftime("%d %b %Y %H:%M")})
                return redirect("seller:shipping_upload", upload_id=upload.pk)
        status = 422
    uploads = ShipmentUpload.objects.filter(store=request.store)[:RECENT_UPLOADS]
    return render(request, "seller/shipping.html", {
        "form": form, "uploads": uploads, "section": "shipping",
        "max_rows": settings.SHIPMENT_UPLOAD_MAX_ROWS, "max_kb": settings.SHIPMENT_UPLOAD_MAX_BYTES // 1024,
    }, status=status)


@require_GET
@seller_required
def shipping_upload(request, upload_id):
    upload = _store_upload(request, upload_id)
    problem_rows = upload.rows.exclude(status="shipped").order_by("line")[:PROBLEM_ROWS] if upload.is_done else []
    context = {"upload": upload, "problem_rows": problem_rows, "section": "shipping"}
    template = "seller/_upload_progress.html" if request.headers.get("HX-Request") else "seller/shipping_upload.html"
    return render(request, template, context)


@require_GET
@seller_required
def shipping_report(request, upload_id):
    upload = _store_upload(request, upload_id)
    writer = csv.writer(_Echo())
    response = StreamingHttpResponse((writer.writerow(row) for row in upload_report_rows(upload)),
                                     content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="shipping-report-{upload.pk}.csv"'
    return response


@require_GET
@seller_required
def shipping_template(request):
    response = HttpResponse(template_csv(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="bulk-shipping-template.csv"'
    return response
