"""Concurrent checkouts of the last units on a real PostgreSQL: never oversold, never negative."""
import threading
import time
from decimal import Decimal

import pytest
from django.db import connection

from catalog.models import Product
from catalog.services import OutOfStock
from orders.checkout import checkout_place
from orders.models import Order
from orders.payments.testcard import TestCardGateway
from tests.factories import ProductFactory
from tests.services import require_postgres

ADDRESS = {"name": "Ada", "line1": "1 Row", "city": "London", "postcode": "N1 9GU", "country": "GB"}


class SlowGateway(TestCardGateway):
    """A slow card network: every buyer is charged before any takes the stock, so they really race."""

    refunds: list[str] = []

    def charge(self, **kwargs):
        time.sleep(0.3)
        return super().charge(**kwargs)

    def refund(self, **kwargs):
        SlowGateway.refunds.append(kwargs["reference"])
        return super().refund(**kwargs)


def race(product_id: int, buyers: int) -> list[str]:
    barrier = threading.Barrier(buyers)
    outcomes: list[str] = []

    def buy(n):
        try:
            barrier.wait(timeout=10)
            checkout_place(customer=None, email=f"racer{n}@example.com", items={product_id: 1}, address=ADDRESS,
                           shipping_method="standard", payment_method="card", card_number="4242424242424242")
            outcomes.append("ok")
        except OutOfStock:
            outcomes.append("out of stock")
        except Exception as exc:  # pragma: no cover - shows up in the assertion
            outcomes.append(repr(exc))
        finally:
            connection.close()  # each thread had its own connection

    threads = [threading.Thread(target=buy, args=(n,)) for n in range(buyers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return outcomes


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_two_checkouts_for_the_last_unit_exactly_one_wins(settings):
    require_postgres()
    settings.PAYMENT_GATEWAY = "tests.orders.test_checkout_concurrency.SlowGateway"
    product = ProductFactory(stock_on_hand=1, price=Decimal("20.00"))
    SlowGateway.refunds.clear()

    outcomes = race(product.pk, 2)

    assert sorted(outcomes) == ["ok", "out of stock"]
    assert Product.objects.get(pk=product.pk).stock_on_hand == 0
    assert Order.objects.count() == 1
    assert len(SlowGateway.refunds) == 1  # the loser's card was charged, then given back


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_five_checkouts_for_two_units(settings):
    require_postgres()
    settings.PAYMENT_GATEWAY = "tests.orders.test_checkout_concurrency.SlowGateway"
    product = ProductFactory(stock_on_hand=2)
    SlowGateway.refunds.clear()

    outcomes = race(product.pk, 5)

    assert sorted(outcomes) == ["ok", "ok", "out of stock", "out of stock", "out of stock"]
    assert Product.objects.get(pk=product.pk).stock_on_hand == 0
    assert Order.objects.count() == 2
    assert len(SlowGateway.refunds) == 3
