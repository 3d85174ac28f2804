"""RFC 8058 one-click unsubscribe: the POST a mail client makes works with no session, cookie or
CSRF token; a forged token changes nothing; a GET only asks; the withdrawal is a ConsentRecord and
takes the customer out of the next promotion; per channel (SMS too)."""
import pytest
from django.core import signing
from django.test import Client

from accounts.models import ConsentRecord
from marketing.context import marketing_token, unsubscribe_url
from marketing.selectors import progress
from notifications.context_subjects import UNSUBSCRIBE_SALT
from notifications.models import CustomerPreference
from tests.factories import CustomerFactory

from .conftest import consent, make_promotion

pytestmark = pytest.mark.django_db
ONE_CLICK = "List-Unsubscribe=One-Click"


def path_of(url):
    return "/" + url.split("/", 3)[3]


def test_one_click_post_unsubscribes_without_session_or_csrf(shop, frozen_clock):
    store, lamp, *_ = shop
    ada = CustomerFactory(email="ada@example.com")
    consent(ada)
    promotion = make_promotion(store, [lamp], start=frozen_clock_now())
    url = path_of(unsubscribe_url("ADA@example.com", "email", promotion.pk))
    assert url.startswith("/u/")
    client = Client(enforce_csrf_checks=True)  # no login, no cookie, no CSRF token
    response = client.post(url, ONE_CLICK, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 200 and not response.cookies.get("sessionid")
    latest = ConsentRecord.objects.filter(user=ada, kind="marketing_email").order_by("-id").first()
    assert latest.granted is False and latest.source == f"unsubscribe: promotion {promotion.pk}"
    assert CustomerPreference.objects.get(user=ada, category="marketing", channel="email").enabled is False
    assert progress(promotion)["unsubscribed"] == 1


def test_a_forged_or_tampered_token_is_refused_and_changes_nothing(shop):
    ada = CustomerFactory(email="ada@example.com")
    consent(ada)
    client = Client(enforce_csrf_checks=True)
    forged = signing.dumps({"e": "ada@example.com", "c": "email"}, salt="another-salt")
    good = marketing_token("ada@example.com", "email", 1)
    tampered = good[:-2] + ("AA" if not good.endswith("AA") else "BB")
    for token in (forged, tampered, "not-a-token"):
        response = client.post(f"/u/{token}/", ONE_CLICK, content_type="application/x-www-form-urlencoded")
        assert response.status_code == 400
    wrong_channel = signing.dumps({"e": "ada@example.com", "c": "push"}, salt=UNSUBSCRIBE_SALT)
    assert client.post(f"/u/{wrong_channel}/", ONE_CLICK,
                       content_type="application/x-www-form-urlencoded").status_code == 400
    assert list(ConsentRecord.objects.values_list("granted", flat=True)) == [True]


def test_get_only_asks_with_a_form_that_posts(shop):
    ada = CustomerFactory(email="ada@example.com")
    consent(ada)
    page = Client().get(path_of(unsubscribe_url("ada@example.com", "email", 3)))
    body = page.content.decode()
    assert page.status_code == 200 and "Unsubscribe from offers and news?" in body and 'method="post"' in body
    assert ConsentRecord.objects.count() == 1  # a link scanner's GET changes nothing


def test_an_sms_token_withdraws_marketing_sms_only(shop):
    bob = CustomerFactory(email="bob@example.com", phone="+447700900123")
    consent(bob)
    consent(bob, kind="marketing_sms")
    url = path_of(unsubscribe_url("+447700900123", "sms", 9))
    assert Client(enforce_csrf_checks=True).post(url, ONE_CLICK,
                                                 content_type="application/x-www-form-urlencoded").status_code == 200
    latest = {k: ConsentRecord.objects.filter(user=bob, kind=k).order_by("-id").first().granted
              for k in ("marketing_email", "marketing_sms")}
    assert latest == {"marketing_email": True, "marketing_sms": False}


def test_the_old_product_update_link_still_works(shop):
    from notifications.context_subjects import unsubscribe_token

    ada = CustomerFactory(email="ada@example.com")
    consent(ada)
    response = Client(enforce_csrf_checks=True).post(f"/account/unsubscribe/{unsubscribe_token('ada@example.com')}/")
    assert response.status_code == 200
    assert ConsentRecord.objects.filter(user=ada, granted=False).exists()


def frozen_clock_now():
    from django.utils import timezone

    return timezone.now()
