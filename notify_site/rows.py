"""Model instances from rows of hand-written SQL, converted exactly as the ORM converts them.

For the few statements on the hottest paths (an order change's lock, a delivery's claim), where
building the query with the ORM on every call costs more CPU than running it. The SQL is written
once per process from the models' own table and column names, so a renamed column breaks loudly
in the tests, not silently in production.
"""
from contextlib import contextmanager

from django.db import connection as default_connection

_LOADERS: dict = {}


def columns(model, alias: str = "") -> list[str]:
    """The quoted columns of every concrete field of ``model``, in field order (``alias.`` first)."""
    prefix = f'{alias}.' if alias else ""
    return [f'{prefix}"{f.column}"' for f in model._meta.concrete_fields]


def _loaders(model, connection):
    key = (model, connection.alias)
    found = _LOADERS.get(key)
    if found is None:
        fields = model._meta.concrete_fields
        converters = []
        for i, f in enumerate(fields):
            col = f.get_col(model._meta.db_table)
            funcs = connection.ops.get_db_converters(col) + f.get_db_converters(connection)
            if funcs:
                converters.append((i, col, funcs))
        found = _LOADERS[key] = ([f.attname for f in fields], converters)
    return found


def from_row(model, values, connection=None):
    """An instance of ``model`` from the values of ``columns(model)`` (as if loaded by the ORM), or
    None when its primary key is NULL (an outer join that matched nothing)."""
    connection = connection or default_connection
    attnames, converters = _loaders(model, connection)
    values = list(values)
    if values[attnames.index(model._meta.pk.attname)] is None:
        return None
    for i, col, funcs in converters:
        value = values[i]
        for convert in funcs:
            value = convert(value, col, connection)
        values[i] = value
    return model.from_db(connection.alias, attnames, values)


def from_json(model, data: dict, connection=None):
    """An instance of ``model`` from one ``row_to_json`` object (column -> value), as if loaded by
    the ORM: each value through its field's ``to_python`` (decimals and times arrive as JSON
    numbers and strings)."""
    from django.db.models import JSONField

    connection = connection or default_connection
    fields = model._meta.concrete_fields
    values = []
    for f in fields:
        value = data.get(f.column)
        if value is not None and not isinstance(f, JSONField):
            value = f.to_python(value)
        values.append(value)
    return model.from_db(connection.alias, [f.attname for f in fields], values)


@contextmanager
def prepared_cursor(connection=None):
    """A cursor for the fixed statements of the hot paths: on PostgreSQL, with server-side binding,
    so that the server prepares each statement once per connection (after psycopg's
    ``prepare_threshold`` executions, settings: ``DB_PREPARED_STATEMENTS``) and reuses its plan
    instead of parsing and planning it again on every call, which was half of PostgreSQL's CPU in
    a delivery (bench/README.md). Elsewhere, or with prepared statements off: a plain cursor.

    It goes through Django's cursor wrapper: errors are Django's, and the queries are logged and
    counted like any other (CaptureQueriesContext)."""
    connection = connection or default_connection
    if connection.vendor != "postgresql" or connection.settings_dict.get("OPTIONS", {}).get(
            "prepare_threshold") is None:
        with connection.cursor() as cursor:
            yield cursor
        return
    from django.db.backends.postgresql.base import ServerBindingCursor

    connection.validate_thread_sharing()
    connection.ensure_connection()
    raw = ServerBindingCursor(connection.connection)
    cursor = _debug_wrapper()(raw, connection) if connection.queries_logged else connection.make_cursor(raw)
    try:
        yield cursor
    finally:
        raw.close()


_DEBUG_WRAPPER: list = []


def _debug_wrapper():
    """Django's debug cursor (DEBUG, CaptureQueriesContext), logging the statement with its values
    written in: for a statement run from its prepared plan psycopg keeps no query text, so
    Django's ``last_executed_query`` would log None."""
    if not _DEBUG_WRAPPER:
        from django.db.backends.postgresql.base import CursorDebugWrapper

        class PreparedCursorDebugWrapper(CursorDebugWrapper):
            def debug_sql(self, sql=None, params=None, use_last_executed_query=False, many=False):
                if use_last_executed_query and not many:
                    try:
                        sql = self.db.ops.compose_sql(sql, params)
                    except Exception:  # noqa: BLE001 (logging only: keep the template then)
                        pass
                return super().debug_sql(sql, params, use_last_executed_query=False, many=many)

        _DEBUG_WRAPPER.append(PreparedCursorDebugWrapper)
    return _DEBUG_WRAPPER[0]
