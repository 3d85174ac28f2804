"""Carrier adapters (one interface: verify and parse a webhook, poll a tracking number).

``get_adapter(code)`` finds the adapter for a carrier code; carriers with no adapter (Royal Mail,
DPD… entered by hand) only get a public tracking link.
"""

TRACKING_URLS = {
    "royalmail": "https://www.royalmail.com/track-your-item#/tracking-results/{n}",
    "dpd": "https://track.dpd.co.uk/parcels/{n}",
    "ups": "https://www.ups.com/track?tracknum={n}",
    "fedex": "https://www.fedex.com/fedextrack/?trknbr={n}",
    "usps": "https://tools.usps.com/go/TrackConfirmAction?tLabels={n}",
    "dhl": "https://www.dhl.com/en/express/tracking.html?AWB={n}",
}

CARRIER_CHOICES = [
    ("simulated", "Simulated carrier (demo)"),
    ("fleet", "Own delivery fleet"),  # checkpoints posted through the REST API; public page /track/fleet/<n>/
    ("royalmail", "Royal Mail"),
    ("dpd", "DPD"),
    ("ups", "UPS"),
    ("fedex", "FedEx"),
    ("usps", "USPS"),
    ("dhl", "DHL"),
    ("easypost", "EasyPost"),
    ("aftership", "AfterShip"),
]

_registry: dict = {}


def _builtin_adapters():
    from .aftership import AfterShipAdapter
    from .easypost import EasyPostAdapter
    from .simulated import SimulatedCarrier

    return [EasyPostAdapter(), AfterShipAdapter(), SimulatedCarrier()]


def registry() -> dict:
    if not _registry:
        for adapter in _builtin_adapters():
            _registry.setdefault(adapter.code, adapter)
    return _registry


def register(adapter):
    """Add (or replace) the adapter for ``adapter.code``; returns the one it replaced, if any."""
    reg = registry()
    previous = reg.get(adapter.code)
    reg[adapter.code] = adapter
    return previous


def unregister(code: str, previous=None):
    reg = registry()
    if previous is not None:
        reg[code] = previous
    else:
        reg.pop(code, None)


def get_adapter(code: str):
    return registry().get(code)


def pollable_adapters() -> list:
    return [adapter for adapter in registry().values() if adapter.pollable]


def tracking_url_for(carrier: str, tracking_number: str) -> str:
    from django.conf import settings
    from django.urls import reverse

    template = TRACKING_URLS.get(carrier)
    if template:
        return template.format(n=tracking_number)
    return settings.SITE_URL + reverse("orders:carrier_tracking", args=[carrier, tracking_number])
