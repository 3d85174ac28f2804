import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from notifications.models import StoreMessageSetting

URL = reverse("seller:branding")


@pytest.fixture
def seller_client(client, seller):
    client.force_login(seller)
    return client


def png(size=(40, 40)):
    buf = io.BytesIO()
    Image.new("RGB", size, "#ff8800").save(buf, "PNG")
    return SimpleUploadedFile("logo.png", buf.getvalue(), content_type="image/png")


def test_page_shows_the_brand_form_and_a_preview_of_the_customer_email(seller_client, seller):
    response = seller_client.get(URL, {"event": "order.shipped"})
    assert response.status_code == 200
    body = response.content.decode()
    assert 'data-testid="email-preview"' in body and "srcdoc=" in body
    assert response.context["preview"]["subject"]
    assert seller.store.name in response.context["preview"]["html"]


def test_save_branding_with_logo(seller_client, seller):
    response = seller_client.post(URL, {"form": "brand", "sender_name": "Northwind", "accent_colour": "#aa3300",
                                        "sign_off": "Cheers, the Northwind team", "support_email": "help@nw.example",
                                        "logo": png()})
    assert response.status_code == 302
    seller.store.refresh_from_db()
    assert seller.store.accent_colour == "#aa3300" and seller.store.logo.name.endswith(".png")
    preview = seller_client.get(URL).context["preview"]["html"]
    assert "#aa3300" in preview and "Cheers, the Northwind team" in preview


@pytest.mark.parametrize("data,error", [
    ({"accent_colour": "red"}, "Use a hex colour"),
    ({"logo": SimpleUploadedFile("logo.png", b"not an image", content_type="image/png")}, "Upload a valid image"),
])
def test_bad_branding_is_refused(seller_client, seller, data, error):
    before = seller.store.accent_colour
    response = seller_client.post(URL, {"form": "brand", "sender_name": "X", "accent_colour": "#123456",
                                        "sign_off": "Bye", **data})
    assert response.status_code == 422 and error in response.content.decode()
    seller.store.refresh_from_db()
    assert seller.store.accent_colour == before


def test_personal_note_and_discount_code_per_event(seller_client, seller):
    response = seller_client.post(URL + "?event=order.shipped", {
        "form": "message", "event": "order.shipped", "personal_note": "Packed by hand in Leeds",
        "discount_code": "THANKS10"})
    assert response.status_code == 302
    setting = StoreMessageSetting.objects.get(store=seller.store, event="order.shipped")
    assert (setting.personal_note, setting.discount_code) == ("Packed by hand in Leeds", "THANKS10")
    page = seller_client.get(URL, {"event": "order.shipped"})
    html = page.context["preview"]["html"]
    assert "Packed by hand in Leeds" in html and "THANKS10" in html
    other = seller_client.get(URL, {"event": "order.processing"}).context["preview"]["html"]
    assert "Packed by hand in Leeds" not in other


def test_bad_discount_code_is_refused(seller_client, seller):
    response = seller_client.post(URL, {"form": "message", "event": "order.shipped", "discount_code": "NO SPACES!"})
    assert response.status_code == 422
    assert "discount code is up to 40 letters" in response.content.decode()
    assert not StoreMessageSetting.objects.exists()


def test_live_preview_follows_unsaved_input_and_saves_nothing(seller_client, seller):
    response = seller_client.get(reverse("seller:email_preview"), {
        "event": "order.placed", "personal_note": "Hello <script>alert(1)</script>", "discount_code": "WELCOME5",
        "accent_colour": "#00aa00", "sign_off": "Warmly"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    html = response.context["preview"]["html"]
    assert "WELCOME5" in html and "#00aa00" in html and "Warmly" in html
    assert "<script>alert(1)</script>" not in html
    assert 'sandbox=""' in response.content.decode()
    assert not StoreMessageSetting.objects.exists()
    seller.store.refresh_from_db()
    assert seller.store.accent_colour != "#00aa00"


def test_live_preview_explains_bad_input(seller_client):
    response = seller_client.get(reverse("seller:email_preview"), {"event": "order.placed", "discount_code": "a b"})
    assert "discount code" in response.content.decode()
