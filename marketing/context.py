"""The one message context a promotion's recipients share, and the signed unsubscribe link.

Built once at launch and stored on the promotion (``Promotion.context``); each outbox row holds
only ``{"shared": "promotion"}``. At send time ``for_row`` adds the few things that are the
recipient's own: their first name and their unsubscribe link (a signed token, no login needed).
"""
from django.conf import settings
from django.core import signing

from notifications.context import _reverse, absolute, when
from notifications.context_subjects import UNSUBSCRIBE_SALT, shop_brand, store_brand, unsubscribe_token
from notifications.events import Audience, Channel, get_event

ELIGIBLE_LISTED = 10  # product names in the message; the rest is "and N more"


def eligible_products(promotion):
    from catalog.models import Product

    if promotion.whole_store and promotion.store_id:
        return Product.objects.filter(store_id=promotion.store_id, active=True)
    return promotion.products.all()


def promotion_context(promotion, products: list | None = None) -> dict:
    """``products``: given for the unsaved sample promotion (admin template validation)."""
    event = get_event("promotion.launched")
    brand = store_brand(promotion.store) if promotion.store_id else shop_brand()
    if products is None:
        products = list(eligible_products(promotion).select_related("store").order_by("name")[:ELIGIBLE_LISTED])
        total = eligible_products(promotion).count()
    else:
        total = len(products)
    listed = [{"name": p.name, "url": absolute(p.get_absolute_url())} for p in products[:ELIGIBLE_LISTED]]
    return {
        "event": {"code": event.code, "label": event.label},
        "shop": {"name": settings.SHOP_NAME, "url": settings.SITE_URL + "/"},
        "store": dict(brand, discount_code=promotion.code),
        "recipient": {"first_name": "", "audience": Audience.CUSTOMER},
        "promotion": {
            "title": promotion.title, "discount_percent": promotion.discount_percent, "code": promotion.code,
            "starts": when(promotion.starts_at), "ends": when(promotion.ends_at), "message": promotion.message,
            "whole_store": bool(promotion.whole_store and promotion.store_id),
            "products": listed, "more_products": max(0, total - len(listed)),
        },
        "links": {"shop": _reverse("storefront:product_list") or settings.SITE_URL + "/",
                  "product": listed[0]["url"] if len(listed) == 1 else "", "inbox": "", "unsubscribe": "",
                  "confirm": ""},
    }


def marketing_token(address: str, channel: str = Channel.EMAIL, promotion_id: int | None = None) -> str:
    """A per-recipient signed token for the unsubscribe URL (same salt as the product-update link,
    so old links keep working); ``c`` says which channel's consent it withdraws, ``p`` which
    promotion it came from (counted on its progress page)."""
    if channel == Channel.EMAIL and promotion_id is None:
        return unsubscribe_token(address)
    data = {"e": address.strip().lower() if channel == Channel.EMAIL else address.strip(), "c": channel}
    if promotion_id is not None:
        data["p"] = promotion_id
    return signing.dumps(data, salt=UNSUBSCRIBE_SALT, compress=True)


def unsubscribe_url(address: str, channel: str = Channel.EMAIL, promotion_id: int | None = None) -> str:
    return _reverse("unsubscribe_one_click", marketing_token(address, channel, promotion_id))


def for_row(shared: dict, *, first_name: str, address: str, channel: str, promotion_id: int) -> dict:
    out = dict(shared)
    out["recipient"] = {"first_name": first_name, "audience": Audience.CUSTOMER}
    out["links"] = dict(shared.get("links") or {}, unsubscribe=unsubscribe_url(address, channel, promotion_id)
                        if channel == Channel.EMAIL else "")
    return out


def sample_promotion():
    """An unsaved promotion with two unsaved products, for previews of templates with no promotion."""
    import datetime

    from django.utils import timezone

    from catalog.models import Product, Store

    from .models import Promotion

    store = Store(name="Lumen Lighting", slug="lumen", sender_name="Lumen", support_email="help@lumen.example")
    products = [Product(store=store, name="Desk Lamp", slug="desk-lamp", sku="LAMP-1"),
                Product(store=store, name="Bulb", slug="bulb", sku="BULB-1")]
    start = timezone.now().replace(microsecond=0)
    promotion = Promotion(pk=0, title="Spring sale", store=store, discount_percent=20, code="SPRING20",
                          starts_at=start, ends_at=start + datetime.timedelta(days=7), channels=["email", "sms"],
                          message="Twenty percent off our lamps this week.")
    return promotion, products
