"""Issue 9, item 11: a favicon, and payment states with their labels on the seller list."""
import pytest
from django.urls import reverse

from orders.models import Payment

pytestmark = pytest.mark.django_db


def test_favicon_is_linked_and_served(client, settings):
    page = client.get(reverse("storefront:product_list")).content.decode()
    assert 'rel="icon"' in page and "favicon.svg" in page
    response = client.get("/favicon.ico")
    assert response.status_code == 301 and response["Location"].endswith("favicon.svg")


def test_seller_list_shows_payment_labels_not_raw_values(client, seller, order):
    Payment.objects.filter(order=order).update(status=Payment.Status.PARTIALLY_REFUNDED)
    client.force_login(seller)
    body = client.get(reverse("seller:orders")).content.decode()
    assert ">Partly refunded</span>" in body and ">partially_refunded</span>" not in body
