"""Celery tasks for the seller dashboard: thin (ids in, a service call, nothing else)."""
from celery import shared_task


@shared_task(name="seller.process_shipment_upload", ignore_result=True, acks_late=True)
def process_shipment_upload(upload_id: int):
    """Ship a CSV upload's pending rows; re-queue itself while rows remain (idempotent: a row ships once)."""
    from .bulk_shipping import shipment_upload_process

    if not shipment_upload_process(upload_id=upload_id):
        process_shipment_upload.delay(upload_id)
