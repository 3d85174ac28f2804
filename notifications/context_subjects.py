"""Template contexts for events about a product or an account (order contexts: context.py).

Same rules as the order contexts: plain JSON-safe dicts, built once per event and audience from
already-loaded objects, never model instances; the sample subjects (admin validation and
preview) are unsaved instances.
"""
import datetime
from decimal import Decimal

from django.conf import settings
from django.core import signing
from django.utils.translation import gettext as _

from notify_site.formatting import number

from .context import DEFAULT_SIGN_OFF, HEX_COLOUR, _path, _reverse, absolute, money, when
from .events import Audience, get_event

STOCK_ALERT_SALT = "catalog.stock-alert"
UNSUBSCRIBE_SALT = "accounts.marketing-unsubscribe"
SECURE_SALT = "accounts.secure-account"

PRODUCT_CHANGE_KEYS = {
    "stock.low": ("threshold",),
    "product.back_in_stock": ("stock",),
    "product.alert_confirm": (),
    "product.updated": ("what", "note"),
}
ACCOUNT_CHANGE_KEYS = {
    "account.password_reset": ("reset_url", "expires", "ip"),
    "account.signup_confirm": ("confirm_url", "expires"),
    "account.signup_existing": ("ip",),
    "account.phone_verify": ("code", "minutes"),
    "account.suspicious_login": ("when", "ip", "device", "reason"),
    "account.unusual_order": ("order_number", "total", "reason", "country", "status_url"),
    "loyalty.tier_reached": ("tier", "points", "benefits", "next_tier", "next_needed"),
    "loyalty.milestone": ("milestone", "points", "tier", "benefits"),
}
STOCK_FIGURES = ("current", "threshold", "units_sold", "window_days", "average_daily_sales", "days_of_cover",
                 "lead_days", "safety_days", "recommended_quantity")


def store_brand(store) -> dict:
    """The store's branding for a product message (no per-event note: those are order messages)."""
    logo_url = ""
    if store.logo:
        try:
            logo_url = store.logo.url
        except ValueError:
            logo_url = ""
        if logo_url.startswith("/"):
            logo_url = absolute(logo_url)
    return {
        "name": store.name, "sender_name": store.sender_name or store.name, "logo_url": logo_url,
        "accent_colour": store.accent_colour if HEX_COLOUR.match(store.accent_colour or "") else "#1f6feb",
        "sign_off": _(DEFAULT_SIGN_OFF) if store.sign_off == DEFAULT_SIGN_OFF else store.sign_off, "support_email": store.support_email, "personal_note": "",
        "discount_code": "",
    }


def shop_brand() -> dict:
    """Account messages come from the platform itself, not from a store."""
    return {"name": settings.SHOP_NAME, "sender_name": "", "logo_url": "", "accent_colour": "#1f6feb",
            "sign_off": _("The %(shop)s team") % {"shop": settings.SHOP_NAME}, "support_email": "", "personal_note": "",
            "discount_code": ""}


def _base(event_code: str, audience: str, brand: dict) -> dict:
    event = get_event(event_code)
    return {
        "event": {"code": event.code, "label": event.label},
        "shop": {"name": settings.SHOP_NAME, "url": settings.SITE_URL + "/"},
        "store": brand,
        "recipient": {"first_name": "", "audience": audience},
    }


def _product(product) -> dict:
    return {
        "name": product.name, "sku": product.sku, "price": money(product.price, "GBP"),
        "stock": product.stock_on_hand, "url": absolute(product.get_absolute_url()),
        "supplier_name": product.supplier_name,
    }


def stock_figures(figures: dict) -> dict:
    out = {key: figures.get(key, "") for key in STOCK_FIGURES}
    for key, places in (("average_daily_sales", Decimal("0.01")), ("days_of_cover", Decimal("0.1"))):
        value = out[key]
        if isinstance(value, Decimal | float | int) and not isinstance(value, bool):
            out[key] = f"{Decimal(value).quantize(places)}"
        elif value is None or value == "":
            out[key] = "no recent sales" if key == "days_of_cover" else "0.00"
    return out


def product_context(event_code: str, audience: str, subject) -> dict:
    product = subject.product
    brand = store_brand(product.store)
    if audience == Audience.SELLER:  # an alert from the platform to the store, not the store's voice
        brand.update(sign_off=f"{settings.SHOP_NAME} seller alerts", sender_name="")
    elif audience == Audience.SUPPLIER:
        brand.update(sign_off=f"{product.store.name}, via {settings.SHOP_NAME}", sender_name="")
    ctx = _base(event_code, audience, brand)
    ctx["product"] = _product(product)
    ctx["links"] = {
        "product": ctx["product"]["url"],
        "dashboard": _reverse("seller:inventory") if audience == Audience.SELLER else "",
        "shop": _reverse("storefront:product_list") or settings.SITE_URL + "/",
        # Relative: where the in-app message opens.
        "inbox": _path("seller:inventory") if audience == Audience.SELLER else product.get_absolute_url(),
        "unsubscribe": "",
        "confirm": "",
    }
    ctx["change"] = {key: subject.change.get(key, "") for key in PRODUCT_CHANGE_KEYS[event_code]}
    if event_code == "stock.low":
        ctx["stock"] = stock_figures(subject.figures)
    return ctx


def stock_alert_token(subscription_id: int) -> str:
    return signing.dumps({"s": subscription_id}, salt=STOCK_ALERT_SALT, compress=True)


def unsubscribe_token(email: str) -> str:
    return signing.dumps({"e": email.strip().lower()}, salt=UNSUBSCRIBE_SALT, compress=True)


def personal_links(links: dict, event_code: str, recipient) -> dict:
    """Per-recipient links: the one-click stop of a back-in-stock alert, marketing unsubscribe."""
    out = dict(links)
    if event_code in ("product.back_in_stock", "product.alert_confirm"):
        sub_id = (recipient.extra or {}).get("subscription_id")
        if sub_id is not None:
            token = stock_alert_token(sub_id)
            out["unsubscribe"] = _reverse("storefront:stock_alert_stop", token)
            if event_code == "product.alert_confirm":
                out["confirm"] = _reverse("storefront:stock_alert_confirm", token)
    elif event_code == "product.updated" and recipient.audience == Audience.CUSTOMER:
        out["unsubscribe"] = _reverse("accounts:unsubscribe", unsubscribe_token(recipient.address))
    return out


def secure_account_token(user_id: int) -> str:
    return signing.dumps({"u": user_id}, salt=SECURE_SALT, compress=True)


def account_context(event_code: str, audience: str, subject) -> dict:
    user = subject.user
    ctx = _base(event_code, audience, shop_brand())
    ctx["account"] = {"username": user.username, "email": user.email, "first_name": user.first_name}
    ctx["links"] = {
        "security": _reverse("accounts:security"),
        "secure": _reverse("accounts:secure_account", secure_account_token(user.pk)) if user.pk else "",
        "reset": _reverse("accounts:password_reset"),
        "login": _reverse("accounts:login"),
        "loyalty": _reverse("accounts:loyalty"),
        "shop": _reverse("storefront:product_list") or settings.SITE_URL + "/",
        "inbox": _path("accounts:loyalty" if event_code.startswith("loyalty.") else "accounts:security"),
        "unsubscribe": "",
    }
    ctx["change"] = {key: subject.change.get(key, "") for key in ACCOUNT_CHANGE_KEYS[event_code]}
    return ctx


# --- sample data for validation and preview -------------------------------------------------------

def sample_product_subject(event_code: str):
    from catalog.models import Product, Store

    from .subjects import ProductSubject

    store = Store(name="Sample Store", slug="sample-store", accent_colour="#1f6feb",
                  sign_off="Thanks for shopping with us!", sender_name="Sample Store",
                  support_email="help@sample-store.example")
    product = Product(store=store, name="Linen shirt", slug="linen-shirt", sku="SKU-00001", price=Decimal("25.00"),
                      stock_on_hand=3 if event_code == "stock.low" else 12, low_stock_threshold=5,
                      restock_lead_days=7, supplier_name="Weavers Ltd", supplier_email="orders@weavers.example")
    figures = {"current": 3, "threshold": 5, "units_sold": 45, "window_days": 30,
               "average_daily_sales": Decimal("1.5"), "days_of_cover": Decimal("2.0"), "lead_days": 7,
               "safety_days": 7, "recommended_quantity": 18}
    change = {"threshold": 5, "stock": 12, "what": "New version: now in organic linen",
              "note": "Same cut, softer fabric, and the buttons are now corozo nut."}
    return ProductSubject(product=product, change=change, figures=figures)


def sample_account_subject(event_code: str):
    from accounts.models import User

    from .subjects import AccountSubject

    user = User(username="ada", email="ada@example.com", first_name="Ada")
    at = datetime.datetime(2025, 5, 12, 22, 14, tzinfo=datetime.UTC)
    change = {
        "reset_url": settings.SITE_URL + "/account/reset/MQ/set-password/", "expires": _("in 3 days"),
        "confirm_url": settings.SITE_URL + "/account/signup/confirm/sample/", "code": "482913", "minutes": 10,
        "ip": "203.0.113.7", "when": when(at), "device": "Firefox on Windows",
        "reason": _("a device and a network we have not seen for your account before"),
        "order_number": "NS-SAMP-LE42", "total": money(Decimal("412.00"), "GBP"), "country": "France",
        "status_url": settings.SITE_URL + "/o/sample/",
        "tier": "Silver", "points": 1000, "benefits": "Free standard shipping on every order",
        "next_tier": "Gold", "next_needed": 1500, "milestone": 1000,
    }
    if event_code == "account.unusual_order":
        change["reason"] = "; ".join([_("it is %(times)s times your usual order") % {"times": number(Decimal("4.1"))},
                                      _("it ships to a country you have not used before (%(country)s)")
                                      % {"country": "FR"}])
    return AccountSubject(user=user, change=change)
