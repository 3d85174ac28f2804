"""Loyalty: points when an order completes, reversed on refund, a ledger the customer reads, tiers
from the admin, loyalty.tier_reached / loyalty.milestone (category account) and the loyalty page."""
from decimal import Decimal

import pytest
from django.core import mail
from django.urls import reverse

from accounts.loyalty import loyalty_award_order
from accounts.models import LoyaltyAccount, LoyaltyEntry, LoyaltyTier
from notifications.models import Notification
from notifications.services import customer_preference_set
from orders.services import order_transition
from tests.factories import CustomerFactory, OrderFactory, ProductFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def commit(django_capture_on_commit_callbacks):
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture(autouse=True)
def _setup(settings):
    mail.outbox = []
    settings.LOYALTY_POINTS_PER_UNIT = 2
    settings.LOYALTY_MILESTONES = [500, 1000]
    LoyaltyTier.objects.all().delete()
    LoyaltyTier.objects.create(name="Silver", threshold=300, benefits="Free standard shipping")
    LoyaltyTier.objects.create(name="Gold", threshold=1000, benefits="Free express shipping and gifts")


def _completed(customer, total, commit):
    order = OrderFactory(customer=customer, status="shipped", total=Decimal(total))
    with commit():
        order_transition(order=order, to="completed", actor="carrier")
    return order


def test_completing_an_order_earns_points_once_and_a_refund_takes_them_back(commit):
    ann = CustomerFactory(email="ann@example.com")
    order = _completed(ann, "120.49", commit)  # 2 points per £1, rounded down → 240
    assert LoyaltyAccount.objects.get(user=ann).points == 240
    assert loyalty_award_order(order=order) is None  # completing twice earns once
    with commit():
        order_transition(order=order, to="refunded")
    account = LoyaltyAccount.objects.get(user=ann)
    assert account.points == 0
    assert list(LoyaltyEntry.objects.filter(account=account).order_by("id").values_list("kind", "points", "balance")) \
        == [("earned", 240, 240), ("reversed", -240, 0)]


def test_guests_earn_nothing(commit):
    order = OrderFactory(customer=None, email="g@example.com", status="shipped")
    with commit():
        order_transition(order=order, to="completed", actor="carrier")
    assert not LoyaltyEntry.objects.exists()


def test_reaching_a_tier_and_a_milestone_tells_the_customer_with_benefits(commit):
    ann = CustomerFactory(email="ann@example.com", first_name="Ann")
    _completed(ann, "100.00", commit)  # 200: no tier yet
    assert not Notification.objects.filter(event__startswith="loyalty.").exists()
    _completed(ann, "160.00", commit)  # 520: Silver and the 500 milestone
    tier_mail = next(m for m in mail.outbox if "Silver" in m.subject)
    assert tier_mail.to == ["ann@example.com"]
    for text in ("520 points", "Free standard shipping", "480 more points take you to Gold", "/account/loyalty/"):
        assert text in tier_mail.body
    milestone_mail = next(m for m in mail.outbox if m.subject.startswith("500 points"))
    assert "520 points" in milestone_mail.body and "Silver" in milestone_mail.body
    rows = Notification.objects.filter(event__startswith="loyalty.")
    assert {(n.event, n.channel) for n in rows} == {("loyalty.tier_reached", "email"), ("loyalty.tier_reached", "inapp"),
                                                   ("loyalty.milestone", "email"), ("loyalty.milestone", "inapp")}
    assert {n.category for n in rows} == {"account"}
    assert LoyaltyAccount.objects.get(user=ann).tier.name == "Silver"


def test_customer_can_switch_loyalty_emails_off(commit):
    ann = CustomerFactory(email="ann@example.com")
    customer_preference_set(user=ann, category="account", channel="email", enabled=False)
    _completed(ann, "600.00", commit)
    assert not mail.outbox
    assert Notification.objects.filter(event="loyalty.tier_reached", channel="email").get().status == "skipped"


def test_loyalty_page_shows_points_tier_history_and_what_the_next_tier_needs(client, commit):
    ann = CustomerFactory()
    _completed(ann, "200.00", commit)
    client.force_login(ann)
    html = client.get(reverse("accounts:loyalty")).content.decode()
    assert 'data-testid="points">400<' in html and "Silver" in html and "Free standard shipping" in html
    assert "600 more points to reach <strong>Gold</strong>" in html
    assert "+400" in html and "completed" in html
    bob = CustomerFactory()
    client.force_login(bob)
    assert 'data-testid="points">0<' in client.get(reverse("accounts:loyalty")).content.decode()
    client.logout()
    assert client.get(reverse("accounts:loyalty")).status_code == 302


def test_return_refund_takes_back_the_refunded_share(commit):
    from orders.services import return_request_create, return_set_status

    from tests.factories import StoreFactory

    ann = CustomerFactory()
    store = StoreFactory(return_address="Returns, 1 Mill Lane, Leeds LS1 1AA")  # approving a return needs it
    product = ProductFactory(price=Decimal("50.00"), store=store)
    order = OrderFactory(customer=ann, store=store, status="shipped", lines=[(product, 2)])
    with commit():
        order_transition(order=order, to="completed", actor="carrier")
    earned = LoyaltyAccount.objects.get(user=ann).points
    with commit():
        rr = return_request_create(order=order, lines=list(order.lines.all())[:1], reason="Too big")
        for to in ("approved", "received", "refunded"):
            return_set_status(return_request=rr, to=to)
    rr.refresh_from_db()
    assert LoyaltyAccount.objects.get(user=ann).points == earned - int(rr.refund_amount * 2)
