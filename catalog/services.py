"""Writes to the catalog: stock movements and back-in-stock subscriptions.

Stock never goes through read-modify-write in Python: every movement is one conditional
``UPDATE`` so two checkouts racing for the last unit cannot both win (the database
serialises the two updates and re-checks the condition for the second one).
"""
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from . import signals
from .models import BackInStockSubscription, Product


class StockError(Exception):
    """A stock movement that cannot happen. Nothing was changed by it."""


class OutOfStock(StockError):
    """Not enough stock for a product that does not allow backorders."""

    def __init__(self, product: Product, requested: int, available: int):
        self.product, self.requested, self.available = product, requested, max(available, 0)
        if self.available <= 0:
            msg = f"Sorry, “{product.name}” is out of stock."
        else:
            msg = (f"Sorry, only {self.available} of “{product.name}” left "
                   f"(you asked for {requested}). Lower the quantity to continue.")
        super().__init__(msg)


def stock_reserve(*, product_id: int, quantity: int) -> bool:
    """Take ``quantity`` units off the product's stock, atomically.

    Returns True when the units went onto backorder (the product allows backorders and
    did not have enough on hand: stock may go below zero), False when they came from stock.
    Raises OutOfStock (changing nothing) when there is not enough and backorders are off.
    Call it inside the checkout's transaction so a later failure puts the units back.
    """
    if quantity <= 0:
        raise StockError("Quantity must be at least 1.")
    now = timezone.now()
    taken = Product.objects.filter(pk=product_id, active=True, stock_on_hand__gte=quantity).update(
        stock_on_hand=F("stock_on_hand") - quantity, updated_at=now)
    if taken:
        return False
    backordered = Product.objects.filter(pk=product_id, active=True, allow_backorder=True).update(
        stock_on_hand=F("stock_on_hand") - quantity, updated_at=now)
    if backordered:
        return True
    product = Product.objects.get(pk=product_id)
    if not product.active:
        raise StockError(f"Sorry, “{product.name}” is no longer available.")
    raise OutOfStock(product, quantity, product.stock_on_hand)


def stock_release(*, product_id: int, quantity: int) -> None:
    """Put units back (an order cancelled before it shipped, a return restocked)."""
    if quantity <= 0:
        raise StockError("Quantity must be at least 1.")
    Product.objects.filter(pk=product_id).update(stock_on_hand=F("stock_on_hand") + quantity,
                                                 updated_at=timezone.now())


@transaction.atomic
def stock_set(*, product: Product, stock_on_hand: int, actor=None) -> Product:
    """Set the counted stock (a stock take or a delivery from the supplier).

    Sends ``product_restocked`` when the product goes from none to some.
    """
    locked = Product.objects.select_for_update().get(pk=product.pk)
    if stock_on_hand < 0 and not locked.allow_backorder:
        raise StockError(f"Stock for “{locked.name}” cannot be negative (backorders are off).")
    old = locked.stock_on_hand
    locked.stock_on_hand = stock_on_hand
    locked.save(update_fields=["stock_on_hand", "updated_at"])
    product.stock_on_hand = stock_on_hand
    if old <= 0 < stock_on_hand:
        signals.product_restocked.send(sender=Product, product=locked, old_stock=old, new_stock=stock_on_hand,
                                       actor=actor)
    return locked


def back_in_stock_subscribe(*, product: Product, email: str, user=None) -> tuple[BackInStockSubscription, bool]:
    """Ask to be told when the product is back. Returns (subscription, created).

    Asking again with the same email re-arms an alert that was already sent.
    """
    email = email.strip().lower()
    if not email:
        raise ValueError("Enter an email address.")
    sub, created = BackInStockSubscription.objects.get_or_create(
        product=product, email=email, defaults={"user": user if user and user.pk else None})
    if not created and sub.notified_at is not None:
        sub.notified_at = None
        sub.save(update_fields=["notified_at"])
        created = True
    return sub, created


@transaction.atomic
def stock_restock(*, product: Product, quantity: int, actor=None) -> Product:
    """A delivery arrived: add ``quantity`` to the stock on hand (back-in-stock alerts as ``stock_set``)."""
    if quantity <= 0:
        raise StockError("Quantity must be at least 1.")
    locked = Product.objects.select_for_update().get(pk=product.pk)
    return stock_set(product=product, stock_on_hand=locked.stock_on_hand + quantity, actor=actor)
