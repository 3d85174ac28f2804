"""The seller's inventory: stock with the restock recommendation, low stock first, edit stock and
threshold in place, restock, record a product update. Forms post with htmx and get the row back;
without JavaScript they redirect back to the page."""
from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from catalog.inventory import (
    UPDATE_KINDS,
    InventoryError,
    product_record_update,
    stock_count,
    stock_restock,
    stock_settings_set,
)
from catalog.models import Product
from catalog.selectors import SHOW_CHOICES, inventory_rows, store_inventory, store_product_get

from ..access import seller_required
from ..forms import ProductUpdateForm, RestockForm, StockEditForm


@require_GET
@seller_required
def inventory(request):
    search = request.GET.get("q", "").strip()[:100]
    data = store_inventory(store=request.store, search=search, show=request.GET.get("show", "all"))
    return render(request, "seller/inventory.html", {**data, "section": "inventory", "shows": SHOW_CHOICES,
                                                     "update_kinds": UPDATE_KINDS})


def _product(request, product_id) -> Product:
    try:
        return store_product_get(store=request.store, product_id=product_id)
    except Product.DoesNotExist:
        raise Http404("No such product in your store.") from None


def _answer(request, product, *, error: str = "", done: str = ""):
    if request.headers.get("HX-Request"):
        product.refresh_from_db()
        [row] = inventory_rows([product], store=request.store)
        return render(request, "seller/_inventory_row.html", {"row": row, "error": error, "done": done,
                                                              "update_kinds": UPDATE_KINDS},
                      status=422 if error else 200)
    if error:
        messages.error(request, f"{product.name}: {error}")
    else:
        messages.success(request, done)
    return redirect(request.POST.get("next") or reverse("seller:inventory"))


def _first_error(form) -> str:
    return "; ".join(str(e) for errors in form.errors.values() for e in errors)


@require_POST
@seller_required
def restock(request, product_id):
    product = _product(request, product_id)
    form = RestockForm(request.POST)
    if not form.is_valid():
        return _answer(request, product, error=_first_error(form))
    try:
        event = stock_restock(product=product, quantity=form.cleaned_data["quantity"], actor=request.user,
                              note=form.cleaned_data.get("note", ""))
    except InventoryError as exc:
        return _answer(request, product, error=str(exc))
    return _answer(request, product, done=f"Restocked {product.name}: {event.stock_before} → {event.stock_after}.")


@require_POST
@seller_required
def edit(request, product_id):
    product = _product(request, product_id)
    form = StockEditForm(request.POST)
    if not form.is_valid():
        return _answer(request, product, error=_first_error(form))
    data = form.cleaned_data
    try:
        stock_settings_set(product=product, low_stock_threshold=data["low_stock_threshold"],
                           restock_lead_days=data["restock_lead_days"], actor=request.user)
        if data["stock_on_hand"] != product.stock_on_hand:
            stock_count(product=product, stock_on_hand=data["stock_on_hand"], actor=request.user)
    except InventoryError as exc:
        return _answer(request, product, error=str(exc))
    return _answer(request, product, done=f"Saved {product.name}.")


@require_POST
@seller_required
def record_update(request, product_id):
    product = _product(request, product_id)
    form = ProductUpdateForm(request.POST)
    if not form.is_valid():
        return _answer(request, product, error=_first_error(form))
    try:
        product_record_update(product=product, kind=form.cleaned_data["kind"], note=form.cleaned_data["note"],
                              actor=request.user)
    except InventoryError as exc:
        return _answer(request, product, error=str(exc))
    return _answer(request, product, done=f"Recorded the update to {product.name}; past buyers who agreed to news "
                                          "and the supplier are told.")
