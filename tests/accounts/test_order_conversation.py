"""Issue 15 item 5: talking about an order (Ask the seller; the seller's answer or own message)."""
import pytest
from django.core import mail
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from notifications.channels import sms
from notifications.models import Notification, SellerNotificationSetting
from orders.conversation import order_question_ask, order_seller_message_send
from orders.links import status_path
from orders.models import OrderMessage
from tests.factories import CustomerFactory, OrderFactory, ProductFactory, SellerFactory, StoreFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh(frozen_clock):
    from accounts.dashboard.status_page import local_cache

    local_cache.clear()
    mail.outbox = []
    sms.outbox.clear()
    yield
    local_cache.clear()


@pytest.fixture
def commit(django_capture_on_commit_callbacks):
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture
def shop():
    store = StoreFactory(name="Linen & Co")
    seller = SellerFactory(store=store, email="sam@linen.example", first_name="Sam")
    product = ProductFactory(store=store, name="Linen shirt", stock_on_hand=10)
    return store, seller, product


@pytest.fixture
def customer_order(shop):
    store, seller, product = shop
    customer = CustomerFactory(email="ada@example.com", first_name="Ada", last_name="Lovelace",
                               phone="+447911123456", sms_opt_in=True)
    return OrderFactory(customer=customer, store=store, lines=[(product, 1)], phone="+447911123456",
                        sms_opt_in=True)


@pytest.fixture
def guest_order(shop):
    store, seller, product = shop
    return OrderFactory(customer=None, email="guest@example.com", store=store, lines=[(product, 1)])


def ask_url(order):
    return reverse("accounts:order_ask", args=[order.number])


def seller_url(order):
    return reverse("seller:order_message", args=[order.number])


def test_question_writes_the_seller_alert_rows_in_its_transaction_and_shows_on_both_pages(
        client, shop, customer_order, django_capture_on_commit_callbacks):
    store, seller, _ = shop
    client.force_login(customer_order.customer)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post(ask_url(customer_order), {"ask-body": "Can you gift-wrap it?"})
        # Written with the message, before anything is delivered.
        rows = list(Notification.objects.filter(event="order.customer_question"))
        assert OrderMessage.objects.filter(order=customer_order, author_kind="customer").count() == 1
    assert response.status_code == 302
    assert {(r.audience, r.channel, r.recipient_id) for r in rows} == {
        ("seller", "email", seller.pk), ("seller", "inapp", seller.pk)}  # SMS alerts are opt-in for sellers
    assert all(r.category == "seller_alert" and r.order_id == customer_order.pk for r in rows)
    assert callbacks  # delivery is queued on commit
    question = OrderMessage.objects.get()
    assert question.author_name == "Ada Lovelace" and question.author == customer_order.customer

    page = client.get(reverse("accounts:order_detail", args=[customer_order.number])).content.decode()
    assert "Can you gift-wrap it?" in page and 'data-testid="thread-message"' in page
    seller_client = Client()
    seller_client.force_login(seller)
    seller_page = seller_client.get(reverse("seller:order_detail", args=[customer_order.number])).content.decode()
    assert "Can you gift-wrap it?" in seller_page and "Ada Lovelace" in seller_page and "Your answer" in seller_page


def test_the_seller_alert_is_toggled_per_channel_like_the_others(client, shop, customer_order, commit):
    store, seller, _ = shop
    SellerNotificationSetting.objects.create(store=store, event="order.customer_question", channel="email",
                                             enabled=False)
    with commit():
        order_question_ask(order=customer_order, body="Is it linen or cotton?", user=customer_order.customer)
    assert set(Notification.objects.filter(event="order.customer_question").values_list("channel", flat=True)) \
        == {"inapp"}
    assert not [m for m in mail.outbox if "sam@linen.example" in m.to]


def test_seller_answer_reaches_the_customer_on_their_channels_with_the_text(shop, customer_order, commit):
    store, seller, _ = shop
    with commit():
        order_question_ask(order=customer_order, body="Can you gift-wrap it?", user=customer_order.customer)
    seller_client = Client()
    seller_client.force_login(seller)
    with commit():
        response = seller_client.post(seller_url(customer_order), {"msg-body": "Yes, gladly. It goes out tomorrow."})
    assert response.status_code == 302
    rows = Notification.objects.filter(event="order.seller_message")
    assert set(rows.values_list("audience", "channel")) == {("customer", "email"), ("customer", "sms"),
                                                            ("customer", "inapp")}
    assert all(r.category == "transactional" for r in rows)
    email = next(m for m in mail.outbox if "ada@example.com" in m.to and "Linen & Co" in m.subject)
    assert "Yes, gladly. It goes out tomorrow." in email.body and "answered your question" in email.body
    assert "#messages" in email.body
    assert any("Yes, gladly" in text for _, text in [(m["to"], m["body"]) for m in sms.outbox])
    # Both pages show the thread in order.
    client = Client()
    client.force_login(customer_order.customer)
    page = client.get(reverse("accounts:order_detail", args=[customer_order.number])).content.decode()
    assert page.index("Can you gift-wrap it?") < page.index("Yes, gladly. It goes out tomorrow.")
    assert "Sam · Linen &amp; Co" in page


def test_a_message_the_seller_writes_on_their_own_goes_to_a_guest_and_shows_on_the_signed_link(
        shop, guest_order, commit):
    store, seller, _ = shop
    with commit():
        order_seller_message_send(order=guest_order, body="Your parcel will be a day late, sorry!", seller=seller)
    email = next(m for m in mail.outbox if "guest@example.com" in m.to)
    assert "Your parcel will be a day late" in email.body and "sent you a message" in email.body
    page = Client().get(status_path(guest_order)).content.decode()
    assert "Your parcel will be a day late, sorry!" in page


def test_guest_asks_through_the_signed_link_with_htmx(client, shop, guest_order):
    response = client.post(status_path(guest_order), {"action": "ask", "ask-body": "Where is my parcel?"},
                           HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    body = response.content.decode()
    assert "Where is my parcel?" in body and 'data-testid="flash"' in body
    assert 'id="ask-body-1"' in body  # a fresh box once the question is sent (hx-preserve keeps the typed one)
    question = OrderMessage.objects.get()
    assert question.author is None and question.author_kind == "customer"


def test_text_is_escaped_and_limited_no_html_gets_through(client, shop, guest_order):
    client.post(status_path(guest_order), {"action": "ask", "ask-body": '<script>alert(1)</script><b>hi</b>'})
    page = client.get(status_path(guest_order)).content.decode()
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    too_long = client.post(status_path(guest_order), {"action": "ask", "ask-body": "x" * 2001})
    assert too_long.status_code == 422 and "2000 characters" in too_long.content.decode()
    empty = client.post(status_path(guest_order), {"action": "ask", "ask-body": "   "})
    assert empty.status_code == 422 and "Write your message first" in empty.content.decode()
    assert OrderMessage.objects.count() == 1


def test_another_customer_or_seller_cannot_read_or_post(client, shop, customer_order):
    order_question_ask(order=customer_order, body="Private question", user=customer_order.customer)
    other_customer = CustomerFactory()
    client.force_login(other_customer)
    assert client.get(reverse("accounts:order_detail", args=[customer_order.number])).status_code == 404
    assert client.post(ask_url(customer_order), {"ask-body": "Sneaky"}).status_code == 404
    other_seller = SellerFactory(store=StoreFactory(name="Other shop"))
    client.force_login(other_seller)
    assert client.get(reverse("seller:order_detail", args=[customer_order.number])).status_code == 404
    assert client.post(seller_url(customer_order), {"msg-body": "Sneaky"}).status_code == 404
    client.force_login(customer_order.customer)  # a customer is not a seller
    assert client.post(seller_url(customer_order), {"msg-body": "Sneaky"}).status_code == 403
    anonymous = Client()
    assert anonymous.post(ask_url(customer_order), {"ask-body": "Sneaky"}).status_code == 302  # to the login
    assert anonymous.post(status_path(customer_order)[:-6] + "nope/", {"action": "ask", "ask-body": "x!"}
                          ).status_code in (403, 404)
    assert list(OrderMessage.objects.values_list("body", flat=True)) == ["Private question"]


def test_questions_are_rate_limited(client, shop, guest_order, settings):
    settings.ORDER_QUESTION_RATE_PER_ORDER = "3/h"
    for i in range(3):
        assert client.post(status_path(guest_order), {"action": "ask", "ask-body": f"Question {i}"}).status_code == 302
    limited = client.post(status_path(guest_order), {"action": "ask", "ask-body": "One more"},
                          HTTP_HX_REQUEST="true")
    assert limited.status_code == 429 and "several questions already" in limited.content.decode()
    assert OrderMessage.objects.count() == 3


def test_seller_messages_are_rate_limited(shop, guest_order, settings):
    settings.SELLER_MESSAGE_RATE = "2/h"
    seller_client = Client()
    seller_client.force_login(shop[1])
    for i in range(2):
        assert seller_client.post(seller_url(guest_order), {"msg-body": f"Update {i}"}).status_code == 302
    assert seller_client.post(seller_url(guest_order), {"msg-body": "Update 3"}).status_code == 429
    assert OrderMessage.objects.count() == 2


def test_seller_panel_with_htmx_answers_the_fresh_panel(shop, guest_order):
    seller_client = Client()
    seller_client.force_login(shop[1])
    response = seller_client.post(seller_url(guest_order), {"msg-body": "Packed and ready."}, HTTP_HX_REQUEST="true",
                                  follow=True)
    assert response.status_code == 200 and "Packed and ready." in response.content.decode()


def test_thread_costs_a_fixed_number_of_queries_on_the_status_page(client, shop, customer_order):
    store, seller, _ = shop
    client.force_login(customer_order.customer)
    url = reverse("accounts:order_detail", args=[customer_order.number])

    def count():
        from accounts.dashboard.status_page import local_cache
        cache.clear()
        local_cache.clear()
        client.force_login(customer_order.customer)
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url).status_code == 200
        return len(ctx.captured_queries)

    order_question_ask(order=customer_order, body="First question", user=customer_order.customer)
    one = count()
    for i in range(5):
        order_seller_message_send(order=customer_order, body=f"Answer {i}", seller=seller)
        order_question_ask(order=customer_order, body=f"Question {i}", user=customer_order.customer)
    assert count() == one
    # Once rendered, the thread rides the page's cache: no query for it at all.
    client.get(url)
    with CaptureQueriesContext(connection) as ctx:
        client.get(url)
    assert not [q for q in ctx.captured_queries if "orders_ordermessage" in q["sql"]]


def test_a_new_message_moves_the_status_page_fingerprint(client, shop, guest_order):
    url = status_path(guest_order)
    etag = client.get(url, {"live": 1})["ETag"]
    assert client.get(url, {"live": 1}, HTTP_IF_NONE_MATCH=etag).status_code == 304
    order_seller_message_send(order=guest_order, body="A note from the shop", seller=shop[1])
    fresh = client.get(url, {"live": 1}, HTTP_IF_NONE_MATCH=etag)
    assert fresh.status_code == 200 and "A note from the shop" in fresh.content.decode()


def test_the_question_alert_is_on_the_sellers_settings_page(shop):
    seller_client = Client()
    seller_client.force_login(shop[1])
    page = seller_client.get(reverse("seller:settings")).content.decode()
    assert "Question from a customer" in page


def test_status_page_with_a_thread_in_a_known_number_of_queries(client, shop, guest_order,
                                                                django_assert_num_queries):
    for i in range(3):
        order_question_ask(order=guest_order, body=f"Question {i}")
        order_seller_message_send(order=guest_order, body=f"Answer {i}", seller=shop[1])
    from accounts.dashboard.status_page import local_cache
    cache.clear()
    local_cache.clear()
    url = status_path(guest_order)
    # The fingerprint, the snapshot's reads of the order and what hangs off it, and ONE for the
    # whole thread (however long it is: see the test above).
    with django_assert_num_queries(QUERIES_FIRST_RENDER):
        assert client.get(url).status_code == 200
    with django_assert_num_queries(1):  # cached: the fingerprint only
        assert "Answer 2" in client.get(url).content.decode()


QUERIES_FIRST_RENDER = 9
