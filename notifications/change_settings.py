"""The settings one order change's messages depend on, read in one query.

An order change used to read them one by one: the platform's setting for the event (on/off,
channels), the platform settings (quiet hours, SMS countries and daily cap) and the store's note
for the event. Each is a single-row lookup; here they are joined to the order's store (a row that
always exists) in one fixed statement, so the change pays one round trip instead of three and no
ORM query building. Nothing is cached: every change reads the current settings.
"""
import json
from dataclasses import dataclass

from django.db import connection
from django.db.models import JSONField

from .models import PlatformEventSetting, PlatformSettings, StoreMessageSetting

EVENT_FIELDS = ("id", "enabled", "customer_channels", "seller_channels")
PLATFORM_FIELDS = ("id", "quiet_hours_start", "quiet_hours_end", "max_attempts", "sms_allowed_countries",
                   "sms_daily_cap")
MESSAGE_FIELDS = ("id", "personal_note", "discount_code")


@dataclass
class ChangeSettings:
    event: str
    event_setting: PlatformEventSetting | None  # None: the catalogue defaults (events.py)
    platform: PlatformSettings  # the saved row, or an unsaved one with the defaults
    store_message: StoreMessageSetting | None


def _sql() -> str:
    """Built once from the models' table and column names (the ORM would build the query again
    for every change, which costs more than running it). Each join matches at most one row:
    the event is unique, the platform row is pk 1, a store has one note per event."""
    from catalog.models import Store

    def cols(model, fields, alias):
        return [f'{alias}."{model._meta.get_field(name).column}"' for name in fields]

    select = (cols(PlatformEventSetting, EVENT_FIELDS, "e") + cols(PlatformSettings, PLATFORM_FIELDS, "p")
              + cols(StoreMessageSetting, MESSAGE_FIELDS, "m"))
    return (f'SELECT {", ".join(select)} FROM "{Store._meta.db_table}" s '
            f'LEFT JOIN "{PlatformEventSetting._meta.db_table}" e ON e."event" = %s '
            f'LEFT JOIN "{PlatformSettings._meta.db_table}" p ON p."id" = 1 '
            f'LEFT JOIN "{StoreMessageSetting._meta.db_table}" m ON m."store_id" = s."id" AND m."event" = %s '
            f'WHERE s."id" = %s')


_SQL: list[str] = []


def _value(field, value):
    if isinstance(field, JSONField) and isinstance(value, str):
        return json.loads(value)
    return field.to_python(value)


def _build(model, fields, values, **extra):
    if values[0] is None:  # no such row
        return None
    meta = model._meta
    return model(**{name: _value(meta.get_field(name), value) for name, value in zip(fields, values)}, **extra)


def change_settings_load(event: str, store_id: int) -> ChangeSettings:
    if not _SQL:
        _SQL.append(_sql())
    with connection.cursor() as cursor:
        cursor.execute(_SQL[0], [event, event, store_id])
        row = cursor.fetchone()
    if row is None:  # no such store: nothing saved can apply
        row = (None,) * (len(EVENT_FIELDS) + len(PLATFORM_FIELDS) + len(MESSAGE_FIELDS))
    ev, rest = row[:len(EVENT_FIELDS)], row[len(EVENT_FIELDS):]
    ps, sm = rest[:len(PLATFORM_FIELDS)], rest[len(PLATFORM_FIELDS):]
    return ChangeSettings(
        event=event,
        event_setting=_build(PlatformEventSetting, EVENT_FIELDS, ev, event=event),
        platform=_build(PlatformSettings, PLATFORM_FIELDS, ps) or PlatformSettings(),
        store_message=_build(StoreMessageSetting, MESSAGE_FIELDS, sm, store_id=store_id, event=event),
    )
