"""Storefront pages: product list and page, back-in-stock alerts, cart, checkout, order placed.

Views parse input, call one service (catalog.services / orders.checkout) and render.
"""
from urllib.parse import urlencode
from uuid import UUID

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from catalog.models import Product, Store
from notify_site.client_ip import client_ip_or_none
from notify_site.formatting import money
from catalog.services import StockError, back_in_stock_subscribe
from orders.checkout import (
    CheckoutError,
    cart_quote,
    checkout_place,
    checkout_retry_payment,
    orders_awaiting_payment,
)
from orders.links import status_path
from orders.models import Order, Payment
from orders.links import pay_path
from orders.payments.hosted import PayNowRefused, can_pay_now, card_is_hosted, hosted_payment_start

from .cart import Cart
from .forms import BackInStockForm, CartUpdateForm, CheckoutForm, QuantityForm, RetryPaymentForm

PRODUCTS_PER_PAGE = 12
PLACED_SESSION_KEY = "placed_checkouts"


# The order status page, guest tracking and carrier tracking views live in their own modules
# (storefront.views_tracking, orders): the URL names are shared, the code is not.


# --- catalogue ------------------------------------------------------------------------------

def product_list(request):
    query = request.GET.get("q", "").strip()[:100]
    stores = list(Store.objects.order_by("name"))
    store = next((s for s in stores if s.slug == request.GET.get("store")), None)
    products = Product.objects.filter(active=True).select_related("store")
    if query:
        products = products.filter(Q(name__icontains=query) | Q(description__icontains=query)
                                   | Q(sku__icontains=query) | Q(store__name__icontains=query))
    if store:
        products = products.filter(store=store)
    page = Paginator(products.order_by("name", "pk"), PRODUCTS_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "storefront/product_list.html", {
        "page": page, "query": query, "stores": stores, "store": store,
        "filter_qs": urlencode({k: v for k, v in {"q": query, "store": store.slug if store else ""}.items() if v}),
    })


def _product_or_404(store_slug: str, product_slug: str) -> Product:
    return get_object_or_404(Product.objects.select_related("store"), store__slug=store_slug, slug=product_slug,
                             active=True)


def _product_page(request, product: Product, *, alert_form=None, status=200):
    if alert_form is None and not product.purchasable:
        email = request.user.email if request.user.is_authenticated else ""
        alert_form = BackInStockForm(initial={"email": email})
    return render(request, "storefront/product_detail.html", {
        "product": product, "add_form": QuantityForm(), "alert_form": alert_form,
        "in_cart": Cart(request.session).quantity_of(product.pk),
    }, status=status)


def product_detail(request, store_slug, product_slug):
    return _product_page(request, _product_or_404(store_slug, product_slug))


@require_POST
def stock_alert(request, store_slug, product_slug):
    product = _product_or_404(store_slug, product_slug)
    if product.purchasable:
        messages.info(request, _("Good news: %(name)s is available now. Add it to your cart.") % {"name": product.name})
        return redirect(product)
    form = BackInStockForm(request.POST)
    if not form.is_valid():
        return _product_page(request, product, alert_form=form, status=400)
    user = request.user if request.user.is_authenticated else None
    sub, created = back_in_stock_subscribe(product=product, email=form.cleaned_data["email"], user=user)
    if sub.confirmed_at is None:
        messages.info(request, _("Almost done: we sent a confirmation link to %(email)s. Open it and we'll email "
                                 "you when %(name)s is back in stock.") % {"email": form.cleaned_data["email"],
                                                                           "name": product.name})
    elif created:
        messages.success(request, _("Done. We'll email %(email)s when %(name)s is back in stock.")
                         % {"email": form.cleaned_data["email"], "name": product.name})
    else:
        messages.info(request, _("You're already on the list: we'll email %(email)s when %(name)s is back.")
                      % {"email": form.cleaned_data["email"], "name": product.name})
    return redirect(product)


# --- cart -----------------------------------------------------------------------------------

def _stock_problem(product: Product, quantity: int) -> str:
    if not product.active:
        return f"Sorry, {product.name} is no longer available."
    if not product.allow_backorder and quantity > product.stock_on_hand:
        if product.stock_on_hand <= 0:
            return f"Sorry, {product.name} is out of stock."
        return f"Sorry, only {product.stock_on_hand} of {product.name} left."
    return ""


def cart(request):
    basket = Cart(request.session)
    quote = cart_quote(basket.items(), promo_code=basket.promo_code)
    if quote.missing_product_ids:
        basket.drop(quote.missing_product_ids)
        messages.warning(request, _("An item in your cart is no longer sold and was removed."))
    return render(request, "storefront/cart.html", {"quote": quote, "promo_code": basket.promo_code})


@require_POST
def cart_promo(request):
    """Apply (or, with ``remove``, drop) a promotion code: checked now, and again at checkout."""
    basket = Cart(request.session)
    code = "" if request.POST.get("remove") else (request.POST.get("code") or "").strip().upper()[:32]
    if not code:
        basket.set_promo_code("")
        messages.success(request, _("Code removed."))
        return redirect("storefront:cart")
    quote = cart_quote(basket.items(), promo_code=code)
    if quote.promo_error:
        messages.error(request, quote.promo_error)
    else:
        basket.set_promo_code(code)
        messages.success(request, _("Code %(code)s applied: you save %(amount)s.") % {
            "code": quote.promo_code, "amount": money(quote.discount)})
    return redirect("storefront:cart")


@require_POST
def cart_add(request, product_id):
    product = get_object_or_404(Product.objects.select_related("store"), pk=product_id, active=True)
    form = QuantityForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose a quantity between 1 and 99."))
        return redirect(product)
    basket = Cart(request.session)
    quantity = basket.quantity_of(product.pk) + form.cleaned_data["quantity"]
    problem = _stock_problem(product, quantity)
    if problem:
        messages.error(request, problem + (" (Some are already in your cart.)" if basket.quantity_of(product.pk) else ""))
        return redirect(product)
    basket.set(product.pk, quantity)
    messages.success(request, _("Added %(cleaned_data_quantity)s × %(name)s to your cart.") % {"cleaned_data_quantity": form.cleaned_data['quantity'], "name": product.name})
    return redirect("storefront:cart")


@require_POST
def cart_update(request, product_id):
    basket = Cart(request.session)
    if product_id not in basket.items():
        raise Http404("That item is not in your cart.")
    form = CartUpdateForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Quantity must be a whole number from 0 to 99."))
        return redirect("storefront:cart")
    quantity = form.cleaned_data["quantity"]
    product = Product.objects.filter(pk=product_id).first()
    if quantity and product is not None:
        problem = _stock_problem(product, quantity)
        if problem:
            messages.error(request, problem)
            return redirect("storefront:cart")
    basket.set(product_id, quantity)
    if quantity == 0:
        messages.success(request, _("Item removed from your cart."))
    return redirect("storefront:cart")


@require_POST
def cart_remove(request, product_id):
    Cart(request.session).remove(product_id)
    messages.success(request, _("Item removed from your cart."))
    return redirect("storefront:cart")


# --- checkout -------------------------------------------------------------------------------

def _client_ip(request) -> str | None:
    return client_ip_or_none(request)


def checkout(request):
    basket = Cart(request.session)
    items = basket.items()
    if not items:
        messages.info(request, _("Your cart is empty: add something first."))
        return redirect("storefront:cart")
    user = request.user if request.user.is_authenticated else None
    if request.method == "POST":
        form = CheckoutForm(request.POST)
    else:
        initial = {}
        if user:
            initial = {"email": user.email, "name": user.get_full_name(), "phone": user.phone or None}
        # LocaleMiddleware picked it: the language chosen on the site, the account's, or Accept-Language.
        initial["language"] = translation.get_language()
        form = CheckoutForm(initial=initial)
    method = request.POST.get("shipping_method") or form.fields["shipping_method"].initial
    quote = cart_quote(items, promo_code=basket.promo_code)
    if quote.missing_product_ids:
        basket.drop(quote.missing_product_ids)
        messages.warning(request, _("An item in your cart is no longer sold and was removed."))
        return redirect("storefront:cart")
    quotes = {m: quote.with_method(m) for m in Order.ShippingMethod.values}
    if method not in quotes:
        method = Order.ShippingMethod.STANDARD
    # Show what each delivery option costs for this cart (all stores together).
    free = _("Free")
    form.fields["shipping_method"].choices = [
        (value, f"{label} · {money(quotes[value].shipping, 'GBP') if quotes[value].shipping else free}")
        for value, label in Order.ShippingMethod.choices
    ]

    status = 400
    if request.method == "POST" and form.is_valid() and _cod_rate_limited(request, form.cleaned_data):
        form.add_error(None, COD_LIMITED)
        status = 429
    elif request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            result = checkout_place(
                customer=user, email=data["email"], items=items, address=form.address(),
                shipping_method=data["shipping_method"], payment_method=data["payment_method"],
                card_number=data["card_number"], phone=form.phone_e164(), sms_opt_in=data["sms_opt_in"],
                whatsapp_opt_in=data["whatsapp_opt_in"],
                marketing_opt_in=data["marketing_opt_in"], ip=_client_ip(request),
                promo_code=basket.promo_code, language=data["language"] or translation.get_language(),
            )
        except (CheckoutError, StockError) as exc:
            form.add_error(None, str(exc))
        else:
            placed = [str(result.checkout_id)] + list(request.session.get(PLACED_SESSION_KEY, []))
            request.session[PLACED_SESSION_KEY] = placed[:20]
            basket.clear()
            if result.hosted and len(result.orders) == 1:
                # Straight on to Stripe's payment page; several orders (stores) are paid one by one
                # from the placed page.
                try:
                    return redirect(hosted_payment_start(order=result.orders[0]))
                except PayNowRefused as exc:
                    messages.error(request, str(exc))
            return redirect("storefront:checkout_placed", checkout_id=result.checkout_id)

    return render(request, "storefront/checkout.html", {
        "form": form, "quote": quotes[method], "method": method,
        # One summary per delivery method; the page shows the one whose radio is ticked (CSS :has, no JS).
        "summaries": list(quotes.items()),
    }, status=status if request.method == "POST" else 200)


# Cash on delivery costs an attacker nothing: cap it per client address and per email address, so
# the shop cannot be used to send order emails to someone else's inbox (settings.CHECKOUT_COD_RATE_*).
COD_LIMITED = _("Too many cash-on-delivery orders from here or for this email address. Please wait a while, "
                "or pay by card.")


def _cod_rate_limited(request, data) -> bool:
    from django.conf import settings
    from django_ratelimit.core import is_ratelimited

    from orders.models import Payment

    if data.get("payment_method") != Payment.Method.COD:
        return False
    email = (data.get("email") or "").strip().lower()
    by_ip = is_ratelimited(request, group="checkout-cod-ip", key="ip", rate=settings.CHECKOUT_COD_RATE_PER_IP,
                           method="POST", increment=True)
    by_email = is_ratelimited(request, group="checkout-cod-email", key=lambda group, request: email,
                              rate=settings.CHECKOUT_COD_RATE_PER_EMAIL, method="POST", increment=True)
    return by_ip or by_email


def _placed_orders_or_404(request, checkout_id: UUID) -> list[Order]:
    """The orders of one checkout, for the browser that placed them or the customer who owns them."""
    orders = list(Order.objects.filter(checkout_id=checkout_id).select_related("store", "customer")
                  .prefetch_related("lines", "payments").order_by("store__name", "pk"))
    if not orders:
        raise Http404("No such order.")
    in_session = str(checkout_id) in request.session.get(PLACED_SESSION_KEY, [])
    owner = request.user.is_authenticated and all(o.customer_id == request.user.pk for o in orders)
    if not (in_session or owner):
        raise Http404("No such order.")
    return orders


def checkout_placed(request, checkout_id):
    orders = _placed_orders_or_404(request, checkout_id)
    hosted = card_is_hosted()
    awaiting = orders_awaiting_payment(orders)
    for order in orders:
        order.status_link = status_path(order)
        order.latest_payment = next(iter(order.payments.all()), None)
        order.mine = request.user.is_authenticated and order.customer_id == request.user.pk
        order.pay_link = pay_path(order) if hosted and can_pay_now(order, list(order.payments.all())) else ""
    return render(request, "storefront/placed.html", {
        "orders": orders, "awaiting": awaiting,
        "retry_form": RetryPaymentForm() if awaiting else None,
        "email": orders[0].email,
    })


@require_POST
def checkout_pay(request, checkout_id):
    orders = _placed_orders_or_404(request, checkout_id)
    form = RetryPaymentForm(request.POST)
    if not form.is_valid():
        errors = "; ".join(e for errs in form.errors.values() for e in errs)
        messages.error(request, errors)
        return redirect("storefront:checkout_placed", checkout_id=checkout_id)
    if form.hosted and form.cleaned_data["payment_method"] == Payment.Method.CARD:
        payable = [o for o in orders if can_pay_now(o, list(o.payments.all()))]
        if payable:  # the pay page of the first order still to pay (it opens Stripe's page)
            return redirect(pay_path(payable[0]))
    try:
        result = checkout_retry_payment(orders=orders, payment_method=form.cleaned_data["payment_method"],
                                        card_number=form.cleaned_data["card_number"])
    except CheckoutError as exc:
        messages.error(request, str(exc))
    else:
        if result.payment_ok:
            messages.success(request, _("Thank you: payment sorted. Your order is being prepared."))
        else:
            messages.error(request, _("%(error)s. Your items are still reserved: try another card or choose cash "
                                      "on delivery.") % {"error": result.error})
    return redirect("storefront:checkout_placed", checkout_id=checkout_id)
