"""The public tracking page of carriers that have none of their own (the simulated carrier).

Like a carrier's own tracking site, it shows one parcel's checkpoints to whoever has the
tracking number, and nothing about the order, the customer or the address.
"""
from django.http import Http404
from django.shortcuts import render

from .carriers import TRACKING_URLS, get_adapter
from .models import Shipment, TrackingEvent, TrackingStatus


def carrier_tracking(request, carrier: str, tracking_number: str):
    if carrier in TRACKING_URLS:
        raise Http404("This carrier has its own tracking site.")
    shipment = (Shipment.objects.filter(carrier=carrier, tracking_number=tracking_number)
                .only("id", "carrier", "carrier_name", "tracking_number", "status", "eta", "delivered_at",
                      "last_event_at")
                .order_by("-shipped_at").first())
    if shipment is None:
        raise Http404("No parcel with this tracking number.")
    labels = dict(TrackingStatus.choices)
    checkpoints = [
        {**row, "status_label": labels.get(row["status"], row["status"])}
        for row in TrackingEvent.objects.filter(shipment_id=shipment.pk).order_by("-occurred_at", "-id")
        .values("status", "message", "location", "occurred_at")
    ]
    adapter = get_adapter(carrier)
    context = {
        "carrier_name": shipment.carrier_name or (adapter.name if adapter else carrier),
        "tracking_number": shipment.tracking_number,
        "status": shipment.status,
        "status_label": shipment.get_status_display(),
        "eta": shipment.eta,
        "delivered_at": shipment.delivered_at,
        "is_final": shipment.is_final,
        "checkpoints": checkpoints,
    }
    return render(request, "orders/carrier_tracking.html", context)
