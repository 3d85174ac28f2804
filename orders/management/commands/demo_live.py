"""Keep the demo moving: ship a few processing demo orders with the simulated carrier.

`make run` calls this after `seed_demo`. It acts only when no simulated parcel is still on its
way, so every run of the demo has parcels that visibly progress on their status pages, and
running it repeatedly never piles shipments up. The shipments go through the real services, so
customers get their "shipped" messages like any other order.
"""
from django.core.management.base import BaseCommand
from django.db.models import Max

from orders.models import Order, OrderStatus, Shipment, TRACKING_FINAL
from orders.services import shipment_create
from django.utils import timezone

from orders.checkout import estimate_delivery


class Command(BaseCommand):
    help = "Ship up to N processing demo orders with the simulated carrier when none is in flight."

    def add_arguments(self, parser):
        parser.add_argument("--count", type=int, default=3)

    def handle(self, *args, count, **options):
        in_flight = Shipment.objects.filter(carrier="simulated").exclude(status__in=TRACKING_FINAL).count()
        if in_flight:
            self.stdout.write(f"Live demo: {in_flight} simulated parcel(s) already on their way.")
            return
        orders = list(
            Order.objects.filter(status=OrderStatus.PROCESSING, store__sellers__isnull=False)
            .select_related("store").distinct().order_by("-placed_at")[:count]
        )
        last = Shipment.objects.filter(carrier="simulated").aggregate(n=Max("id"))["n"] or 0
        for i, order in enumerate(orders, start=1):
            seller = order.store.sellers.order_by("pk").first()
            shipment = shipment_create(
                order=order, carrier="simulated", carrier_name="Simulated carrier",
                tracking_number=f"SM{900000000 + last + i:09d}GB",
                eta=estimate_delivery(method=order.shipping_method, start=timezone.localdate()), actor=seller,
            )
            self.stdout.write(f"Live demo: shipped {order.number} ({shipment.tracking_number}); "
                              f"watch it move on its status page.")
        if not orders:
            self.stdout.write("Live demo: no processing order to ship; ship one from the seller dashboard.")
