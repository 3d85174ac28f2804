"""Model instances from rows of hand-written SQL, converted exactly as the ORM converts them.

For the few statements on the hottest paths (an order change's lock, a delivery's claim), where
building the query with the ORM on every call costs more CPU than running it. The SQL is written
once per process from the models' own table and column names, so a renamed column breaks loudly
in the tests, not silently in production.
"""
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
