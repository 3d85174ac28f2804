"""Per-store order counts by status, kept by PostgreSQL triggers (the seller list's tab counts).

``orders_status_count`` is an append-only ledger of (store, status, ±n) deltas written by statement
triggers on ``orders_order`` in the same transaction as the change; the read side
(``orders.selectors.store_order_counts``) sums a store's rows and folds them into one row per status
now and then. See that function's docstring for why a ledger and not one counter row per status.
PostgreSQL only: on SQLite (tests, local) the counts stay a GROUP BY over the orders.
"""
from django.db import migrations

CREATE = """
CREATE TABLE orders_status_count (
    id bigserial PRIMARY KEY,
    store_id bigint NOT NULL,
    status varchar(16) NOT NULL,
    n bigint NOT NULL
);
CREATE INDEX orders_status_count_store ON orders_status_count (store_id) INCLUDE (status, n);

CREATE FUNCTION orders_status_count_ins() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO orders_status_count (store_id, status, n)
    SELECT store_id, status, COUNT(*) FROM new_rows GROUP BY store_id, status;
    RETURN NULL;
END $$;

CREATE FUNCTION orders_status_count_del() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO orders_status_count (store_id, status, n)
    SELECT store_id, status, -COUNT(*) FROM old_rows GROUP BY store_id, status;
    RETURN NULL;
END $$;

CREATE FUNCTION orders_status_count_upd() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO orders_status_count (store_id, status, n)
    SELECT store_id, status, SUM(d) FROM (
        SELECT store_id, status, 1 AS d FROM new_rows
        UNION ALL
        SELECT store_id, status, -1 AS d FROM old_rows
    ) AS change
    GROUP BY store_id, status
    HAVING SUM(d) <> 0;
    RETURN NULL;
END $$;

CREATE FUNCTION orders_status_count_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM orders_status_count;
    RETURN NULL;
END $$;

CREATE TRIGGER orders_status_count_ins AFTER INSERT ON orders_order
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION orders_status_count_ins();
CREATE TRIGGER orders_status_count_del AFTER DELETE ON orders_order
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION orders_status_count_del();
CREATE TRIGGER orders_status_count_upd AFTER UPDATE ON orders_order
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT
    EXECUTE FUNCTION orders_status_count_upd();
CREATE TRIGGER orders_status_count_truncate AFTER TRUNCATE ON orders_order
    FOR EACH STATEMENT EXECUTE FUNCTION orders_status_count_truncate();

INSERT INTO orders_status_count (store_id, status, n)
SELECT store_id, status, COUNT(*) FROM orders_order GROUP BY store_id, status;
"""

DROP = """
DROP TRIGGER IF EXISTS orders_status_count_ins ON orders_order;
DROP TRIGGER IF EXISTS orders_status_count_del ON orders_order;
DROP TRIGGER IF EXISTS orders_status_count_upd ON orders_order;
DROP TRIGGER IF EXISTS orders_status_count_truncate ON orders_order;
DROP FUNCTION IF EXISTS orders_status_count_ins();
DROP FUNCTION IF EXISTS orders_status_count_del();
DROP FUNCTION IF EXISTS orders_status_count_upd();
DROP FUNCTION IF EXISTS orders_status_count_truncate();
DROP TABLE IF EXISTS orders_status_count;
"""


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        # Lock the orders while the triggers go in and the ledger is backfilled: no change slips between.
        with schema_editor.connection.cursor() as cursor:
            cursor.execute("LOCK TABLE orders_order IN SHARE ROW EXCLUSIVE MODE")
            cursor.execute(CREATE)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        with schema_editor.connection.cursor() as cursor:
            cursor.execute(DROP)


class Migration(migrations.Migration):

    dependencies = [
        ("orders", "0013_merge_20261202_0506"),
    ]

    operations = [
        migrations.RunPython(create, drop),
    ]
