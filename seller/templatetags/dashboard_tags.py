"""Small display helpers shared by the seller and customer dashboards."""
from decimal import Decimal, InvalidOperation
from urllib.parse import urlencode

from django import template

register = template.Library()

CURRENCY_SYMBOLS = {"GBP": "£", "EUR": "€", "USD": "$"}


@register.filter
def money(value, currency="GBP"):
    """12.5, "GBP" -> £12.50 (unknown currencies get their code as a prefix)."""
    try:
        amount = Decimal(value)
    except (InvalidOperation, TypeError, ValueError):
        return value
    from notify_site.formatting import active_language
    from notify_site.formatting import money as localised_money

    if active_language() != "en":  # "1.234,50 €" in German, French and Spanish pages
        return localised_money(amount, currency or "GBP")
    symbol = CURRENCY_SYMBOLS.get(currency or "GBP", f"{currency} ")
    sign = "−" if amount < 0 else ""
    return f"{sign}{symbol}{abs(amount):,.2f}"


@register.simple_tag(takes_context=True)
def query(context, **changes):
    """The current query string with some keys changed ("" or None removes a key)."""
    params = context["request"].GET.copy()
    for key, value in changes.items():
        if value in ("", None):
            params.pop(key, None)
        else:
            params[key] = value
    return "?" + urlencode(sorted((k, v) for k, v in params.items())) if params else "?"


@register.filter
def get_item(mapping, key):
    try:
        return mapping.get(key)
    except AttributeError:
        return None


@register.filter
def payment_label(status):
    """A payment status as people read it ("captured" -> "Captured", "partially_refunded" -> "Partly refunded")."""
    from orders.models import Payment

    return dict(Payment.Status.choices).get(status, status)
