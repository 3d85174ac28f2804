"""Carrier adapters (one interface: parse a webhook, poll a tracking number)."""

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
    ("royalmail", "Royal Mail"),
    ("dpd", "DPD"),
    ("ups", "UPS"),
    ("fedex", "FedEx"),
    ("usps", "USPS"),
    ("dhl", "DHL"),
    ("easypost", "EasyPost"),
    ("aftership", "AfterShip"),
]


def tracking_url_for(carrier: str, tracking_number: str) -> str:
    from django.conf import settings
    from django.urls import reverse

    template = TRACKING_URLS.get(carrier)
    if template:
        return template.format(n=tracking_number)
    return settings.SITE_URL + reverse("storefront:track_shipment", args=[carrier, tracking_number])
