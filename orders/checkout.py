"""Checkout: turn a cart into one order per store, in one database transaction.

Prices (one rule, used by the cart page, the checkout summary and the orders themselves)
  Product prices and shipping INCLUDE UK VAT at 20%; nothing is added at the till.
  Per order (= per store): subtotal = Σ unit price × quantity; shipping: standard £3.99, free
  when that store's subtotal is £50 or more, express £7.99; total = subtotal + shipping;
  tax_total = the VAT contained in the total = total × 20/120, rounded half-up to the penny.
Delivery estimate
  Working days (Mon–Fri) after the start day: standard 5, express 2. The start day is today,
  or for a backordered order the expected restock date (today + the longest restock lead time,
  in calendar days, of its backordered products).
Stock
  Reserved with one conditional UPDATE per product (catalog.services.stock_reserve), in product
  id order so concurrent checkouts never deadlock. A product short of stock without backorders
  raises OutOfStock and the whole checkout rolls back: no order, no stock change.
Payment
  One Payment per order. The card gateway (orders.payments) is asked per order; a decline leaves
  that order pending with a failed payment and its stock still reserved, so the customer can retry
  (checkout_retry_payment) or switch to cash on delivery. Cash on delivery orders go straight to
  processing (they are fulfilled before payment) with the payment pending until delivery.
"""
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

import phonenumbers
from django.conf import settings
from django.utils.translation import gettext as _
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone

from accounts.models import ConsentRecord
from catalog.models import Product, Store
from catalog.services import OutOfStock, StockError, stock_reserve

from . import signals
from .models import Order, OrderEvent, OrderLine, OrderStatus, Payment, new_order_number
from .payments import ChargeResult, InvalidCardNumber, card_digits, get_gateway
from .services import order_event_add, order_mark_backordered, order_transition, payment_set_status

__all__ = ["CheckoutError", "CheckoutResult", "OutOfStock", "StockError", "cart_quote", "checkout_place",
           "checkout_retry_payment", "estimate_delivery", "price_order"]

VAT_RATE = Decimal("0.20")
PENNY = Decimal("0.01")
FREE_STANDARD_SHIPPING_FROM = Decimal("50.00")
SHIPPING_PRICE = {Order.ShippingMethod.STANDARD: Decimal("3.99"), Order.ShippingMethod.EXPRESS: Decimal("7.99")}
DELIVERY_WORKING_DAYS = {Order.ShippingMethod.STANDARD: 5, Order.ShippingMethod.EXPRESS: 2}
ADDRESS_FIELDS = ("name", "line1", "line2", "city", "postcode", "country")
REQUIRED_ADDRESS_FIELDS = ("name", "line1", "city", "postcode", "country")
MAX_QUANTITY_PER_LINE = 99


class CheckoutError(Exception):
    """Checkout input that cannot be accepted. Nothing was saved."""


# --- pricing ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Totals:
    subtotal: Decimal
    shipping: Decimal
    tax: Decimal
    total: Decimal
    discount: Decimal = Decimal("0.00")  # a promotion code's, off the eligible lines (subtotal is before it)


def shipping_price(*, subtotal: Decimal, method: str) -> Decimal:
    if method == Order.ShippingMethod.STANDARD and subtotal >= FREE_STANDARD_SHIPPING_FROM:
        return Decimal("0.00")
    return SHIPPING_PRICE[method]


def vat_included(gross: Decimal) -> Decimal:
    return (gross * VAT_RATE / (1 + VAT_RATE)).quantize(PENNY, rounding=ROUND_HALF_UP)


def price_order(*, subtotal: Decimal, method: str, discount: Decimal = Decimal("0.00")) -> Totals:
    """Totals of one order; ``discount`` (a promotion code's) comes off before shipping, and free
    standard shipping looks at what is paid for the goods."""
    subtotal = subtotal.quantize(PENNY)
    discount = min(discount, subtotal).quantize(PENNY)
    shipping = shipping_price(subtotal=subtotal - discount, method=method)
    total = subtotal - discount + shipping
    return Totals(subtotal=subtotal, shipping=shipping, tax=vat_included(total), total=total, discount=discount)


def promotion_discounts(code: str, lines) -> tuple[object, dict[int, Decimal]]:
    """(the promotion, {product id: discount}) for a code and ``lines`` = [(product id, line total)].
    Raises CheckoutError saying why a code does not work (unknown, not yet, expired, nothing eligible)."""
    from django.core.exceptions import ValidationError

    from marketing.services import line_discounts, promotion_for_code

    try:
        promotion = promotion_for_code(code)
    except ValidationError as exc:
        raise CheckoutError(" ".join(exc.messages)) from exc
    discounts = line_discounts(promotion, lines)
    if not discounts:
        raise CheckoutError(f"The code {promotion.code} does not apply to anything in your cart.")
    return promotion, discounts


def add_working_days(start: date, days: int) -> date:
    current = start
    while days > 0:
        current += timedelta(days=1)
        if current.weekday() < 5:
            days -= 1
    return current


def estimate_delivery(*, method: str, start: date) -> date:
    return add_working_days(start, DELIVERY_WORKING_DAYS[method])


# --- cart quote ---------------------------------------------------------------------------

@dataclass
class QuoteLine:
    product: Product
    quantity: int

    @property
    def line_total(self) -> Decimal:
        return self.product.price * self.quantity

    @property
    def will_backorder(self) -> bool:
        return self.product.allow_backorder and self.product.stock_on_hand < self.quantity

    @property
    def problem(self) -> str:
        """Why this line cannot be bought as it stands ('' when it can)."""
        product = self.product
        if not product.active:
            return "No longer available: remove it to continue."
        if not product.allow_backorder and product.stock_on_hand < self.quantity:
            if product.stock_on_hand <= 0:
                return "Out of stock: remove it to continue."
            return f"Only {product.stock_on_hand} left: lower the quantity to continue."
        return ""


@dataclass
class StoreQuote:
    store: Store
    lines: list[QuoteLine]
    totals: Totals


@dataclass
class CartQuote:
    groups: list[StoreQuote] = field(default_factory=list)
    missing_product_ids: list[int] = field(default_factory=list)
    promo_code: str = ""
    promo_error: str = ""

    @property
    def count(self) -> int:
        return sum(line.quantity for group in self.groups for line in group.lines)

    @property
    def is_empty(self) -> bool:
        return not self.groups

    @property
    def problems(self) -> list[str]:
        return [f"{line.product.name}: {line.problem}" for g in self.groups for line in g.lines if line.problem]

    def _sum(self, attr: str) -> Decimal:
        return sum((getattr(g.totals, attr) for g in self.groups), start=Decimal("0.00"))

    @property
    def subtotal(self) -> Decimal:
        return self._sum("subtotal")

    @property
    def shipping(self) -> Decimal:
        return self._sum("shipping")

    @property
    def tax(self) -> Decimal:
        return self._sum("tax")

    @property
    def discount(self) -> Decimal:
        return self._sum("discount")

    @property
    def total(self) -> Decimal:
        return self._sum("total")

    def with_method(self, method: str) -> "CartQuote":
        """The same cart priced for another shipping method (no queries)."""
        return CartQuote(
            groups=[StoreQuote(store=g.store, lines=g.lines,
                               totals=price_order(subtotal=g.totals.subtotal, method=method,
                                                  discount=g.totals.discount)) for g in self.groups],
            missing_product_ids=self.missing_product_ids, promo_code=self.promo_code, promo_error=self.promo_error)


def cart_quote(items: dict[int, int], *, shipping_method: str = Order.ShippingMethod.STANDARD,
               promo_code: str = "") -> CartQuote:
    """Price a cart ({product id: quantity}) grouped by store, with the same rules as checkout (one
    query; a promotion code adds its own two)."""
    products = Product.objects.select_related("store").in_bulk(list(items))
    quote = CartQuote(missing_product_ids=[pid for pid in items if pid not in products])
    discounts: dict[int, Decimal] = {}
    if promo_code and products:
        try:
            promotion, discounts = promotion_discounts(
                promo_code, [(pid, products[pid].price * qty) for pid, qty in items.items() if pid in products])
            quote.promo_code = promotion.code
        except CheckoutError as exc:
            quote.promo_error = str(exc)
    by_store: dict[int, list[QuoteLine]] = defaultdict(list)
    for pid, qty in items.items():
        if pid in products:
            by_store[products[pid].store_id].append(QuoteLine(product=products[pid], quantity=qty))
    for lines in sorted(by_store.values(), key=lambda ls: ls[0].product.store.name):
        lines.sort(key=lambda line: line.product.name)
        subtotal = sum((line.line_total for line in lines), start=Decimal("0.00"))
        discount = sum((discounts.get(line.product.pk, Decimal("0.00")) for line in lines), start=Decimal("0.00"))
        quote.groups.append(StoreQuote(store=lines[0].product.store, lines=lines,
                                       totals=price_order(subtotal=subtotal, method=shipping_method,
                                                          discount=discount)))
    return quote


# --- placing ------------------------------------------------------------------------------

@dataclass
class CheckoutResult:
    orders: list[Order]
    payment_ok: bool
    error: str = ""
    hosted: bool = False  # the card is paid on the gateway's hosted page (orders.payments.hosted)

    @property
    def checkout_id(self):
        return self.orders[0].checkout_id if self.orders else None


def _clean_email(email: str) -> str:
    email = (email or "").strip()
    try:
        validate_email(email)
    except ValidationError as exc:
        raise CheckoutError(_("Enter a valid email address for your order updates.")) from exc
    return email


def _clean_address(address: dict) -> dict:
    cleaned = {key: str(address.get(key) or "").strip() for key in ADDRESS_FIELDS}
    missing = [key for key in REQUIRED_ADDRESS_FIELDS if not cleaned[key]]
    if missing:
        raise CheckoutError(_("The delivery address is missing: %(fields)s.") % {"fields": ", ".join(missing)})
    cleaned["country"] = cleaned["country"].upper()
    if len(cleaned["country"]) != 2:
        raise CheckoutError(_("Country must be a two-letter code such as GB."))
    return cleaned


def _clean_phone(phone) -> str:
    raw = str(phone or "").strip()
    if not raw:
        return ""
    try:
        parsed = phonenumbers.parse(raw, settings.PHONENUMBER_DEFAULT_REGION)
    except phonenumbers.NumberParseException as exc:
        raise CheckoutError(_("Enter a valid phone number, e.g. +447911123456.")) from exc
    if not phonenumbers.is_valid_number(parsed):
        raise CheckoutError(_("Enter a valid phone number, e.g. +447911123456."))
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def _clean_items(items: dict) -> dict[int, int]:
    cleaned = {}
    for pid, qty in (items or {}).items():
        pid, qty = int(pid), int(qty)
        if qty < 1 or qty > MAX_QUANTITY_PER_LINE:
            raise CheckoutError(_("Quantities must be between 1 and %(max)s.") % {"max": MAX_QUANTITY_PER_LINE})
        cleaned[pid] = qty
    if not cleaned:
        raise CheckoutError(_("Your cart is empty."))
    return cleaned


def _card(payment_method: str, card_number: str, *, hosted: bool = False) -> str:
    if payment_method not in (Payment.Method.CARD, Payment.Method.COD):
        raise CheckoutError(_("Choose a payment method."))
    if payment_method != Payment.Method.CARD or hosted:  # hosted: the card is typed on the gateway's page
        return ""
    try:
        return card_digits(card_number)
    except InvalidCardNumber as exc:
        raise CheckoutError(str(exc)) from exc


def _charge(*, gateway, digits: str, amount: Decimal, currency: str, number: str) -> ChargeResult | None:
    """Charge the card for one order. Runs OUTSIDE any transaction (a real gateway is a network call)."""
    if not digits:
        return None
    return gateway.charge(amount=amount, currency=currency, card_number=digits, description=f"Order {number}")


def _refund_charges(gateway, charges: dict[str, ChargeResult], amounts: dict[str, Decimal], currency: str) -> None:
    """Give back card charges whose orders were not recorded (stock ran out, or paid meanwhile)."""
    for number, result in charges.items():
        if result is not None and result.captured:
            gateway.refund(reference=result.reference, amount=amounts[number], currency=currency)


def _record_payment(*, order: Order, payment_method: str, digits: str, result: ChargeResult | None,
                    at_checkout: bool = True) -> ChargeResult:
    """Record the order's Payment with the gateway's answer (or as cash on delivery); no I/O here.

    The move to processing is the system's doing (actor "payment gateway" / "system"). At checkout
    it is flagged at_checkout so the notification engine knows order.placed already told the
    customer; a later payment (a retry) is not, so the customer hears "payment confirmed".
    """
    # The gateway's reference is kept from the start: an asynchronous gateway's webhook finds it by it.
    payment = Payment.objects.create(order=order, method=payment_method, amount=order.total,
                                     card_last4=digits[-4:] if digits else "",
                                     reference=result.reference if result is not None else "")
    if payment_method == Payment.Method.COD:
        order_transition(order=order, to=OrderStatus.PROCESSING, actor="system", at_checkout=at_checkout,
                         note="Cash on delivery: payment is collected when the parcel arrives")
        return ChargeResult(status="pending")
    if result.status == Payment.Status.CAPTURED:
        payment_set_status(payment=payment, to=Payment.Status.CAPTURED, actor="payment gateway",
                           reference=result.reference)
        order_transition(order=order, to=OrderStatus.PROCESSING, actor="payment gateway", note="Payment captured",
                         at_checkout=at_checkout)
    elif result.status == Payment.Status.FAILED:
        payment_set_status(payment=payment, to=Payment.Status.FAILED, actor="payment gateway",
                           reason=result.error or "Payment failed", reference=result.reference)
    # "pending": an asynchronous gateway confirms later through its webhook.
    return result


def checkout_place(*, customer, email: str, items: dict[int, int], address: dict, shipping_method: str,
                   payment_method: str, card_number: str = "", phone: str = "", sms_opt_in: bool = False,
                   marketing_opt_in: bool = False, ip: str | None = None, promo_code: str = "",
                   language: str = "", whatsapp_opt_in: bool = False) -> CheckoutResult:
    """Place one order per store for ``items`` ({product id: quantity}), pay, and return the orders.

    Raises CheckoutError (or its stock counterpart OutOfStock, naming the product) with nothing
    saved when the input is bad or stock is short. A declined card is NOT an exception: the
    orders stay pending with a failed payment and ``payment_ok`` is False.
    """
    email = _clean_email(email)
    # The language every message about these orders is written in (a guest's too); a signed-in
    # customer's choice becomes their account's language.
    language = language if language in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE
    address = _clean_address(address)
    phone = _clean_phone(phone)
    if sms_opt_in and not phone:
        raise CheckoutError(_("Enter a mobile number to get order updates by SMS."))
    if whatsapp_opt_in and not phone:
        raise CheckoutError(_("Enter a mobile number to get order updates by WhatsApp."))
    if shipping_method not in Order.ShippingMethod.values:
        raise CheckoutError(_("Choose a shipping method."))
    gateway = get_gateway() if payment_method == Payment.Method.CARD else None
    hosted = bool(getattr(gateway, "hosted", False))
    digits = _card(payment_method, card_number, hosted=hosted)
    items = _clean_items(items)
    customer = customer if customer is not None and getattr(customer, "is_authenticated", False) else None
    if customer is not None and customer.language != language:
        customer.language = language
        customer.save(update_fields=["language"])
    actor = customer or "guest"
    gateway = gateway if digits else None
    checkout_id = uuid.uuid4()
    today = timezone.localdate()
    errors: list[str] = []

    # Read and price outside the transaction, charge the cards, then record everything in one
    # transaction that takes the stock; if that fails, the charges are refunded. No network
    # call ever runs while rows are locked.
    products = Product.objects.select_related("store").in_bulk(list(items))
    for pid in items:
        if pid not in products or not products[pid].active:
            name = products[pid].name if pid in products else "An item in your cart"
            raise CheckoutError(_("Sorry, “%(name)s” is no longer available. Remove it to continue.") % {"name": name})
    by_store: dict[int, list[Product]] = defaultdict(list)
    for pid in sorted(items):
        by_store[products[pid].store_id].append(products[pid])
    discounts: dict[int, Decimal] = {}
    code = ""
    if (promo_code or "").strip():
        # Once per order: one code, checked against its dates and the lines it covers.
        promotion, discounts = promotion_discounts(promo_code, [(pid, products[pid].price * q) for pid, q in items.items()])
        code = promotion.code
    plans = []
    for store_id in sorted(by_store):
        subtotal = sum((p.price * items[p.pk] for p in by_store[store_id]), start=Decimal("0.00"))
        discount = sum((discounts.get(p.pk, Decimal("0.00")) for p in by_store[store_id]), start=Decimal("0.00"))
        plans.append((store_id, new_order_number(), price_order(subtotal=subtotal, method=shipping_method,
                                                                 discount=discount)))
    currency = settings.SHOP_CURRENCY
    charges = {number: _charge(gateway=gateway, digits=digits, amount=totals.total, currency=currency, number=number)
               for _, number, totals in plans}
    amounts = {number: totals.total for _, number, totals in plans}

    try:
        with transaction.atomic():
            # Product id order: two checkouts lock the same rows in the same order (no deadlock).
            backordered = {pid: stock_reserve(product_id=pid, quantity=items[pid]) for pid in sorted(items)}
            orders = []
            for store_id, number, totals in plans:
                store_products = by_store[store_id]
                late = [p for p in store_products if backordered[p.pk]]
                expected = today + timedelta(days=max(p.restock_lead_days for p in late)) if late else None
                order = Order.objects.create(
                    number=number, customer=customer, email=email, phone=phone, sms_opt_in=sms_opt_in,
                    language=language,
                    whatsapp_opt_in=whatsapp_opt_in,
                    store_id=store_id, checkout_id=checkout_id, status=OrderStatus.PENDING, currency=currency,
                    subtotal=totals.subtotal, shipping_total=totals.shipping, tax_total=totals.tax,
                    total=totals.total, discount_total=totals.discount, promo_code=code if totals.discount else "", shipping_name=address["name"], shipping_line1=address["line1"],
                    shipping_line2=address["line2"], shipping_city=address["city"],
                    shipping_postcode=address["postcode"], shipping_country=address["country"],
                    shipping_method=shipping_method,
                    estimated_delivery=estimate_delivery(method=shipping_method, start=expected or today),
                )
                lines = OrderLine.objects.bulk_create([
                    OrderLine(order=order, product=p, product_name=p.name, sku=p.sku, unit_price=p.price,
                              quantity=items[p.pk])
                    for p in store_products
                ])
                event = order_event_add(
                    order=order, kind=OrderEvent.Kind.PLACED, actor=actor, to_status=OrderStatus.PENDING,
                    note=f"{len(lines)} item line(s), total {order.total} {order.currency}",
                    data={"checkout_id": str(checkout_id), "total": str(order.total),
                          "payment_method": payment_method},
                )
                signals.order_placed.send(sender=Order, order=order, event=event, actor=actor)
                if late:
                    late_ids = {p.pk for p in late}
                    order_mark_backordered(
                        order=order, expected=expected, actor="system",
                        lines=[line for line in lines if line.product_id in late_ids],
                        note="Ordered past the stock on hand: ships when the restock arrives",
                    )
                orders.append(order)

            if marketing_opt_in:
                ConsentRecord.objects.create(user=customer, email=email, kind=ConsentRecord.Kind.MARKETING_EMAIL,
                                             granted=True, source="checkout", ip_address=ip or None)
            if sms_opt_in:
                ConsentRecord.objects.create(user=customer, email=email, kind=ConsentRecord.Kind.SMS_UPDATES,
                                             granted=True, source="checkout", ip_address=ip or None)
            if whatsapp_opt_in:
                ConsentRecord.objects.create(user=customer, email=email, kind=ConsentRecord.Kind.WHATSAPP_UPDATES,
                                             granted=True, source="checkout", ip_address=ip or None)

            for order in orders:
                # Hosted: a pending card payment; the view opens the payment page (orders.payments.hosted).
                result = _record_payment(order=order, payment_method=payment_method, digits=digits,
                                         result=charges[order.number] or (ChargeResult(status="pending")
                                                                          if hosted else None))
                if result.status == Payment.Status.FAILED:
                    errors.append(result.error or "Payment failed")
    except Exception:
        _refund_charges(gateway, charges, amounts, currency)
        raise

    return CheckoutResult(orders=orders, payment_ok=not errors, error=errors[0] if errors else "",
                          hosted=hosted)


def orders_awaiting_payment(orders) -> list[Order]:
    """Orders of a checkout that are still pending and have no captured or open payment."""
    waiting = []
    for order in orders:
        payments = list(order.payments.all())
        if order.status == OrderStatus.PENDING and not any(
                p.status in (Payment.Status.CAPTURED, Payment.Status.PENDING) for p in payments):
            waiting.append(order)
    return waiting


def checkout_retry_payment(*, orders, payment_method: str, card_number: str = "") -> CheckoutResult:
    """Pay again for the orders of a checkout whose card was declined (stock is still reserved).

    Each attempt is a new Payment row, so the failed one stays in the history. The card is
    charged before the transaction; a charge for an order that was paid meanwhile is refunded.
    """
    if payment_method == Payment.Method.CARD and getattr(get_gateway(), "hosted", False):
        raise CheckoutError("Card payments are made on the secure payment page: use “Pay now”.")
    digits = _card(payment_method, card_number)
    gateway = get_gateway() if digits else None
    pks = [o.pk for o in orders]
    waiting = orders_awaiting_payment(list(Order.objects.filter(pk__in=pks).prefetch_related("payments")))
    if not waiting:
        raise CheckoutError(_("These orders have nothing left to pay."))
    charges = {o.number: _charge(gateway=gateway, digits=digits, amount=o.total, currency=o.currency, number=o.number)
               for o in waiting}
    amounts = {o.number: o.total for o in waiting}
    currency = waiting[0].currency
    errors: list[str] = []
    try:
        with transaction.atomic():
            locked = list(Order.objects.select_for_update().filter(pk__in=pks).order_by("pk"))
            still = {o.number for o in orders_awaiting_payment(locked)}
            for order in locked:
                if order.number in still and order.number in charges:
                    result = _record_payment(order=order, payment_method=payment_method, digits=digits,
                                             result=charges.pop(order.number), at_checkout=False)
                    if result.status == Payment.Status.FAILED:
                        errors.append(result.error or "Payment failed")
    except Exception:
        _refund_charges(gateway, charges, amounts, currency)
        raise
    _refund_charges(gateway, charges, amounts, currency)  # charged, but paid by someone else meanwhile
    return CheckoutResult(orders=locked, payment_ok=not errors, error=errors[0] if errors else "")
