import pytest
from django.urls import reverse

from tests.factories import ProductFactory, StoreFactory

pytestmark = pytest.mark.django_db
CART = reverse("storefront:cart")


def add(client, product, qty=1):
    return client.post(reverse("storefront:cart_add", args=[product.pk]), {"quantity": qty}, follow=True)


def test_add_update_remove_with_store_groups_and_totals(client):
    a, b = StoreFactory(name="Alpha"), StoreFactory(name="Beta")
    mug = ProductFactory(store=a, name="Mug", price="10.00")
    pen = ProductFactory(store=b, name="Pen", price="55.00")

    add(client, mug, 2)
    response = add(client, pen)
    page = response.content.decode()
    assert "Added 1 × Pen to your cart." in page
    quote = response.context["quote"]
    assert [g.store.name for g in quote.groups] == ["Alpha", "Beta"]
    # Alpha: 20.00 + 3.99 delivery; Beta: 55.00, free delivery from £50.
    assert [str(g.totals.total) for g in quote.groups] == ["23.99", "55.00"]
    assert str(quote.total) == "78.99"
    assert "2 separate orders" in page or "2 orders" in page

    client.post(reverse("storefront:cart_update", args=[mug.pk]), {"quantity": 3})
    assert client.get(CART).context["quote"].groups[0].lines[0].quantity == 3
    client.post(reverse("storefront:cart_update", args=[mug.pk]), {"quantity": 0})
    assert [g.store.name for g in client.get(CART).context["quote"].groups] == ["Beta"]
    client.post(reverse("storefront:cart_remove", args=[pen.pk]))
    assert "Your cart is empty" in client.get(CART).content.decode()


def test_cannot_add_more_than_in_stock(client):
    product = ProductFactory(stock_on_hand=2, name="Lamp")
    response = add(client, product, 3)
    assert "only 2 of Lamp left" in response.content.decode()
    assert client.session.get("cart", {}) == {}
    add(client, product, 2)
    response = add(client, product, 1)
    assert "only 2 of Lamp left" in response.content.decode()
    assert client.session["cart"] == {str(product.pk): 2}


def test_cart_flags_a_line_that_ran_out_and_blocks_checkout(client):
    product = ProductFactory(stock_on_hand=2, name="Lamp")
    add(client, product, 2)
    product.stock_on_hand = 0
    product.save()
    page = client.get(CART).content.decode()
    assert "Out of stock: remove it to continue." in page
    assert reverse("storefront:checkout") not in page


def test_cart_needs_post_and_csrf(client):
    product = ProductFactory()
    assert client.get(reverse("storefront:cart_add", args=[product.pk])).status_code == 405
    from django.test import Client
    strict = Client(enforce_csrf_checks=True)
    assert strict.post(reverse("storefront:cart_add", args=[product.pk]), {"quantity": 1}).status_code == 403


def test_header_shows_cart_count(client):
    add(client, ProductFactory(), 3)
    assert '<span class="pill">3</span>' in client.get(CART).content.decode()
