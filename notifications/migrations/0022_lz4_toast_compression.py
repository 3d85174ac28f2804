"""PostgreSQL: compress the large columns of the outbox with lz4 instead of pglz.

Every order change writes ~3 KB of JSON context per row and every delivery writes the rendered
bodies; with pglz, compressing them was the PostgreSQL backend's costliest function in the
benchmark (bench/README.md). lz4 compresses several times faster. It applies to values written
from now on; old ones stay readable as they are. Skipped on SQLite and on a server built without
lz4."""
from django.db import migrations

COLUMNS = {
    "notifications_notification": ["context", "body_html", "body_text"],
    "orders_orderevent": ["data"],
}


def lz4_available(schema_editor) -> bool:
    if schema_editor.connection.vendor != "postgresql":
        return False
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_settings WHERE name = 'default_toast_compression' "
                       "AND 'lz4' = ANY(enumvals)")
        return cursor.fetchone() is not None


def set_compression(method):
    def run(apps, schema_editor):
        if not lz4_available(schema_editor):
            return
        for table, columns in COLUMNS.items():
            for column in columns:
                schema_editor.execute(f'ALTER TABLE "{table}" ALTER COLUMN "{column}" SET COMPRESSION {method}')
    return run


class Migration(migrations.Migration):
    dependencies = [
        ("notifications", "0021_index_diet"),
        ("orders", "0015_index_diet"),
    ]

    operations = [migrations.RunPython(set_compression("lz4"), set_compression("pglz"))]
