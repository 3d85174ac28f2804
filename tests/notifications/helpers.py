"""Helpers for notification tests: place orders, move them along, read what was sent."""
from datetime import date, timedelta

from django.core import mail
from django.utils import timezone

from notifications.models import Notification
from orders.checkout import checkout_place
from orders.services import TrackingUpdate, shipment_create, shipment_record_tracking

ADDRESS = {"name": "Ada Lovelace", "line1": "1 Analytical Row", "line2": "Flat 2", "city": "London",
           "postcode": "N1 9GU", "country": "GB"}
GOOD_CARD = "4242 4242 4242 4242"
DECLINED_CARD = "4000 0000 0000 0002"


def place(items, **kwargs):
    params = {"customer": None, "email": "guest@example.com", "address": ADDRESS, "shipping_method": "standard",
              "payment_method": "card", "card_number": GOOD_CARD}
    params.update(kwargs)
    return checkout_place(items=items, **params)


def emails_to(address, event=None):
    found = [m for m in mail.outbox if address in m.to]
    if event is not None:
        ids = {str(n.provider_message_id) for n in Notification.objects.filter(event=event, channel="email")}
        found = [m for m in found if m.extra_headers.get("Message-ID") in ids]
    return found


def only_email_to(address, event=None):
    found = emails_to(address, event)
    assert len(found) == 1, [m.subject for m in emails_to(address)]
    return found[0]


def html_of(message):
    return next(content for content, mime in message.alternatives if mime == "text/html")


def ship(order, *, carrier="royalmail", tracking="RM123456789GB", eta=None, actor=None):
    return shipment_create(order=order, carrier=carrier, carrier_name="Royal Mail", tracking_number=tracking,
                           eta=eta or date.today() + timedelta(days=3), actor=actor)


_seq = iter(range(1, 10**6))


def track(shipment, status, *, message="", location="", eta=None, at=None):
    update = TrackingUpdate(dedupe_key=f"t{next(_seq)}", status=status, occurred_at=at or timezone.now(),
                            message=message, location=location, eta=eta)
    return shipment_record_tracking(shipment=shipment, update=update, source="manual")


def sent(event, **filters):
    return Notification.objects.filter(event=event, **filters)
