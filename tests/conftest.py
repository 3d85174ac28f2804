import pytest
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
