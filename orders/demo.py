"""The live demo (`make run`): keep simulated parcels moving for as long as the app runs.

``demo_keep_moving`` is run by beat every minute when ``DEMO_LIVE`` is on (``make run`` turns it
on). When fewer than ``DEMO_PARCELS_IN_FLIGHT`` simulated parcels are on their way, it ships the
newest processing demo orders, and when there are none it places a new order through the real
checkout (a demo customer, the test card) first. Everything goes through the services, so each
step writes its timeline rows and its messages like any other order.
"""
import random

from django.conf import settings
from django.db.models import Max
from django.utils import timezone

from .models import TRACKING_FINAL, Order, OrderStatus, Shipment

DEMO_CARD = "4242 4242 4242 4242"


def _tracking_number() -> str:
    last = Shipment.objects.filter(carrier="simulated").aggregate(n=Max("id"))["n"] or 0
    candidate = last + 1
    while Shipment.objects.filter(carrier="simulated", tracking_number=f"SM{900000000 + candidate:09d}GB").exists():
        candidate += 1
    return f"SM{900000000 + candidate:09d}GB"


def demo_order_place(*, rng: random.Random | None = None) -> Order | None:
    """A new order from a demo customer for an in-stock product of a store that has a seller."""
    from accounts.models import User
    from catalog.models import Product

    from .checkout import checkout_place

    rng = rng or random.Random()
    products = list(Product.objects.filter(active=True, stock_on_hand__gte=3, store__sellers__isnull=False)
                    .distinct().order_by("id")[:50])
    customers = list(User.objects.filter(store__isnull=True, is_staff=False, is_active=True)
                     .exclude(email="").order_by("id")[:50])
    if not products or not customers:
        return None
    from .checkout import CheckoutError, _clean_phone

    product, customer = rng.choice(products), rng.choice(customers)
    try:
        phone = _clean_phone(customer.phone)
    except CheckoutError:
        phone = ""  # an account number the checkout would refuse: the demo order goes without SMS
    result = checkout_place(
        customer=customer, email=customer.email, items={product.pk: 1},
        address={"name": customer.get_full_name() or customer.username, "line1": "12 Demo Street",
                 "city": "Bath", "postcode": "BA2 3AA", "country": "GB"},
        shipping_method=Order.ShippingMethod.STANDARD, payment_method="card", card_number=DEMO_CARD,
        phone=phone, sms_opt_in=bool(customer.sms_opt_in and phone),
    )
    return result.orders[0] if result.orders else None


def demo_keep_moving(*, in_flight_target: int | None = None, place_new: bool = True) -> list[str]:
    """Ship demo orders until ``in_flight_target`` simulated parcels are on their way; returns what it did."""
    from .checkout import estimate_delivery
    from .services import shipment_create

    target = in_flight_target if in_flight_target is not None else settings.DEMO_PARCELS_IN_FLIGHT
    in_flight = Shipment.objects.filter(carrier="simulated").exclude(status__in=TRACKING_FINAL).count()
    done = []
    while in_flight < target:
        order = (Order.objects.filter(status=OrderStatus.PROCESSING, store__sellers__isnull=False)
                 .select_related("store").distinct().order_by("-placed_at").first())
        if order is None and place_new:
            placed = demo_order_place()
            if placed is not None:
                done.append(f"placed {placed.number}")
                order = Order.objects.filter(pk=placed.pk, status=OrderStatus.PROCESSING).first()
        if order is None:
            break
        seller = order.store.sellers.order_by("pk").first()
        shipment = shipment_create(
            order=order, carrier="simulated", carrier_name="Simulated carrier", tracking_number=_tracking_number(),
            eta=estimate_delivery(method=order.shipping_method, start=timezone.localdate()), actor=seller,
        )
        done.append(f"shipped {order.number} ({shipment.tracking_number})")
        in_flight += 1
    return done
