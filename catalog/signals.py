"""Catalog domain signals, sent by catalog.services after the change (inside its transaction)."""
from django.dispatch import Signal

# product, old_stock (int), new_stock (int), actor — stock went from none (<= 0) to some (> 0):
# the moment to tell BackInStockSubscription holders.
product_restocked = Signal()
