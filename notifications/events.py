"""The notification catalogue: every event code, who receives it, its category and default channels.

One row of SPEC.md section 2 per ``EventDef``: the order, payment, shipment and return rows, and the
events about a product (stock, back in stock, updates) or a customer account (loyalty, security).
``EventDef.subject`` names what an event is about; notifications/subjects.py holds each kind's
recipient rules and context builder.
The catalogue is code, not data: platform staff switch events on/off and change default channels
with ``PlatformEventSetting``; sellers toggle seller-facing channels with ``SellerNotificationSetting``.
"""
import datetime
from dataclasses import dataclass

from django.db import models
from django.utils.translation import gettext_lazy as _


class Channel(models.TextChoices):
    EMAIL = "email", _("Email")
    SMS = "sms", _("SMS")
    INAPP = "inapp", _("In-app")
    WHATSAPP = "whatsapp", _("WhatsApp")
    PUSH = "push", _("Browser notification")
    WEBHOOK = "webhook", _("Webhook")  # sellers' own endpoints (webhooks app); not a channel people choose


# The channels a person reads (preference grids, seller alert toggles, template defaults).
MESSAGE_CHANNELS = [c for c in Channel if c != Channel.WEBHOOK]


class Audience(models.TextChoices):
    CUSTOMER = "customer", "Customer"
    SELLER = "seller", "Seller"
    # A product's supplier: an outside business contact (name + email on the product), no account.
    SUPPLIER = "supplier", "Supplier"
    # Platform staff (is_staff accounts without a store): SLA escalations (orders.sla).
    STAFF = "staff", "Platform staff"


class SubjectKind(models.TextChoices):
    """What an event is about (notifications/subjects.py registers recipients and context per kind)."""

    ORDER = "order", "Order"
    PRODUCT = "product", "Product"
    ACCOUNT = "account", "Customer account"
    STORE = "store", "Store"  # a store's digest of many orders (notifications.digest)
    PROMOTION = "promotion", "Promotion"


class Category(models.TextChoices):
    """Decides whether a customer may switch a message off (SPEC section 2, last paragraph)."""

    TRANSACTIONAL = "transactional", _("Order updates (always sent)")
    SECURITY = "security", _("Security (always sent)")
    SHIPPING_UPDATES = "shipping_updates", _("Shipping updates")
    ACCOUNT = "account", _("Account and loyalty")
    MARKETING = "marketing", _("Offers and news")
    SELLER_ALERT = "seller_alert", _("Seller alerts")


# Customers cannot switch these off (per category); security always goes by email.
MANDATORY_CATEGORIES = frozenset({Category.TRANSACTIONAL, Category.SECURITY})
# Optional categories that are on until the customer switches them off.
DEFAULT_ON_CATEGORIES = frozenset({Category.SHIPPING_UPDATES, Category.ACCOUNT})
# Marketing is off unless there is a recorded opt-in (accounts.ConsentRecord).
CONSENT_CATEGORIES = frozenset({Category.MARKETING})
CUSTOMER_CATEGORIES = [c for c in Category if c != Category.SELLER_ALERT]

# Quiet hours (SPEC section 8) hold only what may wait: optional categories on the interrupting
# channels. Transactional and security messages are never held on any channel, and neither are
# seller alerts (a seller who wants silence switches the SMS alert off). WhatsApp and browser push
# interrupt like SMS and are held the same way.
QUIET_HOURS_CATEGORIES = frozenset({Category.SHIPPING_UPDATES, Category.ACCOUNT, Category.MARKETING})
QUIET_HOURS_CHANNELS = frozenset({"sms", "push", "whatsapp"})
# Marketing SMS never go out outside 08:00–21:00 in the recipient's time zone, whatever the platform
# window says (the US TCPA and UK PECR practice for marketing texts).
MARKETING_SMS_HOURS = (datetime.time(8, 0), datetime.time(21, 0))


def held_by_quiet_hours(category: str, channel: str) -> bool:
    """May a message of ``category`` on ``channel`` wait for the recipient's quiet hours to end?"""
    return category in QUIET_HOURS_CATEGORIES and channel in QUIET_HOURS_CHANNELS

E, S, I = Channel.EMAIL, Channel.SMS, Channel.INAPP
W, P = Channel.WHATSAPP, Channel.PUSH


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
    # What the event is about; the kind's recipient rules and context builder apply (subjects.py).
    subject: str = SubjectKind.ORDER
    supplier_channels: tuple = ()  # default channels for the product's supplier; () = not a recipient
    staff_channels: tuple = ()  # default channels for platform staff; () = staff not a recipient

    @property
    def audiences(self) -> list[str]:
        out = []
        if self.customer_channels:
            out.append(Audience.CUSTOMER)
        if self.seller_channels:
            out.append(Audience.SELLER)
        if self.supplier_channels:
            out.append(Audience.SUPPLIER)
        if self.staff_channels:
            out.append(Audience.STAFF)
        return out

    def default_channels(self, audience: str) -> tuple:
        return {Audience.CUSTOMER: self.customer_channels, Audience.SELLER: self.seller_channels,
                Audience.SUPPLIER: self.supplier_channels, Audience.STAFF: self.staff_channels}.get(audience, ())

    def category_for(self, audience: str) -> str:
        return self.category if audience == Audience.CUSTOMER else Category.SELLER_ALERT


T, SU = Category.TRANSACTIONAL, Category.SHIPPING_UPDATES
# Every seller alert is offered by email, SMS, in-app and browser push. SMS is opt-in: off for a
# store until a seller with a mobile number switches it on (SellerNotificationSetting), the others on
# by default (push reaches only the browsers a seller turned notifications on in).
SELLER_CHANNELS = (E, S, I, P)
SELLER_OPT_IN_CHANNELS = frozenset({S})
# The channels a message may fall back to when it could not be delivered (SPEC section 8), in
# order of preference. Never for marketing (its consent is per channel) or security messages
# (a code or link proves one address).
FALLBACK_CHANNELS = {Channel.EMAIL: (Channel.SMS, Channel.WHATSAPP), Channel.SMS: (Channel.EMAIL,),
                     Channel.WHATSAPP: (Channel.EMAIL,)}
FALLBACK_CATEGORIES = frozenset({Category.TRANSACTIONAL, Category.SHIPPING_UPDATES, Category.ACCOUNT})
SEC, ACC, MKT, SA = Category.SECURITY, Category.ACCOUNT, Category.MARKETING, Category.SELLER_ALERT
PRODUCT, ACCOUNT, STORE, PROMOTION = SubjectKind.PRODUCT, SubjectKind.ACCOUNT, SubjectKind.STORE, SubjectKind.PROMOTION

EVENTS: dict[str, EventDef] = {
    e.code: e
    for e in [
        EventDef("order.placed", "Order confirmation / new order", T, (E, I), SELLER_CHANNELS,
                 must_carry="order number, lines, subtotal/shipping/tax/total, address and method, payment "
                            "method and status, estimated delivery, status link; seller: lines, ship-to, "
                            "payment status, dashboard link"),
        EventDef("order.payment_pending", "Payment pending", T, (E, I),
                 must_carry="what is pending, how to complete payment"),
        EventDef("order.payment_failed", "Payment failed", T, (E, S, W, P, I), SELLER_CHANNELS,
                 must_carry="that it failed, how to retry or pay another way"),
        EventDef("order.payment_reminder", "Payment reminder (unpaid order)", T, (E, I),
                 must_carry="that the order is still unpaid, how to pay, the deadline before it is cancelled"),
        EventDef("order.payment_received", "Paid after a failed payment: OK to ship", T, (), SELLER_CHANNELS,
                 must_carry="seller: the order is now paid (or switched to cash on delivery), OK to ship"),
        EventDef("order.processing", "Order being prepared", T, (E, I),
                 must_carry="payment confirmed / being prepared, expected delivery timeframe"),
        EventDef("order.on_hold", "Order on hold", T, (E, I),
                 must_carry="reason, what happens next"),
        EventDef("order.backordered", "Items on backorder", T, (E, I),
                 must_carry="which items, new expected availability and delivery, option to cancel"),
        EventDef("order.shipped", "Order shipped", T, (E, S, W, P, I),
                 must_carry="carrier, tracking number and link, estimated delivery, items in the shipment"),
        EventDef("shipment.in_transit", "Shipment in transit", SU, (E, I), store_switch="shipping_updates",
                 must_carry="latest checkpoint, location, ETA"),
        EventDef("shipment.out_for_delivery", "Out for delivery", SU, (E, S, W, P, I), store_switch="shipping_updates",
                 must_carry="expected today, carrier"),
        EventDef("shipment.delivered", "Delivered", T, (E, S, W, P, I), SELLER_CHANNELS,
                 must_carry="delivered confirmation, review invitation (store switch); seller: order completed"),
        EventDef("shipment.returned", "Parcel returned to sender", T, (E, I), SELLER_CHANNELS,
                 must_carry="that the parcel came back to the shop, the carrier's reason, what happens next; "
                            "seller: reship, refund or cancel"),
        EventDef("order.delayed", "Delivery delayed", T, (E, S, W, P, I), SELLER_CHANNELS,
                 must_carry="old and new ETA, reason where known"),
        # Shipping deadline (orders.sla): the sellers when an order is past its ship-by time, then
        # platform staff when it is still not shipped the store's escalation hours later.
        EventDef("order.sla_breached", "Order not shipped in time", T, (), SELLER_CHANNELS,
                 must_carry="order number, ship-by deadline, how long it has waited, lines, dashboard link"),
        EventDef("order.sla_escalated", "Late order escalated to staff", T, (), (), staff_channels=(E, I),
                 must_carry="store, order number, ship-by deadline, that the sellers were alerted, admin link"),
        EventDef("order.cancelled", "Order cancelled", T, (E, I), SELLER_CHANNELS,
                 must_carry="who cancelled, reason, refund amount, method and timeframe"),
        EventDef("order.refunded", "Order refunded", T, (E, I),
                 must_carry="amount, method, when it arrives"),
        # Talking about an order (issue 15 item 5): the customer asks from the status page; the
        # seller's reply or own message reaches the customer on their channels.
        EventDef("order.customer_question", "Question from a customer", T, (), SELLER_CHANNELS,
                 must_carry="seller: order number, who asks, the question, link to reply in the dashboard"),
        EventDef("order.seller_message", "Message from the shop", T, (E, S, I),
                 must_carry="the shop's message, order number, link to the order page to answer"),
        EventDef("return.requested", "Return requested", T, (E, I), SELLER_CHANNELS,
                 must_carry="return number, items, next step, refund amount"),
        EventDef("return.approved", "Return approved", T, (E, I),
                 must_carry="return number, items, next step (address), refund amount"),
        EventDef("return.received", "Return received", T, (E, I),
                 must_carry="return number, items, next step, refund amount"),
        EventDef("return.refunded", "Return refunded", T, (E, I),
                 must_carry="return number, items, refund amount and when it arrives"),
        EventDef("return.rejected", "Return rejected", T, (E, I),
                 must_carry="return number, items, reason"),
        # One message listing a window's new orders, for a store that takes order.placed as a digest
        # on a channel (notifications.digest); it follows the order.placed toggles, not its own.
        EventDef("order.placed_digest", "New orders digest", T, (), SELLER_CHANNELS, subject=STORE,
                 must_carry="each new order of the period with its total and a link; how many"),
        # The customer corrected the email of an order whose message bounced (the status page):
        # sent to the new address only, which gets the message once the link is followed.
        EventDef("order.contact_confirm", "Confirm a corrected email address", SEC, (E,),
                 must_carry="the order number, the confirm link and when it expires; nothing is resent without it"),
        # --- about a product -------------------------------------------------------------------
        EventDef("stock.low", "Stock running low", SA, (), (E, I), subject=PRODUCT, supplier_channels=(E,),
                 must_carry="product, current stock, average daily sales (30 days), days of cover, "
                            "recommended restock quantity"),
        EventDef("product.back_in_stock", "Back in stock", T, (E, I), subject=PRODUCT,
                 must_carry="product, price, link; one-click stop"),
        # The double opt-in for a guest's back-in-stock alert: sent once per subscription.
        EventDef("product.alert_confirm", "Confirm a back-in-stock alert", T, (E,), subject=PRODUCT,
                 must_carry="product, confirm link; nothing more is sent without it"),
        EventDef("product.updated", "Product updated", MKT, (E,), subject=PRODUCT, supplier_channels=(E,),
                 must_carry="what changed (version, material, design); unsubscribe"),
        # --- a promotion (marketing app): written by the chunked fan-out, not notification_enqueue ---
        EventDef("promotion.launched", "Promotion", MKT, (E, S), subject=PROMOTION,
                 must_carry="discount, start and end, eligible products, code; unsubscribe (SMS: Reply STOP)"),
        # --- about a customer account ----------------------------------------------------------
        EventDef("loyalty.tier_reached", "New loyalty tier", ACC, (E, I), subject=ACCOUNT,
                 must_carry="new tier, points total, benefits"),
        EventDef("loyalty.milestone", "Loyalty milestone", ACC, (E, I), subject=ACCOUNT,
                 must_carry="points total, tier, benefits"),
        EventDef("account.signup_confirm", "Confirm a new account", SEC, (E,), subject=ACCOUNT,
                 must_carry="the link that finishes creating the account, when it expires"),
        EventDef("account.signup_existing", "Sign-up with an address that has an account", SEC, (E,),
                 subject=ACCOUNT, must_carry="that an account already exists, how to sign in or reset the password"),
        EventDef("account.phone_verify", "Phone verification code", SEC, (S,), subject=ACCOUNT,
                 must_carry="the code, how long it works"),
        EventDef("account.password_reset", "Password reset", SEC, (E,), subject=ACCOUNT,
                 must_carry="reset link with its expiry"),
        EventDef("account.suspicious_login", "Sign-in from a new device", SEC, (E, I), subject=ACCOUNT,
                 must_carry="when, IP, device, how to secure the account"),
        EventDef("account.unusual_order", "Unusual order", SEC, (E, I), subject=ACCOUNT,
                 must_carry="large order or new shipping country, what to do if it was not them"),
    ]
}

EVENT_CHOICES = [(code, f"{code} — {e.label}") for code, e in EVENTS.items()]
# Seller alerts a store may take as one digest per window (per channel), and the digest's event code.
DIGEST_EVENTS = {"order.placed": "order.placed_digest"}
DIGEST_MINUTES = (15, 30, 60)
SELLER_EVENTS = [code for code, e in EVENTS.items() if e.seller_channels]
# Customer events about an order (a store brands them with a personal note / discount code).
CUSTOMER_EVENTS = [code for code, e in EVENTS.items() if e.customer_channels and e.subject == SubjectKind.ORDER]
ALL_CUSTOMER_EVENTS = [code for code, e in EVENTS.items() if e.customer_channels]
# Every channel a template may exist for, per audience (defaults ship as files for all of them).
TEMPLATE_CHANNELS = [Channel.EMAIL, Channel.SMS, Channel.WHATSAPP, Channel.PUSH, Channel.INAPP]

# --- Privacy (issue 16): events about a customer's account, not about an order ------------------
# Enqueued by accounts.privacy through outbox.notification_enqueue_account with a context of their
# own (accounts.privacy.account_context). Kept out of CUSTOMER_EVENTS, which lists the order
# messages a store can brand. Security: always sent, by email.
PRIVACY_EVENTS: dict[str, EventDef] = {
    e.code: e
    for e in [
        EventDef("account.data_export_ready", "Your data download is ready", Category.SECURITY, (E, I), subject=ACCOUNT,
                 must_carry="download link and when it expires, how to get a new one"),
        EventDef("account.deletion_requested", "Confirm account deletion", Category.SECURITY, (E,), subject=ACCOUNT,
                 must_carry="confirmation link and when it expires, what is erased and what is kept"),
    ]
}
EVENTS.update(PRIVACY_EVENTS)
EVENT_CHOICES += [(code, f"{code} — {e.label}") for code, e in PRIVACY_EVENTS.items()]


def get_event(code: str) -> EventDef:
    try:
        return EVENTS[code]
    except KeyError:
        raise KeyError(f"Unknown notification event “{code}”. Known: {', '.join(EVENTS)}") from None
