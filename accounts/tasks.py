from celery import shared_task

from .privacy import data_export_build
from .retention import retention_redact


@shared_task(name="privacy.build_data_export", acks_late=True, ignore_result=True)
def build_data_export(export_id: int) -> str:
    """Build one "download my data" archive and email its link (idempotent by export status)."""
    export = data_export_build(export_id=export_id)
    return export.status if export else "missing"


@shared_task(name="privacy.redact_expired", acks_late=True, ignore_result=True)
def redact_expired() -> dict:
    """Beat, hourly: redact message bodies and payloads past their retention; delete expired archives."""
    return retention_redact()
