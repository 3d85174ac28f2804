import datetime

import pytest
import time_machine
from django.core.cache import cache

from tests.factories import (  # noqa: F401  (re-exported for tests)
    CustomerFactory,
    OrderFactory,
    ProductFactory,
    SellerFactory,
    StoreFactory,
)


@pytest.fixture(autouse=True)
def _clear_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _fresh_template_cache():
    """Database templates are cached per process: one test's template must not render another's mail."""
    from notifications.rendering import DB_TEMPLATES

    DB_TEMPLATES.invalidate()
    yield
    DB_TEMPLATES.invalidate()


@pytest.fixture(autouse=True)
def _broker_not_marked_down():
    """A test whose broker was "down" must not make the next test skip publishing."""
    from notifications import outbox

    outbox._broker_down_until = 0.0
    yield
    outbox._broker_down_until = 0.0


@pytest.fixture
def store(db):
    return StoreFactory()


@pytest.fixture
def seller(store):
    return SellerFactory(store=store)


@pytest.fixture
def customer(db):
    return CustomerFactory()


@pytest.fixture
def product(store):
    return ProductFactory(store=store, stock_on_hand=10)


@pytest.fixture
def order(customer, product):
    return OrderFactory(customer=customer, store=product.store, lines=[(product, 2)])


# A Wednesday late morning, far from midnight, a weekend and a DST change: tests that compare
# dates, windows or expiries with "now" run here, whatever the wall clock says (issue 8).
WEDNESDAY_MORNING = datetime.datetime(2030, 1, 16, 11, 0, tzinfo=datetime.UTC)


@pytest.fixture
def frozen_clock():
    """Start the test's clock at WEDNESDAY_MORNING (it ticks on from there); ``.shift()`` moves it."""
    with time_machine.travel(WEDNESDAY_MORNING, tick=True) as traveller:
        yield traveller
