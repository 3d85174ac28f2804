"""Demo data: 3 stores with sellers, 30 products, 20 customers, an admin and ~200 orders.

Idempotent: users, stores and products are found by their natural keys and left alone when they
exist; the orders are made once (their checkouts carry fixed ids) in one transaction, so a second
run, or a run after a crash, never duplicates anything.

Every order is built through the real services (checkout_place, order_transition, shipment_create,
shipment_record_tracking, payment_set_status, return_*, seller.services.order_cancel / order_refund),
so timelines, payments and shipments are
exactly what the app itself would have produced; only the timestamps are moved into the past
afterwards. Seeding runs with ``settings.NOTIFICATIONS_SUPPRESSED = True`` so the notification
engine can skip fanning out hundreds of historical messages.
"""
import random
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand
from django.db import transaction
from django.test.utils import override_settings
from django.utils import timezone
from django.utils.text import slugify

from accounts.models import User
from accounts.services import user_create
from catalog.models import Product, Store
from orders.checkout import checkout_place, estimate_delivery
from orders.models import Order, OrderEvent, OrderStatus, Payment, ReturnRequest, Shipment, TrackingEvent
from orders.models import TrackingStatus as T
from orders.services import (
    TrackingUpdate,
    order_transition,
    payment_set_status,
    return_request_create,
    return_set_status,
    shipment_create,
    shipment_record_tracking,
)
from seller.services import order_cancel, order_refund

DEMO_PASSWORD = "demo12345"
SEED_NAMESPACE = uuid.UUID("6f1d7c1e-2b1a-4c55-9a8e-5eed0de30001")
TARGET_ORDERS = 200
GOOD_CARD, DECLINED_CARD = "4242424242424242", "4000000000000002"

STORES = [
    # slug, name, accent, sign-off, seller (username, first, last)
    ("northwind", "Northwind Outfitters", "#1f6feb", "See you on the trail! — the Northwind team",
     ("nina", "Nina", "Patel")),
    ("copper-kettle", "Copper Kettle Kitchen", "#b35900", "Happy cooking, from all of us at Copper Kettle",
     ("carl", "Carl", "Okafor")),
    ("pixel-paper", "Pixel & Paper", "#8250df", "Write on! — Pia and the studio",
     ("pia", "Pia", "Lindqvist")),
]
# store slug -> (name, price, stock after seeding, low-stock threshold, allow backorder, lead days, description)
PRODUCTS = {
    "northwind": [
        ("Trail Runner Backpack 22L", "64.00", 25, 5, False, 10, "Light daypack with a ventilated back panel, hip belt pockets and a rain cover."),
        ("Merino Wool Hiking Socks", "14.50", 80, 10, False, 7, "Cushioned merino blend socks that stay warm when wet. Sizes 4–12."),
        ("Packable Rain Jacket", "89.00", 3, 5, False, 12, "Fully taped 2.5-layer waterproof that packs into its own pocket."),
        ("Insulated Steel Bottle 750ml", "24.00", 40, 8, False, 7, "Keeps drinks cold for 24 hours or hot for 12."),
        ("Trekking Poles (pair)", "49.00", 0, 5, False, 14, "Aluminium, flick-lock adjustable 100–135 cm, cork grips."),
        ("Headtorch 400 Lumen", "29.99", 12, 5, False, 7, "USB-C rechargeable with red light mode and lock-out."),
        ("Camping Hammock", "39.00", 4, 5, False, 10, "Parachute nylon hammock with tree straps, 200 kg rated."),
        ("Ultralight Tent 2P", "249.00", 0, 3, True, 14, "1.4 kg two-person tent. Currently made to order: ships in about two weeks."),
        ("Compass with Mirror", "18.00", 30, 5, False, 7, "Sighting compass with declination adjustment and clinometer."),
        ("First Aid Kit Pro", "22.50", 9, 5, False, 7, "Waterproof pouch with 85 items for day hikes and camping."),
    ],
    "copper-kettle": [
        ("Copper Pour-Over Kettle", "58.00", 15, 5, False, 10, "Gooseneck kettle for precise pouring, 1 litre, induction ready."),
        ("Cast Iron Skillet 26cm", "42.00", 20, 5, False, 10, "Pre-seasoned cast iron that goes from hob to oven to table."),
        ("Chef's Knife 20cm", "75.00", 2, 4, False, 21, "Forged German steel, full tang, balanced for everyday prep."),
        ("Olive Wood Chopping Board", "34.00", 18, 5, False, 10, "Hand-finished single piece of olive wood, each grain unique."),
        ("Ceramic Pour-Over Dripper", "19.50", 0, 5, False, 7, "Glazed ceramic cone dripper for one to two cups."),
        ("Hand Burr Coffee Grinder", "55.00", 7, 5, False, 10, "Stainless steel conical burrs with 40 click settings."),
        ("Linen Tea Towels (set of 3)", "16.00", 60, 10, False, 7, "Stonewashed linen, gets softer with every wash."),
        ("Enamel Dutch Oven 4.5L", "119.00", 5, 5, False, 21, "Enamelled cast iron casserole for stews, bread and braises."),
        ("Digital Kitchen Scale", "21.00", 33, 5, False, 7, "Accurate to 1 g up to 5 kg, with tare and a liquid mode."),
        ("Loose Leaf Tea Sampler", "15.00", 0, 8, False, 5, "Six teas from small estates, enough for 30 cups."),
    ],
    "pixel-paper": [
        ("Dotted Notebook A5", "12.00", 120, 15, False, 7, "160 pages of 100 gsm paper that fountain pens love. Lay-flat binding."),
        ("Fountain Pen Starter Set", "32.00", 14, 5, False, 10, "Steel nib pen, converter and six cartridges in a gift box."),
        ("Mechanical Keyboard 75%", "129.00", 6, 5, False, 21, "Hot-swappable switches, PBT keycaps, USB-C and Bluetooth."),
        ("Felt Desk Mat 900mm", "27.00", 25, 5, False, 10, "Merino felt desk mat with a non-slip cork underside."),
        ("Brass Desk Lamp", "88.00", 1, 3, False, 14, "Solid brass arm lamp with a warm dimmable LED."),
        ("Washi Tape Set", "9.50", 200, 20, False, 7, "Ten rolls of Japanese paper tape in muted colours."),
        ("Wireless Charging Pad", "29.00", 0, 5, False, 10, "15 W Qi charger in walnut and aluminium."),
        ("Weekly Planner 2026", "24.00", 35, 8, False, 7, "Week-to-view planner with monthly goals and habit trackers."),
        ('Laptop Sleeve 14"', "39.00", 11, 5, False, 10, "Recycled wool felt sleeve with a leather pull tab."),
        ("Ink Bottle Midnight Blue", "11.00", 3, 5, False, 7, "50 ml bottle of smooth, quick-drying fountain pen ink."),
    ],
}
SUPPLIERS = {
    "northwind": ("Peak Gear Supply", "peakgear.example"),
    "copper-kettle": ("Forge & Field Wholesale", "forgefield.example"),
    "pixel-paper": ("Studio Goods Co", "studiogoods.example"),
}
SIGN_INS = [  # days ago, user agent, IP, succeeded, new device
    (40, "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 Version/17.5 Safari/605.1.15",
     "81.2.69.142", True, False),
    (12, "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 Version/17.5 Mobile Safari/604.1",
     "81.2.69.160", True, True),
    (2, "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/126.0 Safari/537.36",
     "203.0.113.45", False, False),
    (2, "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/126.0 Safari/537.36",
     "203.0.113.45", True, True),
]
CUSTOMERS = [
    ("alice", "Alice", "Smith", "London", "SW1A 1AA"), ("bob", "Bob", "Jones", "Manchester", "M1 1AE"),
    ("carol", "Carol", "Williams", "Leeds", "LS1 4DY"), ("dave", "Dave", "Brown", "Bristol", "BS1 4DJ"),
    ("erin", "Erin", "Taylor", "Edinburgh", "EH1 1YZ"), ("frank", "Frank", "Davies", "Cardiff", "CF10 1EP"),
    ("grace", "Grace", "Evans", "Glasgow", "G1 1XQ"), ("heidi", "Heidi", "Thomas", "Brighton", "BN1 1AA"),
    ("ivan", "Ivan", "Roberts", "Liverpool", "L1 8JQ"), ("judy", "Judy", "Johnson", "Newcastle upon Tyne", "NE1 7RU"),
    ("kate", "Kate", "Walker", "Sheffield", "S1 2HE"), ("leo", "Leo", "Wright", "Nottingham", "NG1 5FS"),
    ("mia", "Mia", "Robinson", "Oxford", "OX1 2JD"), ("noah", "Noah", "Thompson", "Cambridge", "CB2 1TN"),
    ("olivia", "Olivia", "White", "York", "YO1 7HH"), ("peggy", "Peggy", "Hughes", "Bath", "BA1 1LZ"),
    ("quinn", "Quinn", "Edwards", "Exeter", "EX1 1HS"), ("rupert", "Rupert", "Green", "Norwich", "NR2 1NH"),
    ("sybil", "Sybil", "Hall", "Belfast", "BT1 5GS"), ("trent", "Trent", "Wood", "Birmingham", "B1 1BB"),
]
STREETS = ["High Street", "Station Road", "Church Lane", "Victoria Road", "Mill Lane", "Park Avenue", "Queen Street",
           "King's Road", "Market Place", "Orchard Close"]
HOLD_REASONS = ["Address could not be verified: we've emailed you to confirm it",
                "Waiting for a part of the order from our supplier",
                "Payment flagged for a routine check"]
CANCEL_REASONS = ["Customer changed their mind", "Item damaged in the warehouse", "Customer ordered the wrong size",
                  "Could not verify the delivery address"]
RETURN_REASONS = ["Too small", "Arrived damaged", "Not as described", "Changed my mind"]
# Final status -> (share of checkouts, age range in days)
PLAN = [
    ("pending", 0.08, (0, 2)), ("processing", 0.15, (0, 3)), ("on_hold", 0.06, (1, 6)),
    ("shipped", 0.18, (2, 8)), ("completed", 0.38, (8, 75)), ("cancelled", 0.08, (2, 45)),
    ("refunded", 0.07, (15, 75)),
]


@dataclass
class Clock:
    """Moves one order's timeline into the past: everything made since the last stamp gets time ``at``."""

    order: Order
    at: datetime
    last_event_id: int = 0

    def stamp(self, at: datetime | None = None):
        if at is not None:
            self.at = at
        new = OrderEvent.objects.filter(order=self.order, pk__gt=self.last_event_id)
        ids = list(new.values_list("pk", flat=True))
        if ids:
            OrderEvent.objects.filter(pk__in=ids).update(created_at=self.at)
            self.last_event_id = max(ids)

    def later(self, rng: random.Random, lo_hours: float, hi_hours: float) -> datetime:
        self.at = min(self.at + timedelta(hours=rng.uniform(lo_hours, hi_hours)), timezone.now())
        return self.at


class Command(BaseCommand):
    help = "Load the demo shop (stores, sellers, products, customers, ~200 orders). Safe to run repeatedly."

    def handle(self, *args, **options):
        started = timezone.now()
        self.password_hash = make_password(DEMO_PASSWORD)  # hash once, not per user
        with override_settings(NOTIFICATIONS_SUPPRESSED=True), transaction.atomic():
            admin = self._admin()
            stores, sellers = self._stores()
            products = self._products(stores)
            customers = self._customers()
            made = self._orders(stores, sellers, products, customers)
            self._inventory_loyalty_security(stores, sellers, products, customers)
        seconds = (timezone.now() - started).total_seconds()
        self.stdout.write(self.style.SUCCESS(
            f"Demo data ready in {seconds:.1f}s: {Store.objects.count()} stores, {Product.objects.count()} products, "
            f"{User.objects.count()} users, {Order.objects.count()} orders ({made} new)."))
        self._print_logins(admin, sellers, customers)

    # --- people and catalogue -------------------------------------------------------------

    def _user(self, username, **fields):
        user = User.objects.filter(username=username).first()
        if user is None:
            user = user_create(username=username, email=f"{username}@example.com", password_hash=self.password_hash,
                               **fields)
        return user

    def _admin(self):
        return self._user("admin", first_name="Ada", last_name="Admin", is_staff=True, is_superuser=True)

    def _stores(self):
        stores, sellers = {}, {}
        for slug, name, accent, sign_off, (username, first, last) in STORES:
            store, _ = Store.objects.get_or_create(slug=slug, defaults={
                "name": name, "accent_colour": accent, "sign_off": sign_off, "sender_name": name,
                "support_email": f"help@{slug}.example",
                "return_address": f"{name} Returns\nUnit 4, Riverside Trading Estate\nBristol BS2 0QT"})
            stores[slug] = store
            sellers[slug] = self._user(username, first_name=first, last_name=last, store=store,
                                       phone="+447911100" + str(100 + len(sellers)))
        return stores, sellers

    def _products(self, stores):
        products = {}
        for slug, rows in PRODUCTS.items():
            prefix = "".join(w[0] for w in slug.split("-")).upper()
            for i, (name, price, stock, low, backorder, lead, description) in enumerate(rows, start=1):
                product, created = Product.objects.get_or_create(
                    store=stores[slug], sku=f"{prefix}-{i:03d}",
                    defaults={"name": name, "slug": slugify(name), "price": Decimal(price), "stock_on_hand": stock,
                              "low_stock_threshold": low, "allow_backorder": backorder, "restock_lead_days": lead,
                              "description": description})
                product.seed_created, product.seed_stock = created, stock
                products.setdefault(slug, []).append(product)
        return products

    def _customers(self):
        customers = []
        for i, (username, first, last, city, postcode) in enumerate(CUSTOMERS):
            customer = self._user(username, first_name=first, last_name=last, phone=f"+4479111234{i:02d}",
                                  sms_opt_in=i % 3 == 0)
            customer.city, customer.postcode = city, postcode
            customers.append(customer)
        return customers

    # --- orders -----------------------------------------------------------------------------

    def _orders(self, stores, sellers, products, customers) -> int:
        seed_ids = [uuid.uuid5(SEED_NAMESPACE, f"checkout-{n}") for n in range(400)]
        if Order.objects.filter(checkout_id__in=seed_ids).exists():
            return 0
        rng = random.Random(20240517)
        all_products = [p for ps in products.values() for p in ps]
        backorder_products = [p for p in all_products if p.allow_backorder]
        # Plenty of stock while history is written; the shelf levels are set at the end.
        Product.objects.filter(pk__in=[p.pk for p in all_products if not p.allow_backorder]).update(stock_on_hand=10_000)
        self.sellers = sellers
        self.tracking_seq = 0
        made, n = 0, 0
        while made < TARGET_ORDERS:
            final = rng.choices([p[0] for p in PLAN], weights=[p[1] for p in PLAN])[0]
            made += self._checkout(rng, seed_ids[n], final, customers, products, backorder_products)
            n += 1
        for product in all_products:
            if product.seed_created and not product.allow_backorder:
                Product.objects.filter(pk=product.pk).update(stock_on_hand=product.seed_stock)
            elif not product.allow_backorder:
                # An existing catalogue keeps its shelf levels (minus nothing: seeding sold from the 10,000).
                Product.objects.filter(pk=product.pk).update(stock_on_hand=product.stock_on_hand)
        return made

    def _checkout(self, rng, checkout_id, final, customers, products, backorder_products) -> int:
        age_lo, age_hi = dict((p[0], p[2]) for p in PLAN)[final]
        placed_at = timezone.now() - timedelta(days=rng.uniform(age_lo, age_hi), minutes=rng.randint(5, 600))
        store_slugs = rng.sample(list(products), k=2 if rng.random() < 0.25 else 1)
        items = {}
        for slug in store_slugs:
            for product in rng.sample(products[slug], k=rng.choice([1, 1, 1, 2, 3])):
                if not product.allow_backorder:
                    items[product.pk] = rng.choice([1, 1, 1, 2, 3])
        if final in ("processing", "on_hold") and rng.random() < 0.3:
            items[backorder_products[0].pk] = 1  # ordered past zero: the order is flagged backordered
        if not items:
            items[rng.choice(products[store_slugs[0]][:4]).pk] = 1
        guest = rng.random() < 0.12
        customer = None if guest else rng.choice(customers)
        city, postcode = (customer.city, customer.postcode) if customer else ("Bath", "BA2 3AA")
        name = customer.get_full_name() if customer else rng.choice(["Sam Guest", "Alex Visitor", "Jo Walk-in"])
        declined = final == "pending" or (final == "cancelled" and rng.random() < 0.3)
        cod = not declined and final != "refunded" and rng.random() < 0.2
        result = checkout_place(
            customer=customer, email=customer.email if customer else f"guest{rng.randint(100, 999)}@example.com",
            items=items, shipping_method="express" if rng.random() < 0.25 else "standard",
            address={"name": name, "line1": f"{rng.randint(1, 180)} {rng.choice(STREETS)}", "line2": "",
                     "city": city, "postcode": postcode, "country": "GB"},
            payment_method="cod" if cod else "card",
            card_number="" if cod else (DECLINED_CARD if declined else GOOD_CARD),
            phone=str(customer.phone) if customer and customer.phone else "",
            sms_opt_in=bool(customer and customer.sms_opt_in), marketing_opt_in=rng.random() < 0.3,
        )
        Order.objects.filter(checkout_id=result.checkout_id).update(
            checkout_id=checkout_id, placed_at=placed_at, updated_at=placed_at,
            estimated_delivery=None)
        for order in result.orders:
            order.refresh_from_db()
            placed_day = timezone.localtime(placed_at).date()
            if order.is_backordered:
                order.backorder_expected = placed_day + timedelta(days=backorder_products[0].restock_lead_days)
            order.estimated_delivery = estimate_delivery(method=order.shipping_method,
                                                         start=order.backorder_expected or placed_day)
            Order.objects.filter(pk=order.pk).update(estimated_delivery=order.estimated_delivery,
                                                     backorder_expected=order.backorder_expected)
            Payment.objects.filter(order=order).update(created_at=placed_at, updated_at=placed_at)
            clock = Clock(order=order, at=placed_at)
            clock.stamp()
            self._advance(rng, order, final, clock, cod)
            Order.objects.filter(pk=order.pk).update(updated_at=clock.at)
        return len(result.orders)

    def _advance(self, rng, order, final, clock, cod):
        seller = self.sellers[order.store.slug]
        customer_actor = order.customer or "guest"
        if final == "pending":
            return
        if final == "on_hold":
            order_transition(order=order, to=OrderStatus.ON_HOLD, actor=seller, note=rng.choice(HOLD_REASONS))
            clock.stamp(clock.later(rng, 1, 20))
            return
        if final == "processing":
            return
        if final == "cancelled":
            unpaid = order.status == OrderStatus.PENDING
            who = "system" if unpaid else rng.choice([seller, customer_actor])
            note = "Payment was not completed within 48 hours" if unpaid else rng.choice(CANCEL_REASONS)
            order_cancel(order=order, actor=who, reason=note,
                         cancelled_by="system" if unpaid else ("seller" if who == seller else "customer"))
            clock.stamp(clock.later(rng, 1, 30))
            return
        if final == "refunded" and rng.random() < 0.5:
            order_refund(order=order, actor=seller, reason=rng.choice(CANCEL_REASONS))
            clock.stamp(clock.later(rng, 1, 30))
            return
        self._ship(rng, order, clock, seller, cod, deliver=final in ("completed", "refunded"))
        if final == "refunded" and order.status == OrderStatus.COMPLETED:
            self._return(rng, order, clock, seller, refund=True)
        elif final == "completed" and rng.random() < 0.12:
            self._return(rng, order, clock, seller, refund=False)

    def _ship(self, rng, order, clock, seller, cod, *, deliver):
        self.tracking_seq += 1
        live = not deliver and rng.random() < 0.4
        if live:
            # The simulated carrier moves this one along, live, after `make run` (shipped "now").
            carrier, name, number = "simulated", "Simulated carrier", f"SM{700000000 + self.tracking_seq:09d}GB"
        else:
            carrier, name, number = rng.choice([
                ("royalmail", "Royal Mail", f"RM{800000000 + self.tracking_seq:09d}GB"),
                ("dpd", "DPD", f"15501{400000000 + self.tracking_seq:09d}"),
            ])
        shipped_at = timezone.now() if live else clock.later(rng, 4, 30)
        eta = estimate_delivery(method=order.shipping_method, start=timezone.localtime(shipped_at).date())
        shipment = shipment_create(order=order, carrier=carrier, carrier_name=name, tracking_number=number, eta=eta,
                                   actor=seller)
        clock.stamp(shipped_at)
        Shipment.objects.filter(pk=shipment.pk).update(shipped_at=shipped_at)
        if live:
            return
        stages = [(T.IN_TRANSIT, "Collected by the courier", "Bristol depot"),
                  (T.IN_TRANSIT, "Arrived at the sorting hub", "Birmingham hub")]
        if rng.random() < 0.12:
            stages.append((T.EXCEPTION, "Delayed by severe weather at the hub", "Birmingham hub"))
        if deliver:
            stages += [(T.OUT_FOR_DELIVERY, "Out for delivery: expected today", order.shipping_city),
                       (T.DELIVERED, "Delivered to your safe place", order.shipping_city)]
        elif rng.random() < 0.4:
            stages.append((T.OUT_FOR_DELIVERY, "Out for delivery: expected today", order.shipping_city))
        for i, (status, message, location) in enumerate(stages):
            at = clock.later(rng, 3, 20)
            shipment_record_tracking(shipment=shipment, source="manual", update=TrackingUpdate(
                dedupe_key=f"seed:{number}:{i}", status=status, occurred_at=at, message=message, location=location))
            clock.stamp()
        if deliver and cod:
            payment = order.payments.get(method=Payment.Method.COD)
            payment_set_status(payment=payment, to=Payment.Status.CAPTURED, actor="courier",
                               reference="Cash collected on delivery")
            clock.stamp()
        order.refresh_from_db()
        delivered = TrackingEvent.objects.filter(shipment=shipment, status=T.DELIVERED).first()
        if delivered:
            Shipment.objects.filter(pk=shipment.pk).update(delivered_at=delivered.occurred_at)

    def _return(self, rng, order, clock, seller, *, refund):
        lines = list(order.lines.all()[:1])
        rr = return_request_create(order=order, lines=lines, reason=rng.choice(RETURN_REASONS),
                                   actor=order.customer or "guest")
        clock.stamp(clock.later(rng, 10, 72))
        ReturnRequest.objects.filter(pk=rr.pk).update(created_at=clock.at)
        steps = ["approved", "received", "refunded"] if refund else rng.choice(
            [[], ["approved"], ["approved", "received"], ["rejected"]])
        for step in steps:
            return_set_status(return_request=rr, to=step, actor=seller,
                              note="Outside the 30-day return window" if step == "rejected" else "")
            clock.stamp(clock.later(rng, 12, 60))
        if refund:
            order_refund(order=order, actor=seller, reason=f"Return {rr.number} refunded")
            clock.stamp()
        ReturnRequest.objects.filter(pk=rr.pk).update(updated_at=clock.at)

    # --- suppliers, restocks, back-in-stock requests, loyalty, sign-ins -----------------------

    def _inventory_loyalty_security(self, stores, sellers, products, customers):
        """Something to show on every page issue 11 added. Idempotent like the rest: each part is
        made once (found by its natural key, or skipped when its rows exist)."""
        from accounts.models import LoginActivity, LoyaltyEntry
        from accounts.security import device_label, network_of
        from catalog.models import BackInStockSubscription, ProductEvent

        now = timezone.now()
        for slug, (supplier, domain) in SUPPLIERS.items():
            Product.objects.filter(store=stores[slug], supplier_email="").update(
                supplier_name=supplier, supplier_email=f"orders@{domain}")
        # Past deliveries from the supplier, recorded by the seller (the inventory's "last restock").
        if not ProductEvent.objects.filter(kind=ProductEvent.Kind.RESTOCK, note="seed").exists():
            rng = random.Random(11)
            events = []
            for slug, rows in products.items():
                for product in rows:
                    for weeks_ago in (6, 3):
                        added = rng.choice([10, 20, 30])
                        events.append(ProductEvent(product=product, kind=ProductEvent.Kind.RESTOCK,
                                                   actor=sellers[slug], actor_label=sellers[slug].get_full_name(),
                                                   stock_before=0, stock_after=added, data={"added": added},
                                                   note="seed"))
            ProductEvent.objects.bulk_create(events)
            for i, event in enumerate(ProductEvent.objects.filter(note="seed").order_by("id")):
                ProductEvent.objects.filter(pk=event.pk).update(
                    created_at=now - timedelta(weeks=6 if i % 2 == 0 else 3, hours=i % 24))
        # Customers waiting for the products that are out of stock (alice among them), and one guest
        # still to confirm their address.
        waiting = list(Product.objects.filter(stock_on_hand__lte=0, allow_backorder=False).order_by("id"))
        for i, product in enumerate(waiting):
            for customer in customers[i % 5: i % 5 + 3] + ([customers[0]] if i == 0 else []):
                BackInStockSubscription.objects.get_or_create(
                    product=product, email=customer.email,
                    defaults={"user": customer, "confirmed_at": now - timedelta(days=3 + i)})
            BackInStockSubscription.objects.get_or_create(product=product, email=f"waiting{i}@example.com")
        # Loyalty: points came with the completed orders (accounts.loyalty); date the ledger like them.
        for entry in LoyaltyEntry.objects.filter(order__isnull=False, created_at__gte=now - timedelta(minutes=30)) \
                .select_related("order"):
            LoyaltyEntry.objects.filter(pk=entry.pk).update(created_at=entry.order.updated_at)
        # Alice's sign-ins: her laptop, her phone, and a sign-in from somewhere new.
        alice = customers[0]
        if not LoginActivity.objects.filter(user=alice).exists():
            for days_ago, agent, ip, ok, new in SIGN_INS:
                login = LoginActivity.objects.create(user=alice, ip_address=ip, user_agent=agent, succeeded=ok,
                                                     device=device_label(agent), network=network_of(ip),
                                                     new_device=new)
                LoginActivity.objects.filter(pk=login.pk).update(created_at=now - timedelta(days=days_ago))

    # --- output ---------------------------------------------------------------------------

    def _print_logins(self, admin, sellers, customers):
        w = self.stdout.write
        w("")
        w(f"Demo logins (password for all: {DEMO_PASSWORD})")
        w(f"  platform admin : {admin.username}  (/admin/)")
        for slug, seller in sellers.items():
            w(f"  seller         : {seller.username:<6} {seller.store.name}  (/seller/)")
        w(f"  customers      : {', '.join(c.username for c in customers[:6])}, … ({len(customers)} in all)")
        w("  test cards     : 4242 4242 4242 4242 succeeds, 4000 0000 0000 0002 is declined")
