"""Trigram indexes for the seller's free-text order search (PostgreSQL only).

Django's ``icontains`` becomes ``UPPER(col::text) LIKE UPPER('%term%')``; a GIN trigram index on
the same expression lets PostgreSQL answer that without scanning the store's orders. SQLite (the
embedded development default) has no such index type, so there this migration does nothing.
"""
from django.db import migrations

COLUMNS = ["number", "shipping_name", "email"]


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for column in COLUMNS:
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS order_{column}_trgm ON orders_order "
            f"USING gin ((UPPER({column}::text)) gin_trgm_ops)"
        )


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for column in COLUMNS:
        schema_editor.execute(f"DROP INDEX IF EXISTS order_{column}_trgm")


class Migration(migrations.Migration):
    dependencies = [("orders", "0003_seller_list_indexes")]
    operations = [migrations.RunPython(forwards, backwards)]
