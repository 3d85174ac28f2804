"""Reads for the seller's inventory page, scoped to one store, in a fixed number of queries."""
from django.db.models import Count, F, Q

from .inventory import recommendation, units_sold
from .models import BackInStockSubscription, Product, ProductEvent

SHOW_CHOICES = {"all": "All products", "low": "Low stock", "out": "Out of stock"}


def store_product_get(*, store, product_id: int) -> Product:
    """One of the store's own products (Product.DoesNotExist for anyone else's)."""
    return Product.objects.select_related("store").get(pk=product_id, store=store)


def _scoped(store, *, search: str = "", show: str = "all"):
    qs = Product.objects.filter(store=store)
    if search:
        qs = qs.filter(Q(name__icontains=search) | Q(sku__icontains=search) | Q(supplier_name__icontains=search))
    if show == "low":
        qs = qs.filter(stock_on_hand__lte=F("low_stock_threshold"))
    elif show == "out":
        qs = qs.filter(stock_on_hand__lte=0)
    return qs


def inventory_rows(products, *, store, now=None) -> list[dict]:
    """Each product with its recommendation, waiting back-in-stock subscribers and last restock
    (three queries for any number of products)."""
    ids = [p.pk for p in products]
    sold = units_sold(ids, now=now)
    waiting = dict(BackInStockSubscription.objects.filter(product_id__in=ids, notified_at__isnull=True,
                                                          confirmed_at__isnull=False)
                   .values_list("product_id").annotate(n=Count("id")))
    last = {}
    for ev in (ProductEvent.objects.filter(product_id__in=ids, kind=ProductEvent.Kind.RESTOCK)
               .order_by("product_id", "-created_at", "-id").only("product_id", "created_at", "actor_label",
                                                                  "data")):
        last.setdefault(ev.product_id, ev)
    return [{
        "product": p, "low": p.stock_on_hand <= p.low_stock_threshold, "out": p.stock_on_hand <= 0,
        "rec": recommendation(p, sold=sold.get(p.pk, 0), safety_days=store.safety_stock_days),
        "waiting": waiting.get(p.pk, 0), "last_restock": last.get(p.pk),
    } for p in products]


def store_inventory(*, store, search: str = "", show: str = "all", limit: int = 200, now=None) -> dict:
    """The inventory page: low-stock products first (lowest cover first), then the rest by name."""
    show = show if show in SHOW_CHOICES else "all"
    products = list(_scoped(store, search=search, show=show).order_by("name", "id")[:limit])
    rows = inventory_rows(products, store=store, now=now)

    def cover_key(row):
        cover = row["rec"]["days_of_cover"]
        return (cover is None, cover or 0, row["product"].name)

    low = sorted([r for r in rows if r["low"]], key=cover_key)
    rest = [r for r in rows if not r["low"]]
    return {"low": low, "rest": rest, "count": len(rows), "truncated": len(rows) == limit, "show": show,
            "search": search}
