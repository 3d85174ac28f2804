"""Two beat runs of the SLA sweep at once on a real PostgreSQL: each step alerts once."""
import datetime
import threading
from datetime import UTC

import pytest
import time_machine
from django.db import connection

from notifications.models import Notification
from orders.sla import sla_sweep
from tests.factories import ProductFactory, SellerFactory, StoreFactory, UserFactory
from tests.notifications.helpers import place
from tests.services import require_postgres

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

FRIDAY_4PM = datetime.datetime(2030, 1, 18, 16, 0, tzinfo=UTC)
THURSDAY = datetime.datetime(2030, 1, 24, 12, 0, tzinfo=UTC)  # past both steps


def test_concurrent_sweeps_take_each_step_once():
    require_postgres()
    store = StoreFactory()
    SellerFactory(store=store)
    UserFactory(is_staff=True)
    shirt = ProductFactory(store=store, stock_on_hand=20)
    with time_machine.travel(FRIDAY_4PM, tick=False):
        for _ in range(3):
            place({shirt.pk: 1})
    barrier = threading.Barrier(3)
    results = []

    def sweep():
        try:
            barrier.wait(timeout=10)
            results.append(sla_sweep(now=THURSDAY))
        finally:
            connection.close()

    runs = [threading.Thread(target=sweep) for _ in range(3)]
    for run in runs:
        run.start()
    for run in runs:
        run.join(timeout=30)
    assert sum(r["steps"] for r in results) == 6  # 3 orders × 2 steps, whoever took them
    breached = Notification.objects.filter(event="order.sla_breached", channel="email")
    escalated = Notification.objects.filter(event="order.sla_escalated", channel="email")
    assert breached.count() == 3 and escalated.count() == 3
