"""Money, days and moments as a reader of the active language writes them.

English keeps the shop's own house style ("£1,234.50", "Mon 12 May 2025", "12 May 2025, 10:30 BST");
German, French and Spanish use the CLDR rules through babel ("1.234,50 €", "Mo., 12. Mai 2025").
Used by the customer pages (the ``money`` filter) and by the message contexts, which are built with
the recipient's language active. Separators are plain spaces: a narrow no-break space would turn an
SMS into UCS-2 and halve what fits in a segment.
"""
import datetime
import functools
from decimal import Decimal, InvalidOperation

from babel.dates import format_date, format_datetime
from babel.numbers import format_decimal
from django.utils import translation
from django.utils.dateformat import format as django_date_format

CURRENCY_SYMBOLS = {"GBP": "£", "EUR": "€", "USD": "$"}
# The CLDR locale for each language of settings.LANGUAGES (the shop sells from the UK).
LOCALES = {"en": "en_GB", "de": "de_DE", "fr": "fr_FR", "es": "es_ES"}
DAY_PATTERNS = {"de": "EEE, d. MMM y", "fr": "EEE d MMM y", "es": "EEE, d MMM y"}
WHEN_PATTERNS = {"de": "d. MMM y, HH:mm", "fr": "d MMM y 'à' HH:mm", "es": "d MMM y, HH:mm"}
EN_DAY, EN_WHEN = "D j M Y", "j M Y, H:i T"


def _plain(text: str) -> str:
    return text.replace("\u202f", " ").replace("\xa0", " ")


def active_language() -> str:
    language = (translation.get_language() or "en").split("-")[0].lower()
    return language if language in LOCALES else "en"


def money(amount, currency: str = "GBP") -> str:
    """Decimal('1234.5'), 'EUR' -> '€1,234.50' (en) / '1.234,50 €' (de) / '1 234,50 €' (fr)."""
    try:
        amount = Decimal(amount or 0).quantize(Decimal("0.01"))
    except (InvalidOperation, TypeError, ValueError):
        return str(amount)
    currency = currency or "GBP"
    language = active_language()
    if language == "en":
        symbol = CURRENCY_SYMBOLS.get(currency)
        sign = "−" if amount < 0 else ""
        return f"{sign}{symbol}{abs(amount):,}" if symbol else f"{sign}{abs(amount):,} {currency}"
    # All three write the symbol after the amount; CLDR's own symbols for a foreign currency
    # ("£GB", "GBP") read oddly to a shopper who paid in pounds.
    figure = _plain(format_decimal(amount, format="#,##0.00", locale=LOCALES[language]))
    return f"{figure} {CURRENCY_SYMBOLS.get(currency, currency)}"


def number(value) -> str:
    language = active_language()
    if language == "en":
        return f"{value:,}"
    return _plain(format_decimal(value, locale=LOCALES[language]))


def day(value) -> str:
    """A date: 'Mon 12 May 2025' / 'Mo., 12. Mai 2025' / 'lun. 12 mai 2025' / 'lun, 12 may 2025'."""
    if not value:
        return ""
    if isinstance(value, str):
        value = datetime.date.fromisoformat(value)
    if type(value) is datetime.date:
        # A shop's messages name the same few dates again and again: each is formatted once per language.
        return _day_cached(value, active_language())
    return _day(value, active_language())


def _day(value, language: str) -> str:
    if language == "en":
        return django_date_format(value, EN_DAY)
    return format_date(value, DAY_PATTERNS[language], locale=LOCALES[language])


@functools.lru_cache(maxsize=4096)
def _day_cached(value: datetime.date, language: str) -> str:
    return _day(value, language)


def moment(value: datetime.datetime) -> str:
    """An aware datetime already in the reader's zone, with the zone's abbreviation."""
    language = active_language()
    if language == "en":
        return django_date_format(value, EN_WHEN)
    text = format_datetime(value, WHEN_PATTERNS[language], locale=LOCALES[language])
    return f"{text} {value.tzname() or ''}".strip()


_LABELS: dict = {}


def choice_label(instance, field_name: str) -> str:
    """``instance.get_<field>_display()`` as a plain string, in the active language, without
    Django's cost of rebuilding (and translating) the field's whole choices dict on every call:
    the labels of a field are read once per language. Unknown values show as themselves."""
    field = instance._meta.get_field(field_name)
    key = (field, translation.get_language())
    labels = _LABELS.get(key)
    if labels is None:
        labels = _LABELS[key] = {value: str(label) for value, label in field.flatchoices}
    value = getattr(instance, field.attname)
    return labels.get(value, "" if value is None else str(value))
