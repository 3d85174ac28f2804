"""Writes to the catalog: stock movements and back-in-stock subscriptions.

Stock never goes through read-modify-write in Python: every movement is one conditional
``UPDATE`` so two checkouts racing for the last unit cannot both win (the database
serialises the two updates and re-checks the condition for the second one).
"""
from django.db import transaction
from django.db.models import F
from django.utils import timezone

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
        stock_check_low(product_id=product_id, quantity=quantity)
        return False
    backordered = Product.objects.filter(pk=product_id, active=True, allow_backorder=True).update(
        stock_on_hand=F("stock_on_hand") - quantity, updated_at=now)
    if backordered:
        stock_check_low(product_id=product_id, quantity=quantity)
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


def stock_set(*, product: Product, stock_on_hand: int, actor=None) -> Product:
    """Set the counted stock (a stock take or a delivery from the supplier); see
    ``catalog.inventory.stock_count`` (timeline row, low-stock arming, back-in-stock alerts)."""
    from .inventory import stock_count

    stock_count(product=product, stock_on_hand=stock_on_hand, actor=actor)
    return Product.objects.get(pk=product.pk)


def stock_check_low(*, product_id: int, quantity: int):
    """``quantity`` units were just taken: the low-stock alert fires if that crossed the threshold."""
    from .inventory import stock_check_low as check

    return check(product_id=product_id, before=F("stock_on_hand") + quantity)


def back_in_stock_subscribe(*, product: Product, email: str, user=None) -> tuple[BackInStockSubscription, bool]:
    """See ``catalog.inventory.back_in_stock_subscribe`` (double opt-in for other addresses)."""
    from .inventory import back_in_stock_subscribe as subscribe

    return subscribe(product=product, email=email, user=user)


@transaction.atomic
def stock_restock(*, product: Product, quantity: int, actor=None) -> Product:
    """A delivery arrived: add ``quantity`` to the stock on hand (back-in-stock alerts as ``stock_set``)."""
    if quantity <= 0:
        raise StockError("Quantity must be at least 1.")
    locked = Product.objects.select_for_update().get(pk=product.pk)
    return stock_set(product=product, stock_on_hand=locked.stock_on_hand + quantity, actor=actor)
