"""The notification catalogue: every event code, who receives it, its category and default channels.

One row of SPEC.md section 2 per ``EventDef`` (the order, payment, shipment and return rows).
The catalogue is code, not data: platform staff switch events on/off and change default channels
with ``PlatformEventSetting``; sellers toggle seller-facing channels with ``SellerNotificationSetting``.
"""
import datetime
from dataclasses import dataclass

from django.db import models


class Channel(models.TextChoices):
    EMAIL = "email", "Email"
    SMS = "sms", "SMS"
    INAPP = "inapp", "In-app"
    WEBHOOK = "webhook", "Webhook"  # sellers' own endpoints (webhooks app); not a channel people choose


# The channels a person reads (preference grids, seller alert toggles, template defaults).
MESSAGE_CHANNELS = [c for c in Channel if c != Channel.WEBHOOK]


class Audience(models.TextChoices):
    CUSTOMER = "customer", "Customer"
    SELLER = "seller", "Seller"


class Category(models.TextChoices):
    """Decides whether a customer may switch a message off (SPEC section 2, last paragraph)."""

    TRANSACTIONAL = "transactional", "Order updates (always sent)"
    SECURITY = "security", "Security (always sent)"
    SHIPPING_UPDATES = "shipping_updates", "Shipping updates"
    ACCOUNT = "account", "Account and loyalty"
    MARKETING = "marketing", "Offers and news"
    SELLER_ALERT = "seller_alert", "Seller alerts"


# Customers cannot switch these off (per category); security always goes by email.
MANDATORY_CATEGORIES = frozenset({Category.TRANSACTIONAL, Category.SECURITY})
# Optional categories that are on until the customer switches them off.
DEFAULT_ON_CATEGORIES = frozenset({Category.SHIPPING_UPDATES, Category.ACCOUNT})
# Marketing is off unless there is a recorded opt-in (accounts.ConsentRecord).
CONSENT_CATEGORIES = frozenset({Category.MARKETING})
CUSTOMER_CATEGORIES = [c for c in Category if c != Category.SELLER_ALERT]

# Quiet hours (SPEC section 8) hold only what may wait: optional categories on the interrupting
# channels. Transactional and security messages are never held on any channel, and neither are
# seller alerts (a seller who wants silence switches the SMS alert off). Push and WhatsApp join the
# interrupting channels as they are added.
QUIET_HOURS_CATEGORIES = frozenset({Category.SHIPPING_UPDATES, Category.ACCOUNT, Category.MARKETING})
QUIET_HOURS_CHANNELS = frozenset({"sms", "push", "whatsapp"})
# Marketing SMS never go out outside 08:00–21:00 in the recipient's time zone, whatever the platform
# window says (the US TCPA and UK PECR practice for marketing texts).
MARKETING_SMS_HOURS = (datetime.time(8, 0), datetime.time(21, 0))


def held_by_quiet_hours(category: str, channel: str) -> bool:
    """May a message of ``category`` on ``channel`` wait for the recipient's quiet hours to end?"""
    return category in QUIET_HOURS_CATEGORIES and channel in QUIET_HOURS_CHANNELS

E, S, I = Channel.EMAIL, Channel.SMS, Channel.INAPP


@dataclass(frozen=True)
class EventDef:
    code: str
    label: str
    category: str  # the customer's category; seller copies are always SELLER_ALERT
    customer_channels: tuple = ()  # default channels for the customer; () = customer not a recipient
    seller_channels: tuple = ()  # default channels for the store's sellers; () = sellers not a recipient
    # Name of the StoreNotificationOptions switch that can turn the customer copy off, if any.
    store_switch: str = ""
    must_carry: str = ""

    @property
    def audiences(self) -> list[str]:
        out = []
        if self.customer_channels:
            out.append(Audience.CUSTOMER)
        if self.seller_channels:
            out.append(Audience.SELLER)
        return out

    def default_channels(self, audience: str) -> tuple:
        return self.customer_channels if audience == Audience.CUSTOMER else self.seller_channels

    def category_for(self, audience: str) -> str:
        return self.category if audience == Audience.CUSTOMER else Category.SELLER_ALERT


T, SU = Category.TRANSACTIONAL, Category.SHIPPING_UPDATES

EVENTS: dict[str, EventDef] = {
    e.code: e
    for e in [
        EventDef("order.placed", "Order confirmation / new order", T, (E, I), (E, I),
                 must_carry="order number, lines, subtotal/shipping/tax/total, address and method, payment "
                            "method and status, estimated delivery, status link; seller: lines, ship-to, "
                            "payment status, dashboard link"),
        EventDef("order.payment_pending", "Payment pending", T, (E, I),
                 must_carry="what is pending, how to complete payment"),
        EventDef("order.payment_failed", "Payment failed", T, (E, S, I), (E, I),
                 must_carry="that it failed, how to retry or pay another way"),
        EventDef("order.processing", "Order being prepared", T, (E, I),
                 must_carry="payment confirmed / being prepared, expected delivery timeframe"),
        EventDef("order.on_hold", "Order on hold", T, (E, I),
                 must_carry="reason, what happens next"),
        EventDef("order.backordered", "Items on backorder", T, (E, I),
                 must_carry="which items, new expected availability and delivery, option to cancel"),
        EventDef("order.shipped", "Order shipped", T, (E, S, I),
                 must_carry="carrier, tracking number and link, estimated delivery, items in the shipment"),
        EventDef("shipment.in_transit", "Shipment in transit", SU, (E, I), store_switch="shipping_updates",
                 must_carry="latest checkpoint, location, ETA"),
        EventDef("shipment.out_for_delivery", "Out for delivery", SU, (E, S, I), store_switch="shipping_updates",
                 must_carry="expected today, carrier"),
        EventDef("shipment.delivered", "Delivered", T, (E, S, I), (E, I),
                 must_carry="delivered confirmation, review invitation (store switch); seller: order completed"),
        EventDef("order.delayed", "Delivery delayed", T, (E, S, I), (E, I),
                 must_carry="old and new ETA, reason where known"),
        EventDef("order.cancelled", "Order cancelled", T, (E, I), (E, I),
                 must_carry="who cancelled, reason, refund amount, method and timeframe"),
        EventDef("order.refunded", "Order refunded", T, (E, I),
                 must_carry="amount, method, when it arrives"),
        EventDef("return.requested", "Return requested", T, (E, I), (E, I),
                 must_carry="return number, items, next step, refund amount"),
        EventDef("return.approved", "Return approved", T, (E, I),
                 must_carry="return number, items, next step (address), refund amount"),
        EventDef("return.received", "Return received", T, (E, I),
                 must_carry="return number, items, next step, refund amount"),
        EventDef("return.refunded", "Return refunded", T, (E, I),
                 must_carry="return number, items, refund amount and when it arrives"),
        EventDef("return.rejected", "Return rejected", T, (E, I),
                 must_carry="return number, items, reason"),
    ]
}

EVENT_CHOICES = [(code, f"{code} — {e.label}") for code, e in EVENTS.items()]
SELLER_EVENTS = [code for code, e in EVENTS.items() if e.seller_channels]
CUSTOMER_EVENTS = [code for code, e in EVENTS.items() if e.customer_channels]
# Every channel a template may exist for, per audience (defaults ship as files for all of them).
TEMPLATE_CHANNELS = [Channel.EMAIL, Channel.SMS, Channel.INAPP]


def get_event(code: str) -> EventDef:
    try:
        return EVENTS[code]
    except KeyError:
        raise KeyError(f"Unknown notification event “{code}”. Known: {', '.join(EVENTS)}") from None
