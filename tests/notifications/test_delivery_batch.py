"""One delivery task delivers an event's rows one at a time; on PostgreSQL a row's result is
written by the statement that claims the next row (notifications.delivery._Recorder)."""
from unittest import mock

import pytest
from django.core import mail
from django.db import OperationalError, connection
from django.db.backends.utils import CursorWrapper
from django.test.utils import CaptureQueriesContext

from notifications.delivery import notification_deliver_many
from notifications.models import DeliveryAttempt, InboxMessage, Notification
from orders.services import order_transition

from .helpers import sent

pytestmark = pytest.mark.django_db
ON_POSTGRESQL = connection.vendor == "postgresql"


def _rows(order, commit):
    with mock.patch("notifications.outbox.dispatch"), commit():
        order_transition(order=order, to="on_hold", note="Stock check")
    return list(sent("order.on_hold").order_by("id"))


@pytest.fixture
def commit(django_capture_on_commit_callbacks):
    return lambda: django_capture_on_commit_callbacks(execute=True)


def test_a_batch_sends_every_row_once_and_logs_each_attempt(order, commit):
    rows = _rows(order, commit)
    assert {r.channel for r in rows} == {"email", "inapp"}
    with CaptureQueriesContext(connection) as ctx:
        outcomes = notification_deliver_many(notification_ids=[r.pk for r in rows])
    assert {o.result for o in outcomes.values()} == {"sent"}
    assert set(sent("order.on_hold").values_list("status", flat=True)) == {"sent"}
    assert DeliveryAttempt.objects.filter(notification__in=rows).count() == 2
    assert InboxMessage.objects.filter(notification__in=rows).count() == 1
    assert len(mail.outbox) == 1
    writes = [q["sql"] for q in ctx.captured_queries if q["sql"].lstrip().startswith(("UPDATE", "WITH"))]
    if ON_POSTGRESQL:
        # claim 1; result 1 + claim 2 in one statement; result 2: three statements, not four.
        assert len(writes) == 3, writes
        assert writes[1].startswith("WITH") and 'SET "status"' in writes[1] and "RETURNING" in writes[1]


def test_only_one_row_of_a_batch_is_ever_being_sent(order, commit):
    rows = _rows(order, commit)
    seen = []
    from notifications import delivery

    real_send = delivery._send_one

    def watching(n, now):
        seen.append(sorted(Notification.objects.filter(pk__in=[r.pk for r in rows], status="sending")
                           .values_list("id", flat=True)))
        return real_send(n, now)

    with mock.patch.object(delivery, "_send_one", watching):
        notification_deliver_many(notification_ids=[r.pk for r in rows])
    assert seen == [[rows[0].pk], [rows[1].pk]]  # the first row's result was written before the second claim


def test_a_failed_claim_of_the_next_row_still_records_the_row_already_sent(order, commit):
    """The statement that would write row 1's result and claim row 2 fails (the connection drops):
    row 1's result is written on its own before the error goes up, and row 2 stays queued."""
    rows = _rows(order, commit)
    real_execute = CursorWrapper.execute
    claims = []

    def second_fails(self, sql, params=None):
        if '"claimed_at" = ' in sql:
            claims.append(sql)
            if len(claims) == 2:
                raise OperationalError("server closed the connection unexpectedly")
        return real_execute(self, sql, params)

    with mock.patch.object(CursorWrapper, "execute", second_fails), pytest.raises(OperationalError):
        notification_deliver_many(notification_ids=[r.pk for r in rows])
    first, second = (Notification.objects.get(pk=r.pk) for r in rows)
    assert first.status == "sent" and first.delivery_attempts.count() == 1
    assert second.status == "queued" and second.delivery_attempts.count() == 0  # the sweeper has it


@pytest.mark.skipif(not ON_POSTGRESQL, reason="server-side prepared statements are PostgreSQL's")
def test_the_claim_and_the_result_are_prepared_once_per_connection(store, product, commit):
    """notify_site.rows.prepared_cursor: after psycopg's threshold the server runs the delivery
    statements from a prepared plan instead of parsing and planning them on every call."""
    from django.conf import settings

    from tests.factories import OrderFactory

    assert settings.DATABASES["default"]["OPTIONS"]["prepare_threshold"] == 5
    for _ in range(7):
        rows = _rows(OrderFactory(store=store, lines=[(product, 1)]), commit)
        notification_deliver_many(notification_ids=[r.pk for r in rows])
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement, generic_plans + custom_plans FROM pg_prepared_statements")
        prepared = cursor.fetchall()
    claims = [runs for statement, runs in prepared if '"claimed_at" = ' in statement]
    results = [runs for statement, runs in prepared if statement.endswith("SELECT 1")]
    assert claims and results
    # The ORM's own queries stay client-side bound (nothing else is prepared).
    assert all('"claimed_at" = ' in s or "SELECT 1" in s or "FOR UPDATE OF o" in s or "LEFT JOIN" in s
               or s.startswith("INSERT INTO \"notifications_notification\"") for s, _ in prepared)


def test_prepared_statements_can_be_switched_off(monkeypatch):
    from notify_site.rows import prepared_cursor

    monkeypatch.setitem(connection.settings_dict, "OPTIONS", {**connection.settings_dict.get("OPTIONS", {}),
                                                               "prepare_threshold": None})
    with prepared_cursor(connection) as cursor:
        assert type(cursor.cursor).__name__ != "ServerBindingCursor"
        cursor.execute("SELECT 1")
        assert cursor.fetchone()[0] == 1


def test_statements_run_from_a_prepared_plan_are_still_logged_with_their_sql(order):
    """Django's debug cursor (DEBUG, CaptureQueriesContext) logs each prepared statement's text,
    values written in, also once the server runs it from its prepared plan."""
    from notify_site.rows import prepared_cursor

    with CaptureQueriesContext(connection) as ctx:
        for _ in range(8):  # past psycopg's prepare threshold (5)
            with prepared_cursor(connection) as cursor:
                cursor.execute('SELECT "number" FROM "orders_order" WHERE "id" = %s', [order.pk])
                assert cursor.fetchone()[0] == order.number
    assert len(ctx.captured_queries) == 8
    assert all(isinstance(q["sql"], str) and f'"id" = {order.pk}' in q["sql"] for q in ctx.captured_queries)
