from django.core.management import call_command

from orders.models import OrderStatus, Shipment
from tests.factories import OrderFactory, ProductFactory, SellerFactory


def _processing_orders(n):
    seller = SellerFactory()
    product = ProductFactory(store=seller.store)
    orders = [OrderFactory(store=seller.store, lines=[(product, 1)]) for _ in range(n)]
    for order in orders:
        type(order).objects.filter(pk=order.pk).update(status=OrderStatus.PROCESSING)
    return orders


def test_ships_processing_orders_with_the_simulated_carrier_once(db):
    orders = _processing_orders(4)

    call_command("demo_live", count=3)
    call_command("demo_live", count=3)  # parcels in flight: ships nothing more

    shipments = Shipment.objects.filter(carrier="simulated")
    assert shipments.count() == 3
    shipped = {s.order_id for s in shipments}
    assert all(o.status == OrderStatus.SHIPPED for o in type(orders[0]).objects.filter(pk__in=shipped))
    assert len({s.tracking_number for s in shipments}) == 3
