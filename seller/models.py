"""Bulk shipping by CSV: the stored upload and its rows (processed in the background).

No I/O here; writes go through ``seller.bulk_shipping``.
"""
from django.conf import settings
from django.db import models


class ShipmentUpload(models.Model):
    """One CSV file a seller uploaded to ship many orders at once.

    Unique per store and file hash: the same file uploaded twice is the same upload, so it ships
    nothing twice. Each line is a ``ShipmentUploadRow``; a Celery task ships the pending rows in
    chunks through ``orders.services.shipment_create`` and counts them here for the progress bar.
    """

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting for a worker"
        PROCESSING = "processing", "Shipping"
        DONE = "done", "Done"

    store = models.ForeignKey("catalog.Store", on_delete=models.CASCADE, related_name="shipment_uploads")
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+")
    file_name = models.CharField(max_length=200)
    sha256 = models.CharField(max_length=64, help_text="Hash of the file's bytes (the same file is one upload).")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING)
    total_rows = models.PositiveIntegerField(default=0)
    processed_rows = models.PositiveIntegerField(default=0)
    shipped_rows = models.PositiveIntegerField(default=0)
    error_rows = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["store", "sha256"], name="shipment_upload_once_per_file")]

    def __str__(self):
        return f"{self.file_name} ({self.store_id}, {self.status})"

    @property
    def percent(self) -> int:
        return 100 if not self.total_rows else int(100 * self.processed_rows / self.total_rows)

    @property
    def is_done(self) -> bool:
        return self.status == self.Status.DONE


class ShipmentUploadRow(models.Model):
    """One data line of an upload: what it asked for and what became of it."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SHIPPED = "shipped", "Shipped"
        SKIPPED = "skipped", "Already shipped"
        ERROR = "error", "Error"

    upload = models.ForeignKey(ShipmentUpload, on_delete=models.CASCADE, related_name="rows")
    line = models.PositiveIntegerField(help_text="Line number in the file (the header is line 1).")
    order_number = models.CharField(max_length=40, blank=True)
    carrier = models.CharField(max_length=32, blank=True)
    carrier_name = models.CharField(max_length=64, blank=True)
    tracking_number = models.CharField(max_length=64, blank=True)
    shipped_on = models.DateField(null=True, blank=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING)
    reason = models.CharField(max_length=300, blank=True)
    shipment = models.ForeignKey("orders.Shipment", null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="+")

    class Meta:
        ordering = ["upload", "line"]
        constraints = [models.UniqueConstraint(fields=["upload", "line"], name="shipment_upload_row_line")]
        indexes = [models.Index(fields=["upload", "status", "line"], name="shipment_upload_row_status")]

    def __str__(self):
        return f"line {self.line}: {self.order_number} {self.status}"
