"""Languages as a shopper meets them: the browser's language preselected at checkout, the choice
stored on the order (a guest's too) and used for every message, money and dates per locale,
translated pages, complete translation files, and the database-template fallback order."""
import datetime
from decimal import Decimal
from pathlib import Path

import pytest
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po
from django.conf import settings
from django.core import mail
from django.urls import reverse
from django.utils import translation

from accounts.models import User
from notifications.context import sample_context
from notifications.models import Notification, NotificationTemplate
from notifications.rendering import default_sources, preview, render, validate
from notify_site import formatting
from orders.models import Order
from tests.factories import ProductFactory

pytestmark = pytest.mark.django_db
LOCALE = Path(settings.BASE_DIR) / "locale"
TRANSLATED = [code for code, _name in settings.LANGUAGES if code != "en"]
CHECKOUT = reverse("storefront:checkout")
FORM = {"email": "gast@example.com", "name": "Grace Hopper", "line1": "10 Navy Way", "line2": "",
        "city": "Bath", "postcode": "ba1 1lz", "country": "GB", "phone": "", "shipping_method": "standard",
        "payment_method": "card", "card_number": "4242 4242 4242 4242"}


@pytest.fixture
def in_cart(client):
    product = ProductFactory(name="Desk Lamp", price="30.00", stock_on_hand=4)
    client.post(reverse("storefront:cart_add", args=[product.pk]), {"quantity": 2})
    return product


# --- the translation files ------------------------------------------------------------------------

def _key(value):
    # babel pads a Spanish plural to CLDR's three forms when reading the .mo; the header says two.
    return tuple(v for v in value if v) if isinstance(value, (list, tuple)) else value


@pytest.mark.parametrize("language", TRANSLATED)
def test_po_file_is_complete_and_compiled(language):
    po_path = LOCALE / language / "LC_MESSAGES" / "django.po"
    with po_path.open("rb") as f:
        catalog = read_po(f)
    empty = [m.id for m in catalog if m.id and (not m.string or (isinstance(m.string, (list, tuple))
                                                                 and not all(m.string)))]
    fuzzy = [m.id for m in catalog if m.id and m.fuzzy]
    assert not empty, f"{language}: empty msgstr for {empty[:10]}"
    assert not fuzzy, f"{language}: fuzzy entries {fuzzy[:10]}"
    assert len(catalog) > 400
    # The committed .mo says the same (a fresh machine without gettext serves it as it is).
    with (LOCALE / language / "LC_MESSAGES" / "django.mo").open("rb") as f:
        compiled = {_key(m.id): _key(m.string) for m in read_mo(f) if m.id}
    stale = [m.id for m in catalog if m.id and compiled.get(_key(m.id)) != _key(m.string)]
    assert not stale, f"{language}: django.mo is out of date (run compilemessages) for {stale[:5]}"


# --- money and dates ------------------------------------------------------------------------------

@pytest.mark.parametrize("language,amount,expected", [
    ("en", "1234.5", "€1,234.50"), ("de", "1234.5", "1.234,50 €"), ("fr", "1234.5", "1 234,50 €"),
    ("es", "1234.5", "1.234,50 €"),
])
def test_money_per_locale(language, amount, expected):
    with translation.override(language):
        assert formatting.money(Decimal(amount), "EUR") == expected


def test_dates_per_locale():
    day = datetime.date(2025, 5, 12)
    moment = datetime.datetime(2025, 5, 12, 9, 30, tzinfo=datetime.UTC)
    expected = {"en": ("Mon 12 May 2025", "12 May 2025, 09:30 UTC"),
                "de": ("Mo., 12. Mai 2025", "12. Mai 2025, 09:30 UTC"),
                "fr": ("lun. 12 mai 2025", "12 mai 2025 à 09:30 UTC"),
                "es": ("lun, 12 may 2025", "12 may 2025, 09:30 UTC")}
    for language, (day_text, moment_text) in expected.items():
        with translation.override(language):
            assert (formatting.day(day), formatting.moment(moment)) == (day_text, moment_text)


def test_a_message_context_is_written_in_the_readers_language():
    with translation.override("de"):
        ctx = sample_context("order.placed", "customer")
    assert ctx["order"]["total"] == "41,49 £"
    assert ctx["order"]["payment"]["method_label"] == "Karte"
    assert ctx["order"]["estimated_delivery"] == "Fr., 16. Mai 2025"
    assert ctx["store"]["sign_off"] == "Vielen Dank für Ihren Einkauf!"


def test_facts_the_receivers_name_in_english_are_written_in_the_readers_language():
    from notifications.context import localise_change

    change = {"amount": "£1,234.50", "method": "Cash on delivery", "expected": "Mon 12 May 2025", "reason": "Snow"}
    with translation.override("fr"):
        localise_change(change, "GBP")
    assert change == {"amount": "1 234,50 £", "method": "Paiement à la livraison", "expected": "lun. 12 mai 2025",
                      "reason": "Snow"}
    with translation.override("de"):
        ctx = sample_context("order.payment_failed", "customer")
    assert (ctx["change"]["amount"], ctx["change"]["method"]) == ("41,49 £", "Karte")


def test_pages_show_money_in_the_visitors_locale(client):
    ProductFactory(name="Armchair", price="1234.50", stock_on_hand=3)
    page = client.get(reverse("storefront:product_list"), HTTP_ACCEPT_LANGUAGE="de-DE,de;q=0.9").content.decode()
    assert "1.234,50 £" in page and "£1,234.50" not in page
    page = client.get(reverse("storefront:product_list"), HTTP_ACCEPT_LANGUAGE="en-GB").content.decode()
    assert "£1,234.50" in page


# --- pages ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("accept,expect,absent", [
    ("de-DE,de;q=0.9,en;q=0.5", ["Warenkorb", "Bestellung verfolgen", 'lang="de"'], ["Track an order"]),
    ("fr-FR,fr;q=0.9", ["Panier", "Suivre une commande", 'lang="fr"'], ["Track an order"]),
    ("es-ES,es;q=0.9", ["Carrito", "Seguir un pedido", 'lang="es"'], ["Track an order"]),
    ("en-GB,en;q=0.9", ["Cart", "Track an order", 'lang="en"'], ["Warenkorb"]),
])
def test_accept_language_picks_the_page_language(client, accept, expect, absent):
    page = client.get(reverse("storefront:product_list"), HTTP_ACCEPT_LANGUAGE=accept).content.decode()
    for text in expect:
        assert text in page, text
    for text in absent:
        assert text not in page, text


def test_the_language_switch_is_remembered_and_saved_on_the_account(client, customer):
    client.force_login(customer)
    response = client.post(reverse("storefront:set_language"), {"language": "es", "next": "/cart/"})
    assert response.status_code == 302 and response["Location"] == "/cart/"
    assert User.objects.get(pk=customer.pk).language == "es"
    page = client.get(reverse("storefront:cart"), HTTP_ACCEPT_LANGUAGE="de").content.decode()
    assert "Su carrito" in page


def test_a_signed_in_customer_reads_their_accounts_language(client, customer):
    customer.language = "fr"
    customer.save(update_fields=["language"])
    client.force_login(customer)
    page = client.get(reverse("storefront:cart"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Votre panier" in page


def test_the_seller_dashboard_stays_english(client, seller):
    client.force_login(seller)
    response = client.get(reverse("seller:orders"), HTTP_ACCEPT_LANGUAGE="de")
    assert response.status_code == 200 and response["Content-Language"] == "en"


# --- checkout: the language chosen, stored and used -------------------------------------------------

def test_accept_language_preselects_the_checkout_language(client, in_cart):
    page = client.get(CHECKOUT, HTTP_ACCEPT_LANGUAGE="fr-FR,fr;q=0.9").content.decode()
    assert "Langue de vos messages" in page and "Passer la commande" in page
    select = page[page.index('name="language"'):]
    select = select[:select.index("</select>")]
    assert '<option value="fr" selected>' in select
    assert '<option value="de">' in select and '<option value="es">' in select


def test_a_guests_checkout_language_is_stored_and_used_for_their_messages(client, in_cart,
                                                                          django_capture_on_commit_callbacks):
    # The browser says English; the shopper picks German for their messages.
    with django_capture_on_commit_callbacks(execute=True):
        client.post(CHECKOUT, {**FORM, "language": "de"}, HTTP_ACCEPT_LANGUAGE="en-GB")
    order = Order.objects.get()
    assert order.customer is None and order.language == "de"
    rows = Notification.objects.filter(order=order, audience="customer")
    assert rows and {n.language for n in rows} == {"de"}
    [message] = [m for m in mail.outbox if m.to == ["gast@example.com"]]
    assert message.subject == f"Bestellung {order.number} bestätigt – vielen Dank!"
    assert "vielen Dank für Ihre Bestellung" in message.body
    assert "Zwischensumme: 60,00 £" in message.body
    assert "Thank you" not in message.body
    # The store's alert stays English.
    assert all(n.language == "en" for n in Notification.objects.filter(order=order).exclude(audience="customer"))


def test_a_signed_in_customers_checkout_choice_becomes_their_language(client, customer, in_cart):
    client.force_login(customer)
    client.post(CHECKOUT, {**FORM, "email": customer.email, "language": "es"})
    assert Order.objects.get().language == "es"
    assert User.objects.get(pk=customer.pk).language == "es"


def test_a_stock_alert_is_written_in_the_language_of_the_page(client, django_capture_on_commit_callbacks):
    product = ProductFactory(name="Lampe", stock_on_hand=0)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("storefront:stock_alert", args=[product.store.slug, product.slug]),
                    {"email": "fan@example.com"}, HTTP_ACCEPT_LANGUAGE="fr")
    [message] = [m for m in mail.outbox if m.to == ["fan@example.com"]]
    assert message.subject == "Confirmez votre alerte pour Lampe"


# --- database templates per language --------------------------------------------------------------

def _db_template(language, text):
    return NotificationTemplate.objects.create(event="order.shipped", audience="customer", channel="sms",
                                               language=language, active=True, text_body=text)


def _sms(language):
    with translation.override(language):
        ctx = sample_context("order.shipped", "customer")
    return render(event="order.shipped", audience="customer", channel="sms", language=language, context=ctx)


def test_database_template_fallback_order(monkeypatch):
    from notifications import rendering

    # Nothing in the database: each language gets its shipped translation.
    assert _sms("de").source == "file default (de)" and "versandt" in _sms("de").text
    # An English database template does not replace a shipped German translation …
    _db_template("en", "EN DB {{ order.number }}")
    rendering.DB_TEMPLATES.invalidate()
    assert _sms("en").text == "EN DB NS-SAMP-LE42"
    assert _sms("de").source == "file default (de)"
    # … a German one does, for German readers only.
    _db_template("de", "DE DB {{ order.number }}")
    rendering.DB_TEMPLATES.invalidate()
    assert (_sms("de").text, _sms("fr").source) == ("DE DB NS-SAMP-LE42", "file default (fr)")
    # No shipped translation of a language: its readers get the English database template.
    monkeypatch.setattr(rendering, "has_shipped_translation", lambda event, audience, channel, language:
                        language in ("en", "de"))
    fr = _sms("fr")
    assert fr.text == "EN DB NS-SAMP-LE42" and "no fr template" in fr.source


def test_admin_validation_and_preview_work_per_language():
    sources = default_sources("order.placed", "customer", "email", "fr")
    assert "Merci pour votre commande" in sources["html"]
    assert validate(event="order.placed", audience="customer", channel="email", sources=sources, language="fr") == {}
    result = preview(event="order.placed", audience="customer", channel="email", sources=sources, language="fr")
    assert result["subject"] == "Commande NS-SAMP-LE42 confirmée : merci !"
    assert "41,49 £" in result["text"] and "Sous-total" in result["text"]


def test_the_admin_customise_link_starts_from_the_translation(admin_client):
    url = reverse("admin:notifications_notificationtemplate_add") + "?event=order.shipped&audience=customer" \
        "&channel=sms&language=es"
    page = admin_client.get(url).content.decode()
    assert "pedido {{ order.number }} enviado con" in page.replace("&quot;", '"').replace("&#x27;", "'")


def test_the_status_page_timeline_speaks_the_customers_language(client, in_cart):
    from accounts.dashboard.status import timeline_entries

    client.post(CHECKOUT, {**FORM, "language": "de"})
    order = Order.objects.get()
    with translation.override("de"):
        entries = timeline_entries(order, audience="customer")
    texts = [(e["title"], e["detail"], e["who"]) for e in entries]
    assert ("Bestellung bestätigt, wird vorbereitet", "Zahlung eingegangen", "Zahlungsdienst") in texts
    assert ("Bestellung aufgegeben", "1 Position, gesamt 60,00 £", "Gast") in texts
    with translation.override("en"):  # the seller's view of the same record stays English
        seller = timeline_entries(order, audience="seller")
    assert any(e["detail"] == "1 item line, total £60.00" for e in seller)
