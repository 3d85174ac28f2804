"""Header-bound fields: CR/LF refused at the form; a message queued with a bad value goes out
with a cleaned header instead of failing on every retry."""
import pytest
from django.core import mail
from django.urls import reverse

from catalog.models import Store
from notifications.models import Notification
from orders.services import order_transition

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("bad", ["Northwind\r\nBcc: victim@example.com", "North\nwind", "North\rwind", "A\x0bB"])
def test_branding_form_refuses_line_breaks_in_the_sender_name(client, seller, bad):
    client.force_login(seller)
    before = seller.store.sender_name
    response = client.post(reverse("seller:branding"), {"form": "brand", "sender_name": bad,
                                                        "accent_colour": "#123456", "sign_off": "Bye"})
    assert response.status_code == 422
    assert "line breaks and control characters are not allowed" in response.content.decode()
    seller.store.refresh_from_db()
    assert seller.store.sender_name == before


def test_store_admin_refuses_line_breaks_in_name_and_sender_name(admin_client, store):
    url = reverse("admin:catalog_store_change", args=[store.pk])
    response = admin_client.post(url, {"name": "Shop\r\nBcc: x@example.com", "slug": store.slug,
                                       "sender_name": "A\nB", "accent_colour": "#123456", "sign_off": "Bye"})
    assert response.status_code == 200
    assert response.content.decode().count("line breaks and control characters are not allowed") == 2
    store.refresh_from_db()
    assert "\n" not in store.name


def test_a_queued_message_with_a_bad_sender_name_is_sent_with_a_clean_header(order, django_capture_on_commit_callbacks):
    Store.objects.filter(pk=order.store_id).update(sender_name="Northwind\r\nBcc: victim@example.com",
                                                   support_email="help@nw.example")
    with django_capture_on_commit_callbacks(execute=True):
        order_transition(order=order, to="on_hold", note="Stock check")
    [message] = mail.outbox
    assert "\n" not in message.from_email and "\r" not in message.from_email
    assert "Northwind Bcc: victim@example.com via" in message.from_email
    assert message.bcc == [] and message.to == [order.email]
    assert "Bcc" not in str(message.message()).split("\n\n")[0].replace("Northwind Bcc", "")
    row = Notification.objects.get(channel="email")
    assert row.status == "sent" and row.attempts == 1
