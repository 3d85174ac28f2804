"""Inventory: restocks and stock counts with their timeline, the restock recommendation, the
low-stock alert's arming, back-in-stock subscriptions (double opt-in, who is told on a restock)
and recorded product updates.

Every change writes a ``ProductEvent`` (who, when, before, after) and sends one signal from
``catalog.signals``; notifications.receivers_subjects turns it into ``stock.low``,
``product.back_in_stock``, ``product.alert_confirm`` or ``product.updated`` through the outbox.
"""
import datetime
import math
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import F, Sum
from django.utils import timezone, translation

from . import signals
from .models import BackInStockSubscription, Product, ProductEvent
from .services import StockError

SALES_WINDOW_DAYS = 30
# Orders that did not sell anything: excluded from the sales rate.
NOT_SALES = ("cancelled",)


class InventoryError(StockError):
    """A stock change that cannot happen. Nothing was changed by it."""


def _actor_label(actor) -> str:
    if actor is None:
        return "system"
    if isinstance(actor, str):
        return actor
    return actor.get_full_name() or actor.get_username()


# --- the recommendation --------------------------------------------------------------------------

def units_sold(product_ids, *, now=None, days: int = SALES_WINDOW_DAYS) -> dict[int, int]:
    """{product id: units on orders placed in the last ``days`` days}, one query."""
    from orders.models import OrderLine

    since = (now or timezone.now()) - datetime.timedelta(days=days)
    rows = (OrderLine.objects.filter(product_id__in=list(product_ids), order__placed_at__gte=since)
            .exclude(order__status__in=NOT_SALES).values("product_id").annotate(units=Sum("quantity")))
    return {row["product_id"]: int(row["units"] or 0) for row in rows}


def recommendation(product: Product, *, sold: int, safety_days: int, days: int = SALES_WINDOW_DAYS) -> dict:
    """The restock recommendation with every input it came from, so a seller can check it:

    average daily sales = units sold in the window / days
    days of cover       = stock on hand / average daily sales (None when nothing sold)
    recommended         = ceil(average daily sales × (lead time + safety stock days)) − stock on hand, ≥ 0
    """
    average = (Decimal(sold) / Decimal(days)) if days else Decimal(0)
    stock = product.stock_on_hand
    cover = None
    if average > 0:
        cover = (Decimal(max(stock, 0)) / average).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    lead = product.restock_lead_days
    target = math.ceil(average * (lead + safety_days)) if average > 0 else 0
    return {
        "current": stock, "threshold": product.low_stock_threshold, "units_sold": sold, "window_days": days,
        "average_daily_sales": average.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP), "days_of_cover": cover,
        "lead_days": lead, "safety_days": safety_days, "recommended_quantity": max(0, target - stock),
    }


def product_recommendation(product: Product, *, now=None) -> dict:
    sold = units_sold([product.pk], now=now).get(product.pk, 0)
    return recommendation(product, sold=sold, safety_days=product.store.safety_stock_days)


# --- stock movements -------------------------------------------------------------------------------

def stock_check_low(*, product_id: int, before: int | None = None) -> ProductEvent | None:
    """After stock went down from ``before``: if that crossed the threshold (above it before, at or
    below it now) while the alert is armed, disarm it (one conditional UPDATE, so two checkouts
    cannot both fire it) and send ``stock_low``. ``before=None``: the threshold itself moved."""
    crossing = Product.objects.filter(pk=product_id, low_stock_armed=True,
                                      stock_on_hand__lte=F("low_stock_threshold"))
    if before is not None:
        crossing = crossing.filter(low_stock_threshold__lt=before)
    fired = crossing.update(low_stock_armed=False)
    if not fired:
        return None
    product = Product.objects.select_related("store").get(pk=product_id)
    figures = product_recommendation(product)
    event = ProductEvent.objects.create(product=product, kind=ProductEvent.Kind.LOW_STOCK, actor_label="system",
                                        stock_before=product.stock_on_hand, stock_after=product.stock_on_hand,
                                        data={"threshold": product.low_stock_threshold})
    signals.stock_low.send(sender=Product, product=product, event=event, figures=figures)
    return event


def _rearm(product_id: int) -> None:
    Product.objects.filter(pk=product_id, low_stock_armed=False,
                           stock_on_hand__gt=F("low_stock_threshold")).update(low_stock_armed=True)


def _after_increase(*, product: Product, old: int, event: ProductEvent, actor) -> None:
    """Re-arm the low-stock alert and tell the customers waiting for it (oldest first, at most
    units × BACK_IN_STOCK_FACTOR; the rest on the next restock)."""
    _rearm(product.pk)
    if product.stock_on_hand <= 0:
        return
    subscriptions = back_in_stock_take(product=product, units=product.stock_on_hand)
    if old <= 0 or subscriptions:
        signals.product_restocked.send(sender=Product, product=product, old_stock=old,
                                       new_stock=product.stock_on_hand, actor=actor, event=event,
                                       subscriptions=subscriptions)


@transaction.atomic
def stock_restock(*, product: Product, quantity: int, actor=None, note: str = "") -> ProductEvent:
    """A delivery arrived: add ``quantity`` units, record who and when."""
    if not isinstance(quantity, int) or quantity <= 0:
        raise InventoryError("Restock at least 1 unit.")
    if quantity > 100000:
        raise InventoryError("That is more than 100,000 units at once; check the number.")
    locked = Product.objects.select_for_update().select_related("store").get(pk=product.pk)
    old = locked.stock_on_hand
    locked.stock_on_hand = old + quantity
    locked.save(update_fields=["stock_on_hand", "updated_at"])
    event = ProductEvent.objects.create(product=locked, kind=ProductEvent.Kind.RESTOCK, actor=_user(actor),
                                        actor_label=_actor_label(actor), stock_before=old,
                                        stock_after=locked.stock_on_hand, note=note[:500], data={"added": quantity})
    _after_increase(product=locked, old=old, event=event, actor=actor)
    product.stock_on_hand = locked.stock_on_hand
    return event


def _user(actor):
    return actor if getattr(actor, "pk", None) else None


@transaction.atomic
def stock_count(*, product: Product, stock_on_hand: int, actor=None, note: str = "") -> ProductEvent:
    """A stock take: set the counted stock, record who and when."""
    locked = Product.objects.select_for_update().select_related("store").get(pk=product.pk)
    if stock_on_hand < 0 and not locked.allow_backorder:
        raise InventoryError(f"Stock for “{locked.name}” cannot be negative (backorders are off).")
    old = locked.stock_on_hand
    locked.stock_on_hand = stock_on_hand
    locked.save(update_fields=["stock_on_hand", "updated_at"])
    event = ProductEvent.objects.create(product=locked, kind=ProductEvent.Kind.COUNT, actor=_user(actor),
                                        actor_label=_actor_label(actor), stock_before=old, stock_after=stock_on_hand,
                                        note=note[:500])
    if stock_on_hand > old:
        _after_increase(product=locked, old=old, event=event, actor=actor)
    else:
        stock_check_low(product_id=locked.pk, before=old)
    product.stock_on_hand = stock_on_hand
    return event


@transaction.atomic
def stock_settings_set(*, product: Product, low_stock_threshold: int | None = None,
                       restock_lead_days: int | None = None, actor=None) -> Product:
    """Change the alert threshold / lead time. A threshold now above the stock fires the alert."""
    locked = Product.objects.select_for_update().get(pk=product.pk)
    before = {"low_stock_threshold": locked.low_stock_threshold, "restock_lead_days": locked.restock_lead_days}
    for name, value in (("low_stock_threshold", low_stock_threshold), ("restock_lead_days", restock_lead_days)):
        if value is None:
            continue
        if value < 0 or value > 10000:
            raise InventoryError(f"{name.replace('_', ' ').capitalize()} must be between 0 and 10,000.")
        setattr(locked, name, value)
    locked.save(update_fields=["low_stock_threshold", "restock_lead_days", "updated_at"])
    after = {"low_stock_threshold": locked.low_stock_threshold, "restock_lead_days": locked.restock_lead_days}
    if after != before:
        ProductEvent.objects.create(product=locked, kind=ProductEvent.Kind.SETTINGS, actor=_user(actor),
                                    actor_label=_actor_label(actor), stock_before=locked.stock_on_hand,
                                    stock_after=locked.stock_on_hand, data={"before": before, "after": after})
    _rearm(locked.pk)
    if locked.stock_on_hand > before["low_stock_threshold"]:  # it was not low under the old threshold
        stock_check_low(product_id=locked.pk)
    product.low_stock_threshold, product.restock_lead_days = locked.low_stock_threshold, locked.restock_lead_days
    return locked


# --- back in stock -------------------------------------------------------------------------------

def back_in_stock_factor() -> int:
    return max(1, int(getattr(settings, "BACK_IN_STOCK_FACTOR", 3)))


def back_in_stock_take(*, product: Product, units: int) -> list[BackInStockSubscription]:
    """Pick the confirmed, not yet notified subscriptions to tell now (oldest first, at most
    units × factor) and mark them notified, in the restock's transaction: each subscription is
    told once, and a second restock does not tell them again."""
    limit = max(0, units) * back_in_stock_factor()
    if limit == 0:
        return []
    chosen = list(BackInStockSubscription.objects.select_for_update(of=("self",))
                  .filter(product_id=product.pk, notified_at__isnull=True, confirmed_at__isnull=False)
                  .select_related("user").order_by("created_at", "id")[:limit])
    if chosen:
        BackInStockSubscription.objects.filter(pk__in=[s.pk for s in chosen]).update(notified_at=timezone.now())
    return chosen


@transaction.atomic
def back_in_stock_subscribe(*, product: Product, email: str, user=None,
                            language: str = "") -> tuple[BackInStockSubscription, bool]:
    """Ask to be told when the product is back. Returns (subscription, created).

    A signed-in customer's own address is confirmed at once; any other address gets one
    confirmation email (``product.alert_confirm``) and counts only once confirmed, so the form
    cannot be used to mail strangers. Asking again re-arms an alert that was already sent.
    """
    email = (email or "").strip().lower()
    if not email:
        raise ValueError("Enter an email address.")
    own = user is not None and getattr(user, "pk", None) and user.email.strip().lower() == email
    # The page's language (the alert and its confirmation are written in it; a guest has no account).
    language = language or translation.get_language() or settings.LANGUAGE_CODE
    language = language if language in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE
    sub, created = BackInStockSubscription.objects.get_or_create(
        product=product, email=email, defaults={"user": user if own else None, "language": language,
                                                "confirmed_at": timezone.now() if own else None})
    if not created and sub.notified_at is not None:
        sub.notified_at = None
        sub.save(update_fields=["notified_at"])
        created = True
    if sub.confirmed_at is None and own:
        sub.confirmed_at, sub.user = timezone.now(), user
        sub.save(update_fields=["confirmed_at", "user"])
    if sub.confirmed_at is None:
        signals.stock_alert_requested.send(sender=BackInStockSubscription, subscription=sub, product=product)
    return sub, created


def back_in_stock_confirm(*, subscription_id: int) -> BackInStockSubscription | None:
    sub = BackInStockSubscription.objects.select_related("product", "product__store").filter(
        pk=subscription_id).first()
    if sub is not None and sub.confirmed_at is None:
        sub.confirmed_at = timezone.now()
        sub.save(update_fields=["confirmed_at"])
    return sub


def back_in_stock_stop(*, subscription_id: int) -> BackInStockSubscription | None:
    """One-click stop: the subscription is gone (asking again on the product page starts over)."""
    sub = BackInStockSubscription.objects.select_related("product", "product__store").filter(
        pk=subscription_id).first()
    if sub is not None:
        BackInStockSubscription.objects.filter(pk=sub.pk).delete()
    return sub


# --- product updates -------------------------------------------------------------------------------

UPDATE_KINDS = {"version": "New version", "material": "New material", "design": "New design", "other": "Changed"}


@transaction.atomic
def product_record_update(*, product: Product, kind: str, note: str, actor=None) -> ProductEvent:
    """A seller or admin records a change to a product (new version, material, design) with a
    short note: its past buyers who agreed to marketing, and its supplier, are told."""
    note = (note or "").strip()
    if kind not in UPDATE_KINDS:
        raise InventoryError("Choose what changed: version, material, design or other.")
    if not note:
        raise InventoryError("Say in a sentence what changed.")
    if len(note) > 300:
        raise InventoryError("Keep the note under 300 characters.")
    product = Product.objects.select_related("store").get(pk=product.pk)
    event = ProductEvent.objects.create(product=product, kind=ProductEvent.Kind.UPDATED, actor=_user(actor),
                                        actor_label=_actor_label(actor), note=note,
                                        data={"kind": kind, "what": UPDATE_KINDS[kind]})
    signals.product_updated.send(sender=Product, product=product, event=event, what=UPDATE_KINDS[kind], note=note)
    return event
