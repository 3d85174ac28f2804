"""The settings one order change's messages depend on, read in one query.

An order change used to read them one by one: the platform's setting for the event (on/off,
channels), the platform settings (quiet hours, SMS countries and daily cap) and the store's note
for the event. Each is a single-row lookup; here they are joined to the order's store (a row that
always exists) in one fixed statement, so the change pays one round trip instead of three and no
ORM query building. Nothing is cached: every change reads the current settings.

On PostgreSQL the same statement also brings what the order's messages read besides the order
(given ``order_id``): its lines and latest payment as JSON, and whether the customer has a browser
subscribed to push; elsewhere (SQLite) those stay ``None`` and ``context.load_subject`` reads them
with the ORM.
"""
import json
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import connection

from notify_site.rows import columns, from_json, from_row, prepared_cursor

from .models import PlatformEventSetting, PlatformSettings, StoreMessageSetting

# Every column of each row, so the instances are whole (no deferred field to read later).
MODELS = (PlatformEventSetting, PlatformSettings, StoreMessageSetting)


@dataclass
class ChangeSettings:
    event: str
    event_setting: PlatformEventSetting | None  # None: the catalogue defaults (events.py)
    platform: PlatformSettings  # the saved row, or an unsaved one with the defaults
    store_message: StoreMessageSetting | None
    lines: list | None = None  # OrderLine instances, by id; None: not read here
    payment: object = field(default=None)  # the latest Payment, or None (no payment, or not read)
    payment_read: bool = False
    customer_push: bool | None = None  # None: not read here


def _sql() -> str:
    """Built once from the models' table and column names (the ORM would build the query again
    for every change, which costs more than running it). Each join matches at most one row:
    the event is unique, the platform row is pk 1, a store has one note per event."""
    from catalog.models import Store

    select = (columns(PlatformEventSetting, "e") + columns(PlatformSettings, "p")
              + columns(StoreMessageSetting, "m"))
    return (f'SELECT {", ".join(select)} FROM "{Store._meta.db_table}" s '
            f'LEFT JOIN "{PlatformEventSetting._meta.db_table}" e ON e."event" = %s '
            f'LEFT JOIN "{PlatformSettings._meta.db_table}" p ON p."id" = 1 '
            f'LEFT JOIN "{StoreMessageSetting._meta.db_table}" m ON m."store_id" = s."id" AND m."event" = %s '
            f'WHERE s."id" = %s')


def _order_sql() -> str:
    """The PostgreSQL-only columns appended for an order: lines, latest payment, push."""
    from orders.models import OrderLine, Payment

    from .models import PushSubscription

    def cols(model):
        return ", ".join(columns(model))

    return (f', (SELECT json_agg(l ORDER BY l."id")::text FROM (SELECT {cols(OrderLine)} FROM '
            f'"{OrderLine._meta.db_table}" WHERE "order_id" = %s) l)'
            f', (SELECT row_to_json(p)::text FROM (SELECT {cols(Payment)} FROM "{Payment._meta.db_table}" '
            f'WHERE "order_id" = %s ORDER BY "created_at" DESC, "id" DESC LIMIT 1) p)'
            f', EXISTS (SELECT 1 FROM "{PushSubscription._meta.db_table}" WHERE "user_id" = %s)')


_SQL: dict[str, str] = {}


def change_settings_load(event: str, store_id: int, *, order_id: int | None = None,
                         customer_id: int | None = None) -> ChangeSettings:
    with_order = order_id is not None and connection.vendor == "postgresql"
    key = "order" if with_order else "plain"
    if key not in _SQL:
        base = _sql()
        _SQL[key] = base.replace(" FROM ", _order_sql() + " FROM ", 1) if with_order else base
    params = [order_id, order_id, customer_id, event, event, store_id] if with_order else [event, event, store_id]
    with prepared_cursor(connection) as cursor:
        cursor.execute(_SQL[key], params)
        row = cursor.fetchone()
    widths = [len(model._meta.concrete_fields) for model in MODELS]
    width = sum(widths)
    if row is None:  # no such store: nothing saved can apply
        row = (None,) * (width + (3 if with_order else 0))
    event_setting, platform, store_message = (
        from_row(model, row[sum(widths[:i]):sum(widths[:i + 1])], connection) for i, model in enumerate(MODELS))
    out = ChangeSettings(event=event, event_setting=event_setting, platform=platform or PlatformSettings(),
                         store_message=store_message)
    if with_order:
        from orders.models import OrderLine, Payment

        lines_json, payment_json, push = row[width:]
        out.lines = [from_json(OrderLine, d) for d in json.loads(lines_json or "[]", parse_float=Decimal)]
        out.payment = from_json(Payment, json.loads(payment_json, parse_float=Decimal)) if payment_json else None
        out.payment_read = True
        out.customer_push = bool(push) if customer_id is not None else False
    return out
