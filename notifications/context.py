"""The plain dict each template sees, built per event. Never model instances, never the request.

``build_context`` is a pure function of already-loaded objects (a ``Subject``), so the same code
builds real contexts (``load_subject`` reads the database once per event) and the sample contexts
the admin validates and previews templates against (``sample_subject`` uses unsaved instances).
Every value is JSON-safe: the context is stored on the Notification row as what was said.
"""
import datetime
import re
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.urls import NoReverseMatch, reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop

from notify_site import formatting
from orders import links
from orders.payments.hosted import card_is_hosted
from orders.models import Order, OrderLine, Payment, ReturnRequest, Shipment, TrackingEvent
from orders.services import ORDER_RELATED_FOR_MESSAGES

from .events import Audience, get_event

HEX_COLOUR = re.compile(r"^#[0-9A-Fa-f]{6}$")
CURRENCY_SYMBOLS = formatting.CURRENCY_SYMBOLS
# Marked for translation here; catalog.models.Store.sign_off has it as its default.
DEFAULT_SIGN_OFF = gettext_noop("Thanks for shopping with us!")
REFUND_TIMEFRAME = {
    Payment.Method.CARD: gettext_lazy("3–5 working days to reach your card"),
    Payment.Method.COD: gettext_lazy("nothing was charged, so there is nothing to refund"),
}
REFUND_TIMEFRAME_OTHER = gettext_lazy("5–10 working days")
# Event-specific sections: a template may only use what its event provides.
SHIPMENT_EVENTS = {"order.shipped", "shipment.in_transit", "shipment.out_for_delivery", "shipment.delivered",
                   "order.delayed", "shipment.returned"}
CHECKPOINT_EVENTS = {"shipment.in_transit", "shipment.out_for_delivery", "shipment.delivered", "order.delayed",
                     "shipment.returned"}
REFUND_EVENTS = {"order.cancelled", "order.refunded"}
# The keys of ``change`` per event (always present, "" when unknown).
CHANGE_KEYS = {
    "order.placed": ("placed_by",),
    "order.payment_pending": ("amount", "method"),
    "order.payment_failed": ("amount", "method", "reason"),
    "order.payment_reminder": (),
    "order.payment_received": ("amount", "method"),
    "order.processing": ("note",),
    "order.on_hold": ("reason",),
    "order.backordered": ("expected", "items", "note"),
    "order.shipped": (),
    "shipment.in_transit": (),
    "shipment.out_for_delivery": (),
    "shipment.delivered": ("review_invite",),
    "shipment.returned": (),
    "order.delayed": ("old_eta", "new_eta", "reason"),
    "order.cancelled": ("cancelled_by", "reason"),
    "order.refunded": ("note", "amount"),  # amount: set for a partial refund
    "order.sla_breached": ("ship_by", "sla_hours", "escalate_hours"),
    "order.sla_escalated": ("ship_by", "sla_hours", "escalate_hours"),
    "order.customer_question": ("message", "author"),
    "order.seller_message": ("message", "author", "reply"),  # reply: True when it answers a question
    "order.contact_confirm": ("new_email", "confirm_url", "expires"),
}
RETURN_CHANGE_KEYS = ("note",)


def money(amount, currency: str) -> str:
    """In the active language: the context is built with the recipient's language active."""
    return formatting.money(amount, currency)


def day(value) -> str:
    return formatting.day(value)


DEFAULT_TIME_ZONE = "Europe/London"
WHEN_FORMAT = "j M Y, H:i T"
# Where build_context puts the moments it formats: for_recipient writes them again in the
# recipient's own time zone (the worker runs in UTC; a customer in Paris reads Paris time).
TIMES_KEY = "_times"


def when(value, tz=None) -> str:
    """A moment as people read it: '2 Dec 2026, 14:05 GMT' (in ``tz``, else the shop's zone)."""
    if not value:
        return ""
    if isinstance(value, str):
        value = datetime.datetime.fromisoformat(value)
    zone = _zone(tz)
    return formatting.moment(value.astimezone(zone))


def _zone(name):
    import zoneinfo

    try:
        return zoneinfo.ZoneInfo(name or DEFAULT_TIME_ZONE)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo(DEFAULT_TIME_ZONE)


def _remember_times(ctx: dict, moments: dict) -> None:
    """Keep the raw moments ({"order.placed_at": datetime}) so each recipient gets their own zone."""
    ctx[TIMES_KEY] = {path: value.isoformat() if value else "" for path, value in moments.items()}


def recipient_time_zone(user, audience: str, order: Order) -> str:
    zone = getattr(user, "time_zone", "") if user is not None else ""
    if not zone and audience == Audience.CUSTOMER and order.customer_id:
        zone = getattr(order.customer, "time_zone", "")
    return zone or DEFAULT_TIME_ZONE


def absolute(path: str) -> str:
    return settings.SITE_URL + path


def _path(name: str, *args) -> str:
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return ""


def _reverse(name: str, *args) -> str:
    try:
        return absolute(reverse(name, args=args))
    except NoReverseMatch:
        return ""


@dataclass
class Subject:
    """What one event is about, loaded once and shared by every recipient's context."""

    order: Order
    lines: list
    payment: Payment | None = None
    store_message: object = None  # StoreMessageSetting | None
    store_options: object = None  # StoreNotificationOptions (saved or default)
    shipment: Shipment | None = None
    checkpoint: TrackingEvent | None = None
    return_request: ReturnRequest | None = None
    return_lines: list = field(default_factory=list)
    change: dict = field(default_factory=dict)
    settings: object = None  # change_settings.ChangeSettings, read with the subject (None: not read)


def _store(subject: Subject, audience: str) -> dict:
    store = subject.order.store
    logo_url = ""
    if store.logo:
        try:
            logo_url = store.logo.url
        except ValueError:
            logo_url = ""
        if logo_url.startswith("/"):
            logo_url = absolute(logo_url)
    message = subject.store_message if audience == Audience.CUSTOMER else None
    return {
        "name": store.name,
        "sender_name": store.sender_name or store.name,
        "logo_url": logo_url,
        # Goes into CSS: only a well-formed hex colour gets through.
        "accent_colour": store.accent_colour if HEX_COLOUR.match(store.accent_colour or "") else "#1f6feb",
        # The model's default sign-off is ours to translate; a seller's own words are theirs.
        "sign_off": _(DEFAULT_SIGN_OFF) if store.sign_off == DEFAULT_SIGN_OFF else store.sign_off,
        "support_email": store.support_email,
        "personal_note": getattr(message, "personal_note", "") or "",
        "discount_code": getattr(message, "discount_code", "") or "",
    }


def _line(line: OrderLine, currency: str) -> dict:
    return {
        "product": line.product_name,
        "sku": line.sku,
        "quantity": line.quantity,
        "unit_price": money(line.unit_price, currency),
        "line_total": money(line.unit_price * line.quantity, currency),
        "backordered": bool(line.is_backordered),
    }


def _payment(payment: Payment | None, order: Order) -> dict:
    if payment is None:
        return {"method": "", "method_label": _("Not paid yet"), "status": "pending", "status_label": _("Pending"),
                "card_last4": "", "amount": money(order.total, order.currency), "failure_reason": ""}
    return {
        "method": payment.method,
        "method_label": formatting.choice_label(payment, "method"),
        "status": payment.status,
        "status_label": formatting.choice_label(payment, "status"),
        "card_last4": payment.card_last4,
        "amount": money(payment.amount, order.currency),
        "failure_reason": payment.failure_reason,
    }


def _pay_by(subject: Subject):
    """The deadline of an unpaid card order (its payment failed), else None."""
    from orders.unpaid import payment_deadline

    payment = subject.payment
    if payment is None or payment.status != Payment.Status.FAILED:
        return None
    return payment_deadline(subject.order)


def _order(subject: Subject) -> dict:
    order = subject.order
    lines = subject.lines
    return {
        "number": order.number,
        "status": order.status,
        "status_label": formatting.choice_label(order, "status"),
        "placed_at": when(order.placed_at),
        "currency": order.currency,
        "subtotal": money(order.subtotal, order.currency),
        # A promotion code redeemed at checkout (marketing): the discount line of the totals.
        "promo_code": order.promo_code,
        "discount_total": money(order.discount_total, order.currency) if order.discount_total else "",
        "shipping_total": money(order.shipping_total, order.currency),
        "tax_total": money(order.tax_total, order.currency),
        "total": money(order.total, order.currency),
        "shipping_address": order.shipping_address_lines,
        "ship_to": ", ".join(order.shipping_address_lines),
        "shipping_method": formatting.choice_label(order, "shipping_method"),
        "estimated_delivery": day(order.estimated_delivery),
        "is_backordered": bool(order.is_backordered),
        "backorder_expected": day(order.backorder_expected),
        "item_count": sum(line.quantity for line in lines),
        "hold_reason": order.hold_reason,
        "cancel_reason": order.cancel_reason,
        "payment": _payment(subject.payment, order),
        # An unpaid card order is cancelled at this moment (orders.unpaid); "" otherwise.
        "pay_by": when(_pay_by(subject)),
    }


def _links(subject: Subject, audience: str) -> dict:
    order = subject.order
    status = links.status_url(order)
    options = subject.store_options
    review = ""
    if options is not None and options.review_request:
        review = options.review_url or status + "#review"
    return {
        "status": status,
        "dashboard": _reverse("seller:order_detail", order.number) if audience == Audience.SELLER
        else _reverse("admin:orders_order_change", order.pk or 0) if audience == Audience.STAFF else "",
        "shop": _reverse("storefront:product_list") or settings.SITE_URL + "/",
        # With Stripe Checkout, the "pay for this order" page (it opens a fresh payment page);
        # otherwise the status page's pay form, where the card is typed.
        "pay": settings.SITE_URL + links.pay_path(order) if card_is_hosted() else status + "#pay",
        "cancel": status + "#cancel",
        "returns": status + "#returns",
        "review": review,
        # Relative: where the in-app message opens (the customer's or the seller's order page).
        "inbox": (_path("admin:orders_order_change", order.pk or 0) if audience == Audience.STAFF else
                  _path("seller:order_detail" if audience == Audience.SELLER else "accounts:order_detail",
                        order.number)),
    }


def _shipment(subject: Subject) -> dict | None:
    shipment = subject.shipment
    if shipment is None:
        return None
    currency = subject.order.currency
    return {
        "carrier": shipment.carrier_name or shipment.carrier,
        "tracking_number": shipment.tracking_number,
        "tracking_url": shipment.tracking_url,
        "status": shipment.status,
        "status_label": formatting.choice_label(shipment, "status"),
        "eta": day(shipment.eta),
        "delivered_at": when(shipment.delivered_at),
        # One shipment per order here: it carries every line of the order.
        "lines": [_line(line, currency) for line in subject.lines],
    }


def _checkpoint(subject: Subject) -> dict | None:
    event = subject.checkpoint
    if event is None:
        return {"status_label": "", "message": "", "location": "", "occurred_at": ""}
    return {
        "status_label": formatting.choice_label(event, "status"),
        "message": event.message,
        "location": event.location,
        "occurred_at": when(event.occurred_at),
    }


def _refund(subject: Subject) -> dict:
    order, payment = subject.order, subject.payment
    paid = payment is not None and payment.status in (Payment.Status.CAPTURED, Payment.Status.PARTIALLY_REFUNDED,
                                                      Payment.Status.REFUNDED)
    if not paid:
        return {"amount": money(0, order.currency), "method": formatting.choice_label(payment, "method") if payment else "",
                "timeframe": _("nothing was charged, so there is nothing to refund"), "due": False}
    return {
        "amount": money(payment.amount, order.currency),
        "method": _("card ending %(last4)s") % {"last4": payment.card_last4}
        if payment.method == Payment.Method.CARD and payment.card_last4 else formatting.choice_label(payment, "method"),
        "timeframe": str(REFUND_TIMEFRAME.get(payment.method, REFUND_TIMEFRAME_OTHER)),
        "due": True,
    }


RETURN_NEXT_STEP = {
    ReturnRequest.Status.REQUESTED: gettext_lazy("The store will review your request, usually within 2 working days."),
    ReturnRequest.Status.APPROVED: gettext_lazy("Pack the items securely and send them to the return address below."),
    ReturnRequest.Status.RECEIVED: gettext_lazy(
        "We have your parcel; the store is checking the items before refunding."),
    ReturnRequest.Status.REFUNDED: gettext_lazy("Your refund is on its way."),
    ReturnRequest.Status.REJECTED: gettext_lazy(
        "Reply to this message if you would like to discuss it with the store."),
}


def _return(subject: Subject) -> dict:
    rr = subject.return_request
    currency = subject.order.currency
    return {
        "number": rr.number,
        "status": rr.status,
        "status_label": formatting.choice_label(rr, "status"),
        "items": [_line(line, currency) for line in subject.return_lines],
        "refund_amount": money(rr.refund_amount, currency),
        "reason": rr.reason,
        "rejection_reason": rr.rejection_reason,
        "return_address": rr.return_address or subject.order.store.name,
        "next_step": str(RETURN_NEXT_STEP.get(rr.status, "")),
        "refund_timeframe": _refund(subject)["timeframe"] if subject.payment else str(REFUND_TIMEFRAME_OTHER),
    }


def build_context(event_code: str, audience: str, subject: Subject) -> dict:
    """The context shared by every recipient of one audience (see ``for_recipient``)."""
    event = get_event(event_code)
    order = subject.order
    change_keys = RETURN_CHANGE_KEYS if event_code.startswith("return.") else CHANGE_KEYS[event_code]
    ctx = {
        "event": {"code": event.code, "label": event.label},
        "shop": {"name": settings.SHOP_NAME, "url": settings.SITE_URL + "/"},
        "store": _store(subject, audience),
        "recipient": {"first_name": "", "audience": audience},
        "customer": {"first_name": customer_first_name(order), "name": order.shipping_name, "email": order.email},
        "order": _order(subject),
        "lines": [_line(line, order.currency) for line in subject.lines],
        "links": _links(subject, audience),
        "change": {key: subject.change.get(key, "") for key in change_keys},
    }
    localise_change(ctx["change"], order.currency)
    if "cancelled_by" in ctx["change"]:
        ctx["change"]["cancelled_by"] = who_cancelled(ctx["change"]["cancelled_by"], audience, order.store.name)
    if event_code in SHIPMENT_EVENTS:
        ctx["shipment"] = _shipment(subject) or {
            "carrier": "", "tracking_number": "", "tracking_url": "", "status": "", "status_label": "", "eta": "",
            "delivered_at": "", "lines": ctx["lines"]}
    if event_code in CHECKPOINT_EVENTS:
        ctx["checkpoint"] = _checkpoint(subject)
    if event_code in REFUND_EVENTS:
        ctx["refund"] = _refund(subject)
    if event_code.startswith("return."):
        ctx["return"] = _return(subject)
    shipment, checkpoint = subject.shipment, subject.checkpoint
    _remember_times(ctx, {
        "order.placed_at": order.placed_at,
        "order.pay_by": _pay_by(subject),
        **({"shipment.delivered_at": getattr(shipment, "delivered_at", None)} if "shipment" in ctx else {}),
        **({"checkpoint.occurred_at": getattr(checkpoint, "occurred_at", None)} if "checkpoint" in ctx else {}),
    })
    return ctx


ENGLISH_MONEY = re.compile(r"^[−-]?[£€$]?[\d,]+\.\d{2}(?: [A-Z]{3})?$")
DATE_KEYS = ("expected", "old_eta", "new_eta")


def localise_change(change: dict, currency: str) -> None:
    """The receivers name amounts, payment methods and dates in English (one fact for every
    recipient); write them in the active language."""
    amount = change.get("amount")
    if isinstance(amount, str) and ENGLISH_MONEY.match(amount):
        change["amount"] = money(Decimal(re.sub(r"[^\d.]", "", amount)) * (-1 if amount[0] in "−-" else 1), currency)
    method = change.get("method")
    if method:
        with translation.override(settings.LANGUAGE_CODE):
            by_english = {str(m.label): m for m in Payment.Method}
        if method in by_english:
            change["method"] = str(by_english[method].label)
    for key in DATE_KEYS:
        value = change.get(key)
        if isinstance(value, str) and value:
            try:
                change[key] = day(datetime.datetime.strptime(value, "%a %d %b %Y").date())
            except ValueError:
                pass


def who_cancelled(role: str, audience: str, store_name: str) -> str:
    """The actor's role (customer / seller / staff / system) as the recipient should read it."""
    if audience == Audience.CUSTOMER:
        phrases = {"customer": _("you"), "seller": store_name,
                   "staff": _("%(shop)s support") % {"shop": settings.SHOP_NAME},
                   "system": _("us automatically")}
    else:
        phrases = {"customer": "the customer", "seller": "your store", "staff": f"{settings.SHOP_NAME} staff",
                   "system": "the system automatically"}
    return phrases.get(role, role)


def customer_first_name(order: Order) -> str:
    customer = order.customer if order.customer_id else None
    if customer is not None and customer.first_name:
        return customer.first_name
    return (order.shipping_name or "").split(" ")[0]


def for_recipient(ctx: dict, user, audience: str, order: Order) -> dict:
    """A shallow copy with the recipient's own name (the rest is shared)."""
    first_name = ""
    if user is not None:
        first_name = user.first_name or user.username
    if not first_name and audience == Audience.CUSTOMER:
        first_name = customer_first_name(order)
    out = dict(ctx)
    out["recipient"] = {"first_name": first_name, "audience": audience}
    zone = recipient_time_zone(user, audience, order)
    for path, value in (ctx.get(TIMES_KEY) or {}).items():
        section, key = path.split(".", 1)
        if value and isinstance(out.get(section), dict):
            out[section] = {**out[section], key: when(value, zone)}
    return out


# --- loading from the database -----------------------------------------------------------------

def loaded_for_notifying(order: Order) -> bool:
    """The order was locked in this transaction with ORDER_RELATED_FOR_MESSAGES (so it is current)."""
    from django.contrib.auth import get_user_model

    from catalog.models import Store

    if not getattr(order, "_locked_for_notifying", False) or not Order.store.is_cached(order):
        return False
    if not Store.notification_options.is_cached(order.store):
        return False
    if order.customer_id is None:
        return True
    return Order.customer.is_cached(order) and get_user_model().quiet_hours.is_cached(order.customer)


def load_subject(order: Order, event_code: str, *, shipment=None, checkpoint=None, return_request=None,
                 change=None) -> Subject:
    """Everything the templates need about one order, in a fixed handful of queries."""
    from .change_settings import change_settings_load
    from .models import StoreNotificationOptions

    # One query for the order, its store with the store's switches, and the customer with their
    # quiet hours (reverse one-to-ones, LEFT JOINed; a missing row is cached as absent), unless
    # the service making the change locked the order with exactly these (``orders.services.
    # _lock_for_notifying``): then the instance in hand is the current row, already complete.
    if not loaded_for_notifying(order):
        order = Order.objects.select_related(*ORDER_RELATED_FOR_MESSAGES).get(pk=order.pk)
    # The store's note for the event, with the platform's settings for it, in one query (the
    # outbox uses them from ``Subject.settings``); on PostgreSQL the order's lines, its latest
    # payment and the customer's push subscription come in the same statement.
    read_with = change_settings_load(event_code, order.store_id, order_id=order.pk, customer_id=order.customer_id)
    if read_with.lines is not None:
        lines = read_with.lines
    else:
        lines = list(OrderLine.objects.filter(order_id=order.pk).order_by("id"))
    if read_with.payment_read:
        payment = read_with.payment
    else:
        payment = Payment.objects.filter(order_id=order.pk).order_by("-created_at", "-id").first()
    try:
        store_options = order.store.notification_options
    except StoreNotificationOptions.DoesNotExist:
        store_options = StoreNotificationOptions(store_id=order.store_id)
    store_message = read_with.store_message
    return_lines = list(return_request.lines.order_by("id")) if return_request is not None else []
    return Subject(order=order, lines=lines, payment=payment, store_options=store_options,
                   store_message=store_message, shipment=shipment, checkpoint=checkpoint,
                   return_request=return_request, return_lines=return_lines, change=change or {},
                   settings=read_with)


# --- sample data for validation and preview -------------------------------------------------------

def sample_subject(event_code: str) -> Subject:
    """Unsaved, representative objects for ``event_code`` (nothing touches the database)."""
    from catalog.models import Store

    from .models import StoreMessageSetting, StoreNotificationOptions

    store = Store(name="Sample Store", slug="sample-store", accent_colour="#1f6feb",
                  sign_off="Thanks for shopping with us!", sender_name="Sample Store",
                  support_email="help@sample-store.example")
    today = datetime.date(2025, 5, 12)
    order = Order(number="NS-SAMP-LE42", email="ada@example.com", phone="+447700900123", store=store,
                  status="processing", currency="GBP", subtotal=Decimal("37.50"), shipping_total=Decimal("3.99"),
                  tax_total=Decimal("6.92"), total=Decimal("41.49"), shipping_name="Ada Lovelace",
                  shipping_line1="1 Analytical Row", shipping_city="London", shipping_postcode="N1 9GU",
                  shipping_country="GB", shipping_method="standard", estimated_delivery=today + datetime.timedelta(4),
                  backorder_expected=today + datetime.timedelta(10), hold_reason="Checking the delivery address",
                  cancel_reason="Customer changed their mind")
    order.placed_at = datetime.datetime(2025, 5, 12, 9, 30, tzinfo=datetime.UTC)
    lines = [
        OrderLine(order=order, product_name="Linen shirt", sku="SKU-00001", unit_price=Decimal("25.00"),
                  quantity=1, is_backordered=event_code == "order.backordered"),
        OrderLine(order=order, product_name="Wool socks", sku="SKU-00002", unit_price=Decimal("6.25"), quantity=2),
    ]
    payment = Payment(order=order, method="card", status="captured", amount=order.total, card_last4="4242",
                      failure_reason="Card declined by the issuer" if event_code == "order.payment_failed" else "")
    shipment = Shipment(order=order, carrier="royalmail", carrier_name="Royal Mail", tracking_number="RM123456789GB",
                        tracking_url="https://www.royalmail.com/track-your-item#/tracking-results/RM123456789GB",
                        status="in_transit", eta=today + datetime.timedelta(3))
    checkpoint = TrackingEvent(shipment=shipment, dedupe_key="sample", status="in_transit",
                               occurred_at=datetime.datetime(2025, 5, 13, 7, 5, tzinfo=datetime.UTC),
                               message="Arrived at the delivery office", location="London Mail Centre")
    rr = ReturnRequest(order=order, number="RT-SAMPLE42", status=event_code.split(".", 1)[1]
                       if event_code.startswith("return.") else "requested",
                       reason="Too small", refund_amount=Decimal("25.00"),
                       rejection_reason="Worn items cannot be returned",
                       return_address="Sample Store Returns, 2 Dock Road, Bristol BS1 4AA")
    change = {
        "placed_by": "Ada Lovelace (customer)", "amount": "£41.49", "method": "Card",
        "reason": "Card declined by the issuer" if event_code == "order.payment_failed" else "Weather delays",
        "note": "All items checked", "expected": day(today + datetime.timedelta(10)),
        "items": [_line(lines[0], "GBP")], "review_invite": True, "old_eta": day(today + datetime.timedelta(3)),
        "new_eta": day(today + datetime.timedelta(5)), "cancelled_by": "customer",
        "ship_by": "13 May 2025, 16:00 BST", "sla_hours": 24, "escalate_hours": 8,
        "message": ("Could you gift-wrap the shirt? It is a birthday present." if event_code == "order.customer_question"
                    else "Of course: it will go out gift-wrapped tomorrow."),
        "author": "Ada Lovelace" if event_code == "order.customer_question" else "Sam at Sample Store",
        "reply": True,
        "new_email": "ada.lovelace@example.com", "confirm_url": "https://shop.example/account/delivery/confirm/sample/",
        "expires": _("in 2 days"),
    }
    return Subject(
        order=order, lines=lines, payment=payment,
        store_message=StoreMessageSetting(store=store, event=event_code, personal_note="We pack every order by hand.",
                                          discount_code="THANKS10"),
        store_options=StoreNotificationOptions(store=store),
        shipment=shipment if event_code in SHIPMENT_EVENTS else None,
        checkpoint=checkpoint if event_code in CHECKPOINT_EVENTS else None,
        return_request=rr if event_code.startswith("return.") else None,
        return_lines=lines[:1], change=change,
    )


def sample_context(event_code: str, audience: str) -> dict:
    from .events import PRIVACY_EVENTS

    if event_code in PRIVACY_EVENTS:  # about an account, not an order (issue 16)
        from accounts.privacy import account_sample_context

        return account_sample_context(event_code, audience)

    from .events import SubjectKind

    if get_event(event_code).subject != SubjectKind.ORDER:
        from .subjects import sample_context as subject_sample_context

        return subject_sample_context(event_code, audience)
    ctx = build_context(event_code, audience, sample_subject(event_code))
    ctx["recipient"] = {"first_name": "Ada" if audience == Audience.CUSTOMER else "Sam", "audience": audience}
    return ctx
