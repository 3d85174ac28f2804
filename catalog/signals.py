"""Catalog domain signals, sent by catalog.inventory after the change (inside its transaction).

Receivers (notifications.receivers_subjects) write outbox rows in the same transaction.
"""
from django.dispatch import Signal

# product, old_stock (int), new_stock (int), actor, event (ProductEvent), subscriptions
# (list[BackInStockSubscription] chosen for this restock): stock went from none to some, or a
# restock while confirmed subscribers still wait.
product_restocked = Signal()
# product, event (ProductEvent), figures (dict: the restock recommendation): stock fell to the
# threshold while the alert was armed.
stock_low = Signal()
# subscription, product: a back-in-stock request for an address not yet confirmed (double opt-in).
stock_alert_requested = Signal()
# product, event (ProductEvent), what (str), note (str): a seller or admin recorded a product change.
product_updated = Signal()
