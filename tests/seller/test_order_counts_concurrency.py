"""The tab counts' ledger (migration orders 0014) under concurrent status changes and folds, on a
real PostgreSQL: writers in four threads move orders between statuses (some in transactions that
roll back) while two readers fold the ledger on every read; at the end the ledger's sums are the
orders' own GROUP BY, and nobody waited on a counter row or deadlocked."""
import random
import threading

import pytest
from django.db import connection, transaction
from django.db.models import Count

from orders import selectors
from orders.models import Order, OrderStatus
from tests.factories import OrderFactory, ProductFactory, StoreFactory
from tests.services import require_postgres

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

STATUSES = [OrderStatus.PENDING, OrderStatus.PROCESSING, OrderStatus.ON_HOLD, OrderStatus.SHIPPED,
            OrderStatus.CANCELLED]


def test_concurrent_status_changes_and_folds_keep_the_counts_exact(monkeypatch):
    require_postgres()
    monkeypatch.setattr(selectors, "STATUS_COUNT_FOLD_AFTER", 0)  # every read folds
    store, other = StoreFactory(), StoreFactory()
    product = ProductFactory(store=store)
    ids = [OrderFactory(store=store, lines=[(product, 1)]).pk for _ in range(30)]
    OrderFactory(store=other, lines=[(ProductFactory(store=other), 1)])
    barrier = threading.Barrier(6)
    errors = []

    def writer(seed):
        rng = random.Random(seed)
        try:
            barrier.wait(timeout=10)
            for step in range(40):
                # Sorted, as one order at a time is what services lock: random order between
                # writers would deadlock on the order rows themselves, whatever the counts do.
                picked = sorted(rng.sample(ids, 3))
                try:
                    with transaction.atomic():
                        for pk in picked:
                            Order.objects.filter(pk=pk).update(status=rng.choice(STATUSES))
                        if step % 7 == 0:
                            raise RuntimeError("roll back")
                except RuntimeError:
                    pass
        except Exception as exc:  # noqa: BLE001 — reported below
            errors.append(exc)
        finally:
            connection.close()

    def reader():
        try:
            barrier.wait(timeout=10)
            for _ in range(40):
                counts = selectors.store_order_counts(store=store)
                assert counts[""] == 30, counts  # moves keep the total, whatever is in flight
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=writer, args=(seed,)) for seed in range(4)]
    threads += [threading.Thread(target=reader) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    truth = {row["status"]: row["n"] for row in
             Order.objects.filter(store=store).values("status").annotate(n=Count("*")).order_by()}
    counts = selectors.store_order_counts(store=store)
    assert {k: v for k, v in counts.items() if k not in ("", selectors.LATE_TAB)} == truth
    assert selectors.store_order_counts(store=other)[""] == 1
