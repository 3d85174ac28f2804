import pytest
from django.core.management import call_command

from accounts.models import ConsentRecord, LoyaltyAccount, User
from catalog.models import Product, Store
from orders.models import Order, OrderEvent, OrderLine, OrderStatus, Payment, ReturnRequest, Shipment, TrackingEvent

def _more_models():
    from accounts.models import LoginActivity, LoyaltyEntry
    from catalog.models import BackInStockSubscription, ProductEvent

    return [LoyaltyEntry, LoginActivity, BackInStockSubscription, ProductEvent]


MODELS = [User, LoyaltyAccount, ConsentRecord, Store, Product, Order, OrderLine, OrderEvent, Payment, Shipment,
          TrackingEvent, ReturnRequest, *_more_models()]


def snapshot():
    return {model.__name__: model.objects.count() for model in MODELS} | {
        "stock": sorted(Product.objects.values_list("sku", "stock_on_hand")),
        "statuses": sorted(Order.objects.values_list("number", "status")),
    }


@pytest.mark.django_db
def test_seed_demo_is_complete_and_idempotent(capsys):
    call_command("seed_demo")
    first = snapshot()
    out = capsys.readouterr().out

    call_command("seed_demo")
    assert snapshot() == first

    assert first["Store"] == 3 and first["Product"] == 30
    assert User.objects.filter(store__isnull=False).count() == 3
    assert User.objects.filter(is_superuser=True, username="admin").exists()
    assert User.objects.filter(is_staff=False, store__isnull=True).count() == 20
    assert first["LoyaltyAccount"] == first["User"]
    assert 195 <= first["Order"] <= 215
    assert set(Order.objects.values_list("status", flat=True)) == set(OrderStatus.values)
    assert Product.objects.filter(stock_on_hand__lte=0, allow_backorder=False).count() >= 3
    assert Product.objects.filter(stock_on_hand__gt=0, stock_on_hand__lte=5).count() >= 3
    assert Product.objects.filter(allow_backorder=True).count() == 1
    assert Order.objects.filter(is_backordered=True).exists()
    assert Shipment.objects.filter(carrier="simulated").exists()
    # Timelines are real: every shipped/completed order has its shipment and its status events.
    completed = Order.objects.filter(status="completed").first()
    kinds = list(completed.events.values_list("kind", flat=True))
    assert kinds[0] == "placed" and "shipment" in kinds and kinds.count("status") >= 3
    assert completed.placed_at < completed.events.last().created_at
    assert "alice" in out and "demo12345" in out and "nina" in out and "admin" in out
    from django.contrib.auth import authenticate
    assert authenticate(username="alice", password="demo12345") is not None
    # Issue 11's pages have something to show: suppliers, restock history, people waiting for
    # out-of-stock products, loyalty members with a ledger, alice's sign-ins.
    from accounts.models import LoginActivity, LoyaltyEntry
    from catalog.models import BackInStockSubscription, ProductEvent

    assert not Product.objects.filter(supplier_email="").exists()
    assert ProductEvent.objects.filter(kind="restock").count() == 60
    assert BackInStockSubscription.objects.filter(confirmed_at__isnull=False, notified_at__isnull=True).count() >= 9
    assert LoyaltyAccount.objects.filter(points__gt=0, tier__isnull=False).count() >= 5
    assert LoyaltyEntry.objects.filter(kind="earned").exists() and LoyaltyEntry.objects.filter(kind="reversed").exists()
    assert LoginActivity.objects.filter(user__username="alice", new_device=True).count() == 2


@pytest.mark.django_db
def test_seeding_history_notifies_nobody(mailoutbox):
    from notifications.models import Notification

    call_command("seed_demo")

    assert Notification.objects.count() == 0
    assert mailoutbox == []
