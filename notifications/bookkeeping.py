"""Write what a delivery batch did — attempt rows, in-app inbox rows, each notification's new state —
in one atomic step.

On PostgreSQL that is ONE statement (a data-modifying CTE: two INSERTs and an UPDATE … FROM
VALUES), so a batch costs one round trip and one durable commit instead of one per row and table
(measured: ~7 ms → ~1.5 ms per batch of three on the benchmark machine; see bench/README.md).
Delivery puts the claim of the next row of its batch after the same CTEs (``record_ctes``).
Other databases (SQLite in development and tests) use the ORM inside one transaction.
"""
from django.db import connection, transaction

from .models import DeliveryAttempt, InboxMessage, Notification

ATTEMPT_COLUMNS = [("notification_id", "bigint"), ("number", "integer"), ("status", "text"), ("provider", "text"),
                   ("provider_message_id", "text"), ("latency_ms", "integer"), ("error", "text"),
                   ("transient", "boolean"), ("sms_segments", "smallint"), ("sms_encoding", "text"),
                   ("provider_status", "text"), ("created_at", "timestamptz"), ("updated_at", "timestamptz")]
INBOX_COLUMNS = [("user_id", "bigint"), ("notification_id", "bigint"), ("title", "text"), ("body", "text"),
                 ("url", "text"), ("created_at", "timestamptz")]
# Columns a delivery outcome may set; None in a row means "leave as it is" (COALESCE), except
# retry_at, which every outcome sets (a value for a retry, NULL otherwise).
UPDATE_COLUMNS = [("status", "text"), ("status_reason", "text"), ("last_error", "text"), ("sent_at", "timestamptz"),
                  ("provider_message_id", "text"), ("retry_at", "timestamptz"), ("subject", "text"),
                  ("body_text", "text"), ("body_html", "text"), ("template_source", "text"),
                  ("template_fallback", "boolean"), ("attempts", "integer"), ("updated_at", "timestamptz"),
                  ("send_after", "timestamptz")]  # a webhook retry's time (its channel's retry_schedule)
ALWAYS_SET = {"status", "status_reason", "last_error", "retry_at", "updated_at"}


def record_batch(*, attempts: list[DeliveryAttempt], deferred: list, updates: list[tuple]) -> None:
    """``updates``: (notification id, status it must still have or None, {field: value})."""
    if not (attempts or deferred or updates):
        return
    ctes = record_ctes(attempts=attempts, deferred=deferred, updates=updates)
    if ctes is not None:
        sql, params = ctes
        from notify_site.rows import prepared_cursor

        with prepared_cursor(connection) as cursor:
            # One statement: atomic on its own, one round trip, one commit.
            cursor.execute(sql + " SELECT 1", params)
    else:
        _record_orm(attempts, deferred, updates)


def record_ctes(*, attempts: list[DeliveryAttempt], deferred: list, updates: list[tuple]) -> tuple[str, list] | None:
    """The same writes as ``record_batch``, as ``WITH …`` common table expressions (SQL, params)
    that another statement can follow: delivery runs the claim of the next row after them, so a
    row's result and the next row's claim cost one round trip and one commit. None where that is
    not possible (not PostgreSQL, or a deferred row other than an inbox message)."""
    if connection.vendor != "postgresql" or not (attempts or deferred or updates):
        return None
    inbox = [row for row in deferred if isinstance(row, InboxMessage)]
    if len(inbox) != len(deferred):
        return None
    return _ctes_postgresql(attempts, inbox, updates)


def _record_orm(attempts, deferred, updates):
    with transaction.atomic():
        by_model = {}
        for row in deferred:
            by_model.setdefault(type(row), []).append(row)
        for model, rows in by_model.items():
            # ignore_conflicts: a resent in-app notification keeps its one inbox row.
            model.objects.bulk_create(rows, ignore_conflicts=True)
        DeliveryAttempt.objects.bulk_create(attempts)
        for pk, expected_status, fields in updates:
            qs = Notification.objects.filter(pk=pk)
            if expected_status is not None:
                qs = qs.filter(status=expected_status)
            qs.update(**fields)


def _values(rows: list[list], columns: list[tuple]) -> tuple[str, list]:
    row_sql = "(" + ", ".join(f"%s::{cast}" for _, cast in columns) + ")"
    return ", ".join([row_sql] * len(rows)), [value for row in rows for value in row]


def _ctes_postgresql(attempts, inbox, updates) -> tuple[str, list]:
    from django.utils import timezone

    now = timezone.now()
    ctes, params = [], []
    if attempts:
        rows = [[a.notification_id, a.number, a.status, a.provider, a.provider_message_id, a.latency_ms, a.error,
                 a.transient, a.sms_segments, a.sms_encoding, a.provider_status, now, now] for a in attempts]
        sql, values = _values(rows, ATTEMPT_COLUMNS)
        cols = ", ".join(f'"{name}"' for name, _ in ATTEMPT_COLUMNS)
        ctes.append(f'attempts AS (INSERT INTO "{DeliveryAttempt._meta.db_table}" ({cols}) VALUES {sql})')
        params += values
    if inbox:
        rows = [[m.user_id, m.notification_id, m.title, m.body, m.url, now] for m in inbox]
        sql, values = _values(rows, INBOX_COLUMNS)
        cols = ", ".join(f'"{name}"' for name, _ in INBOX_COLUMNS)
        # ON CONFLICT: a resent in-app notification keeps its one inbox row.
        ctes.append(f'inbox AS (INSERT INTO "{InboxMessage._meta.db_table}" ({cols}) VALUES {sql} '
                    f'ON CONFLICT DO NOTHING)')
        params += values
    if updates:
        columns = [("id", "bigint"), ("expected", "text"), *UPDATE_COLUMNS]
        rows = [[pk, expected, *[fields.get(name) for name, _ in UPDATE_COLUMNS]] for pk, expected, fields in updates]
        sql, values = _values(rows, columns)
        table = Notification._meta.db_table
        assignments = ", ".join(
            f'"{name}" = v."{name}"' if name in ALWAYS_SET else f'"{name}" = COALESCE(v."{name}", n."{name}")'
            for name, _ in UPDATE_COLUMNS)
        names = ", ".join(f'"{name}"' for name, _ in columns)
        ctes.append(f'changed AS (UPDATE "{table}" AS n SET {assignments} FROM (VALUES {sql}) AS v({names}) '
                    f'WHERE n."id" = v."id" AND (v."expected" IS NULL OR n."status" = v."expected"))')
        params += values
    return "WITH " + ", ".join(ctes), params
