import uuid
from decimal import Decimal

import factory
from django.utils.text import slugify

from accounts.models import User
from catalog.models import Product, Store
from orders.models import Order, OrderEvent, OrderLine, Payment


class StoreFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Store

    name = factory.Sequence(lambda n: f"Store {n}")
    slug = factory.LazyAttribute(lambda o: slugify(o.name))
    sender_name = factory.LazyAttribute(lambda o: o.name)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.com")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    password = factory.django.Password("pass12345!")


class CustomerFactory(UserFactory):
    phone = "+447700900123"


class SellerFactory(UserFactory):
    store = factory.SubFactory(StoreFactory)
    phone = "+447700900456"
    phone_verified_number = factory.LazyAttribute(lambda o: str(o.phone or ""))  # proved by a code


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product

    store = factory.SubFactory(StoreFactory)
    name = factory.Sequence(lambda n: f"Product {n}")
    slug = factory.LazyAttribute(lambda o: slugify(o.name))
    sku = factory.Sequence(lambda n: f"SKU-{n:05d}")
    price = Decimal("12.50")
    stock_on_hand = 10


class OrderFactory(factory.django.DjangoModelFactory):
    """An order with lines: OrderFactory(lines=[(product, qty), ...])."""

    class Meta:
        model = Order
        skip_postgeneration_save = True

    customer = factory.SubFactory(CustomerFactory)
    email = factory.LazyAttribute(lambda o: o.customer.email if o.customer else "guest@example.com")
    phone = "+447700900123"
    store = factory.SubFactory(StoreFactory)
    checkout_id = factory.LazyFunction(uuid.uuid4)
    subtotal = Decimal("25.00")
    shipping_total = Decimal("3.99")
    tax_total = Decimal("5.00")
    total = Decimal("33.99")
    shipping_name = "Ada Lovelace"
    shipping_line1 = "1 Analytical Row"
    shipping_city = "London"
    shipping_postcode = "N1 9GU"
    shipping_country = "GB"

    @factory.post_generation
    def lines(obj, create, extracted, **kwargs):
        if not create:
            return
        for product, qty in extracted or []:
            OrderLine.objects.create(order=obj, product=product, product_name=product.name, sku=product.sku,
                                     unit_price=product.price, quantity=qty)
        if extracted:
            obj.subtotal = sum(line.line_total for line in obj.lines.all())
            obj.total = obj.subtotal + obj.shipping_total + obj.tax_total
            obj.save(update_fields=["subtotal", "total"])

    @factory.post_generation
    def payment(obj, create, extracted, **kwargs):
        if create:
            Payment.objects.create(order=obj, method=extracted or Payment.Method.CARD, amount=obj.total,
                                   card_last4="4242")
            OrderEvent.objects.create(order=obj, kind=OrderEvent.Kind.PLACED, to_status=obj.status,
                                      actor_label="customer")
