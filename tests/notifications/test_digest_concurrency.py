"""Digests on a real PostgreSQL, with real concurrency: a window that closes while an order's
transaction is still open, and two beat runs closing the same window at once."""
import datetime
import threading
from datetime import UTC

import pytest
import time_machine
from django.db import connection

from notifications.digest import digest_close_due
from notifications.models import Notification
from notifications.services import seller_digest_set
from orders import signals
from tests.factories import ProductFactory, SellerFactory, StoreFactory
from tests.services import require_postgres

from .helpers import place

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

TEN = datetime.datetime(2030, 1, 16, 10, 0, tzinfo=UTC)
MINUTE = datetime.timedelta(minutes=1)


@pytest.fixture
def shop():
    require_postgres()
    store = StoreFactory(name="Linen Co")
    SellerFactory(store=store, email="seller@linen.example")
    seller_digest_set(store=store, event="order.placed", channel="email", minutes=15)
    return store, ProductFactory(store=store, stock_on_hand=50)


def _held_numbers():
    return {n.digest_id: n.context["order"]["number"] for n in
            Notification.objects.filter(event="order.placed", audience="seller", channel="email")}


def test_an_order_whose_transaction_spans_the_window_end_is_sent_once_in_a_later_digest(shop):
    store, shirt = shop
    with time_machine.travel(TEN + 14 * MINUTE, tick=True):
        first = place({shirt.pk: 1}).orders[0]
        held_written, window_closed = threading.Event(), threading.Event()

        def hold_the_transaction_open(sender, order, **kwargs):
            held_written.set()  # the notifications receiver ran first: its held row is written
            window_closed.wait(timeout=20)

        signals.order_placed.connect(hold_the_transaction_open, dispatch_uid="test.hold_open")
        placed = []

        def buy():
            try:
                placed.append(place({shirt.pk: 1}).orders[0])
            finally:
                connection.close()

        buyer = threading.Thread(target=buy)
        try:
            buyer.start()
            assert held_written.wait(timeout=20)
            assert digest_close_due(now=TEN + 15 * MINUTE) == {"windows": 1, "digests": 1}  # only `first`
            window_closed.set()
            buyer.join(timeout=30)
        finally:
            signals.order_placed.disconnect(dispatch_uid="test.hold_open")
            window_closed.set()
        [straggler] = placed
        assert digest_close_due(now=TEN + 16 * MINUTE) == {"windows": 1, "digests": 1}
        assert digest_close_due(now=TEN + 17 * MINUTE) == {"windows": 0, "digests": 0}
    digests = list(Notification.objects.filter(event="order.placed_digest").order_by("id"))
    assert [[o["number"] for o in d.context["orders"]] for d in digests] == [[first.number], [straggler.number]]
    assert not Notification.objects.filter(status=Notification.Status.HELD_FOR_DIGEST).exists()


def test_two_beat_runs_closing_the_same_window_write_one_digest(shop):
    store, shirt = shop
    with time_machine.travel(TEN + MINUTE, tick=True):
        for _ in range(5):
            place({shirt.pk: 1})
    barrier = threading.Barrier(2)
    results = []

    def close():
        try:
            barrier.wait(timeout=10)
            results.append(digest_close_due(now=TEN + 15 * MINUTE))
        finally:
            connection.close()

    runs = [threading.Thread(target=close) for _ in range(2)]
    for run in runs:
        run.start()
    for run in runs:
        run.join(timeout=30)
    assert sorted(r["digests"] for r in results) == [0, 1]
    [digest] = Notification.objects.filter(event="order.placed_digest")
    assert len(digest.context["orders"]) == 5 and digest.digested_rows.count() == 5
