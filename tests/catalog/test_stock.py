import pytest

from catalog import signals
from catalog.models import BackInStockSubscription
from catalog.services import OutOfStock, StockError, back_in_stock_subscribe, stock_reserve, stock_set
from tests.factories import ProductFactory

pytestmark = pytest.mark.django_db


def test_reserve_takes_exactly_what_was_asked():
    product = ProductFactory(stock_on_hand=5)
    assert stock_reserve(product_id=product.pk, quantity=5) is False
    product.refresh_from_db()
    assert product.stock_on_hand == 0
    with pytest.raises(OutOfStock, match="out of stock"):
        stock_reserve(product_id=product.pk, quantity=1)
    product.refresh_from_db()
    assert product.stock_on_hand == 0


def test_reserve_past_zero_only_with_backorders():
    product = ProductFactory(stock_on_hand=1, allow_backorder=True)
    assert stock_reserve(product_id=product.pk, quantity=3) is True
    product.refresh_from_db()
    assert product.stock_on_hand == -2


def test_out_of_stock_message_names_product_and_what_is_left():
    product = ProductFactory(stock_on_hand=2, name="Lamp")
    with pytest.raises(OutOfStock) as excinfo:
        stock_reserve(product_id=product.pk, quantity=3)
    assert str(excinfo.value).startswith("Sorry, only 2 of “Lamp” left")


def test_stock_set_signals_restock_once():
    product = ProductFactory(stock_on_hand=0)
    seen = []
    receiver = lambda sender, **kw: seen.append((kw["old_stock"], kw["new_stock"]))  # noqa: E731
    signals.product_restocked.connect(receiver, weak=False)
    try:
        stock_set(product=product, stock_on_hand=4)
        stock_set(product=product, stock_on_hand=6)
    finally:
        signals.product_restocked.disconnect(receiver)
    assert seen == [(0, 4)]
    with pytest.raises(StockError):
        stock_set(product=product, stock_on_hand=-1)


def test_back_in_stock_subscribe_rearms_after_notification():
    product = ProductFactory(stock_on_hand=0)
    sub, created = back_in_stock_subscribe(product=product, email=" A@Example.com ")
    assert created and sub.email == "a@example.com"
    assert back_in_stock_subscribe(product=product, email="a@example.com")[1] is False
    BackInStockSubscription.objects.update(notified_at="2024-01-01T00:00Z")
    assert back_in_stock_subscribe(product=product, email="a@example.com")[1] is True
    assert BackInStockSubscription.objects.get().notified_at is None
