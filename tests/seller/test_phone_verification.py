"""Seller SMS alerts need a number the seller proved with a code sent by SMS (issue 9, item 12)."""
import datetime
import re

import pytest
from django.urls import reverse

from accounts.phone_verification import phone_is_verified
from notifications.channels import sms as sms_channel
from notifications.models import Notification
from notifications.services import seller_setting_set
from tests.factories import ProductFactory, SellerFactory, StoreFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def unverified(db):
    store = StoreFactory()
    seller = SellerFactory(store=store, phone="+447911123456", phone_verified_number="")
    return store, seller


def _code():
    [message] = [m for m in sms_channel.outbox if m["to"] == "+447911123456"]
    return re.search(r"\b(\d{6})\b", message["body"]).group(1)


def test_the_sms_switch_stays_off_until_the_number_is_verified(client, unverified, django_capture_on_commit_callbacks,
                                                               frozen_clock):
    from django.core.exceptions import ValidationError

    store, seller = unverified
    sms_channel.outbox.clear()
    client.force_login(seller)
    page = client.get(reverse("seller:settings")).content.decode()
    assert 'data-testid="phone-verify"' in page and "Text me a code" in page
    with pytest.raises(ValidationError, match="verify it"):
        seller_setting_set(store=store, event="order.placed", channel="sms", enabled=True, actor=seller)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("seller:phone_code_send"))
    assert response.status_code == 302
    row = Notification.objects.get(event="account.phone_verify", channel="sms")
    assert row.category == "security" and row.status == "sent"
    code = _code()
    assert "verification code is" in sms_channel.outbox[-1]["body"]

    wrong = "000000" if code != "000000" else "111111"
    client.post(reverse("seller:phone_code_confirm"), {"code": wrong})
    seller.refresh_from_db()
    assert not phone_is_verified(seller)
    client.post(reverse("seller:phone_code_confirm"), {"code": code})
    seller.refresh_from_db()
    assert phone_is_verified(seller)
    seller_setting_set(store=store, event="order.placed", channel="sms", enabled=True, actor=seller)

    # A changed number is unverified again, and no alert goes to it.
    seller.phone = "+447911123457"
    seller.save()
    assert not phone_is_verified(seller)
    from tests.notifications.helpers import place

    product = ProductFactory(store=store, stock_on_hand=5)
    with django_capture_on_commit_callbacks(execute=True):
        place({product.pk: 1})
    assert not Notification.objects.filter(event="order.placed", audience="seller", channel="sms").exists()


def test_a_code_expires_and_allows_five_tries(unverified, django_capture_on_commit_callbacks, frozen_clock):
    from django.core.exceptions import ValidationError

    from accounts.phone_verification import phone_verification_confirm, phone_verification_start

    store, seller = unverified
    sms_channel.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        phone_verification_start(user=seller)
    code = _code()
    for _ in range(5):
        with pytest.raises(ValidationError):
            phone_verification_confirm(user=seller, code="999999" if code != "999999" else "888888")
    with pytest.raises(ValidationError, match="Too many"):
        phone_verification_confirm(user=seller, code=code)
    sms_channel.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        phone_verification_start(user=seller)
    frozen_clock.shift(datetime.timedelta(minutes=11))
    with pytest.raises(ValidationError, match="expired"):
        phone_verification_confirm(user=seller, code=_code())
    with django_capture_on_commit_callbacks(execute=True):
        phone_verification_start(user=seller)
    with pytest.raises(ValidationError, match="three codes"):
        phone_verification_start(user=seller)


def test_another_sellers_code_does_not_verify(unverified, django_capture_on_commit_callbacks):
    from django.core.exceptions import ValidationError

    from accounts.phone_verification import phone_verification_confirm, phone_verification_start

    store, seller = unverified
    other = SellerFactory(store=store, phone="+447911123458", phone_verified_number="")
    sms_channel.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        phone_verification_start(user=seller)
    with pytest.raises(ValidationError):
        phone_verification_confirm(user=other, code=_code())
