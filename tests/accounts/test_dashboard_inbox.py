import pytest
from django.urls import reverse

from notifications.models import InboxMessage
from tests.factories import CustomerFactory


@pytest.fixture
def customer_client(client, customer):
    client.force_login(customer)
    return client


def msg(user, title="Your order has shipped", url="/account/orders/NS-AAAA-BBBB/", read=False):
    from django.utils import timezone

    return InboxMessage.objects.create(user=user, title=title, body="Body text", url=url,
                                       read_at=timezone.now() if read else None)


def test_inbox_lists_my_messages_and_bell_shows_unread(customer_client, customer):
    msg(customer, "Mine unread")
    msg(customer, "Mine read", read=True)
    msg(CustomerFactory(), "Not mine")
    body = customer_client.get(reverse("accounts:inbox")).content.decode()
    assert "Mine unread" in body and "Mine read" in body and "Not mine" not in body
    assert 'data-testid="bell-count">1<' in body


def test_bell_on_other_pages(customer_client, customer):
    msg(customer)
    msg(customer)
    body = customer_client.get(reverse("accounts:dashboard")).content.decode()
    assert 'data-testid="bell-count">2<' in body


def test_empty_inbox(customer_client):
    body = customer_client.get(reverse("accounts:inbox")).content.decode()
    assert "Nothing in your inbox" in body and "bell-count" not in body


def test_mark_read_in_place_updates_the_bell(customer_client, customer):
    m = msg(customer)
    response = customer_client.post(reverse("accounts:inbox_read", args=[m.pk]), HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert response.status_code == 200
    assert 'id="inbox-' in body and 'hx-swap-oob="true"' in body and "bell-count" not in body
    m.refresh_from_db()
    assert m.read_at is not None


def test_open_marks_read_and_goes_to_the_order(customer_client, customer):
    m = msg(customer, url="http://testserver/account/orders/NS-AAAA-BBBB/")
    response = customer_client.post(reverse("accounts:inbox_read", args=[m.pk]), {"open": "1"})
    assert response.status_code == 302 and response["Location"] == "/account/orders/NS-AAAA-BBBB/"
    m.refresh_from_db()
    assert m.read_at


def test_open_never_redirects_off_site(customer_client, customer):
    m = msg(customer, url="https://evil.example/phish?x=1")
    response = customer_client.post(reverse("accounts:inbox_read", args=[m.pk]), {"open": "1"})
    assert response["Location"] == "/phish?x=1"


def test_mark_all_read(customer_client, customer):
    msg(customer)
    msg(customer)
    customer_client.post(reverse("accounts:inbox_read_all"))
    assert not InboxMessage.objects.filter(user=customer, read_at__isnull=True).exists()


def test_someone_elses_message_is_404(customer_client):
    theirs = msg(CustomerFactory())
    assert customer_client.post(reverse("accounts:inbox_read", args=[theirs.pk])).status_code == 404
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_seller_inbox(client, seller):
    msg(seller, "New order NS-1111-2222")
    client.force_login(seller)
    body = client.get(reverse("seller:inbox")).content.decode()
    assert "New order NS-1111-2222" in body
    assert reverse("seller:inbox") in body  # the bell points sellers to their dashboard inbox
