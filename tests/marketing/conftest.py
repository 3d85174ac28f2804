import datetime

import pytest

from accounts.models import ConsentRecord
from marketing.models import Promotion
from tests.factories import CustomerFactory, ProductFactory, StoreFactory


@pytest.fixture
def commit(django_capture_on_commit_callbacks):
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture(autouse=True)
def _fast_rate(settings):
    from marketing import delivery

    settings.NOTIFY_MARKETING_RATE = {"email": 1000, "sms": 1000}
    delivery._CACHE.clear()
    yield
    delivery._CACHE.clear()


def consent(user, kind="marketing_email", granted=True, source="checkout"):
    return ConsentRecord.objects.create(user=user, email=user.email, kind=kind, granted=granted, source=source)


def customers(n, *, granted=True, prefix="c"):
    out = []
    for i in range(n):
        user = CustomerFactory(email=f"{prefix}{i}@example.com", first_name=f"N{i}")
        if granted is not None:
            consent(user, granted=granted)
        out.append(user)
    return out


@pytest.fixture
def shop(db):
    store = StoreFactory(name="Lumen")
    lamp = ProductFactory(store=store, name="Desk Lamp", sku="LAMP-1")
    bulb = ProductFactory(store=store, name="Bulb", sku="BULB-1")
    other = ProductFactory(name="Other shop's mug", sku="MUG-1")
    return store, lamp, bulb, other


def make_promotion(store, products=(), *, start, days=7, channels=("email",), code="SPRING20", **kw):
    promotion = Promotion.objects.create(
        title="Spring sale", store=store, discount_percent=20, starts_at=start,
        ends_at=start + datetime.timedelta(days=days), code=code, channels=list(channels), **kw)
    promotion.products.set(products)
    return promotion
