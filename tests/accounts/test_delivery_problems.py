"""Fix-and-resend on the order status page (SPEC section 8): a bounced or failed message, its plain
reason, the corrected address (email confirmed by a link first), the resend, access and rate limit."""
import re

import pytest
from django.core import mail
from django.urls import reverse

from notifications.channels import sms as sms_channel
from notifications.context import sample_context
from notifications.models import AddressCorrection, Notification, QuietHours, Suppression
from notifications.services import attempt_record_provider_status
from orders.links import status_path, status_token
from orders.services import order_transition
from tests.factories import CustomerFactory, OrderFactory, ProductFactory
from tests.notifications.test_templates import _shape

pytestmark = pytest.mark.django_db


@pytest.fixture
def commit(django_capture_on_commit_callbacks):
    return lambda: django_capture_on_commit_callbacks(execute=True)


def bounced_email(order, commit):
    with commit():
        order_transition(order=order, to="on_hold", note="Stock check")
    row = Notification.objects.get(order=order, event="order.on_hold", channel="email")
    with commit():
        attempt_record_provider_status(provider_message_id=row.delivery_attempts.get().provider_message_id,
                                       status="bounced", provider_status="postmark:bounced",
                                       error="550 mailbox does not exist", suppress="bounce")
    row.refresh_from_db()
    assert row.status == "bounced"
    return row


@pytest.fixture
def guest_order(db):
    return OrderFactory(customer=None, email="ada@exmaple.com", phone="", lines=[(ProductFactory(), 1)])


def test_guest_fixes_a_bounced_email_and_the_resend_goes_to_the_new_address_after_confirmation(
        client, guest_order, commit, frozen_clock):
    failed = bounced_email(guest_order, commit)
    url = f"/o/{status_token(guest_order)}/delivery/"
    page = client.get(url)
    assert page.status_code == 200
    body = page.content.decode()
    assert "bounced: that mailbox does not exist or refused it" in body and 'data-testid="fix-form"' in body
    # The status page itself loads it with one line (htmx).
    status = client.get(status_path(guest_order)).content.decode()
    assert 'id="delivery-problems"' in status and "delivery/" in status

    mail.outbox.clear()
    with commit():
        response = client.post(url, {"notification": failed.pk, "address": " Ada@Example.com "})
    assert response.status_code == 302
    correction = AddressCorrection.objects.get()
    assert correction.new_address == "ada@example.com" and correction.confirmed_at is None
    guest_order.refresh_from_db()
    assert guest_order.email == "ada@exmaple.com"  # nothing changes before the link is followed
    assert [m.to for m in mail.outbox] == [["ada@example.com"]]
    confirm = mail.outbox[0]
    assert guest_order.number in confirm.subject
    link = re.search(r"https?://\S+/account/delivery/confirm/\S+/", confirm.body).group(0)
    path = link.split("://", 1)[1].split("/", 1)[1]
    # The confirmation email's context has the shape the admin validates templates against.
    confirm_row = Notification.objects.get(event="order.contact_confirm")
    assert _shape(confirm_row.context) == _shape(sample_context("order.contact_confirm", "customer"))

    assert client.get("/" + path).status_code == 200  # a page with a button: a GET changes nothing
    assert not Notification.objects.filter(corrected_from=failed).exists()
    mail.outbox.clear()
    with commit():
        done = client.post("/" + path)
    guest_order.refresh_from_db()
    assert guest_order.email == "ada@example.com"
    assert done.status_code == 302 and done["Location"] == status_path(guest_order)
    resent = Notification.objects.get(corrected_from=failed)
    assert (resent.channel, resent.recipient_address, resent.status) == ("email", "ada@example.com", "sent")
    assert [m.to for m in mail.outbox] == [["ada@example.com"]]
    assert "on hold" in mail.outbox[0].subject.lower()
    # Its status link is signed for the new email, so it opens the order.
    token = re.search(r"/o/([^/\s]+)/", mail.outbox[0].body).group(1)
    assert client.get(f"/o/{token}/").status_code == 200
    # The old address stays suppressed; the failed row is untouched.
    assert Suppression.objects.filter(channel="email", address="ada@exmaple.com").exists()
    failed.refresh_from_db()
    assert failed.status == "bounced"
    # Following the link again sends nothing more.
    with commit():
        client.post("/" + path)
    assert Notification.objects.filter(corrected_from=failed).count() == 1
    # The new status page shows what happened.
    fragment = client.get(f"/o/{status_token(guest_order)}/delivery/", HTTP_HX_REQUEST="true").content.decode()
    assert "Resent to the corrected address" in fragment


def test_signed_in_customer_fixes_a_failed_sms_number_and_it_is_resent_at_once(client, commit, frozen_clock):
    customer = CustomerFactory(email="bo@example.com", phone="+447911123456", sms_opt_in=True)
    QuietHours.objects.create(user=customer, enabled=False)
    order = OrderFactory(customer=customer, phone="+447911123456", sms_opt_in=True, lines=[(ProductFactory(), 1)],
                         status="processing")
    from tests.notifications.helpers import ship

    with commit():
        ship(order)
    sms = Notification.objects.get(order=order, event="order.shipped", channel="sms")
    with commit():
        attempt_record_provider_status(provider_message_id=sms.delivery_attempts.get().provider_message_id,
                                       status="bounced", provider_status="undelivered", error="Twilio error 30003")
    client.force_login(customer)
    url = reverse("accounts:delivery_problems", args=[order.number])
    page = client.get(url, HTTP_HX_REQUEST="true").content.decode()
    assert "could not be delivered by the phone network" in page
    bad = client.post(url, {"notification": sms.pk, "address": "12345"}, HTTP_HX_REQUEST="true")
    assert bad.status_code == 422 and "valid mobile number" in bad.content.decode()
    sms_channel.outbox.clear()
    with commit():
        ok = client.post(url, {"notification": sms.pk, "address": "07911 234567"}, HTTP_HX_REQUEST="true")
    assert ok.status_code == 200 and "Sent again to +447911234567" in ok.content.decode()
    assert [m["to"] for m in sms_channel.outbox] == ["+447911234567"]
    order.refresh_from_db()
    assert order.phone == "+447911234567"
    assert Notification.objects.get(corrected_from=sms).recipient_address == "+447911234567"


def test_access_control_on_the_fix_form(client, guest_order, commit):
    failed = bounced_email(guest_order, commit)
    owner = CustomerFactory()
    owned = OrderFactory(customer=owner, lines=[(ProductFactory(), 1)])
    url = reverse("accounts:delivery_problems", args=[owned.number])
    # Not signed in: to the login page. Someone else's order: 404.
    assert client.get(url).status_code == 302
    client.force_login(CustomerFactory())
    assert client.get(url).status_code == 404
    assert client.post(url, {"notification": failed.pk, "address": "x@example.com"}).status_code == 404
    client.logout()
    # A tampered status link: refused.
    token = status_token(guest_order)
    assert client.get(f"/o/{token[:-2]}xx/delivery/").status_code == 403
    # A valid link to another order cannot resend this order's message.
    other = OrderFactory(customer=None, email="carl@example.com", lines=[(ProductFactory(), 1)])
    response = client.post(f"/o/{status_token(other)}/delivery/", {"notification": failed.pk,
                                                                    "address": "evil@example.com"})
    assert response.status_code == 422 and not AddressCorrection.objects.exists()
    # A message that was delivered is not resendable here.
    ok_row = Notification.objects.filter(order=guest_order, channel="inapp").first() or failed
    if ok_row is not failed:
        assert client.post(f"/o/{token}/delivery/", {"notification": ok_row.pk,
                                                     "address": "a@example.com"}).status_code == 422
    # Confirm links cannot be forged.
    assert client.get("/account/delivery/confirm/forged/").status_code == 410


def test_corrections_are_rate_limited(client, guest_order, commit):
    failed = bounced_email(guest_order, commit)
    url = f"/o/{status_token(guest_order)}/delivery/"
    for i in range(3):
        with commit():
            assert client.post(url, {"notification": failed.pk, "address": f"a{i}@example.com"}).status_code == 302
    refused = client.post(url, {"notification": failed.pk, "address": "a9@example.com"}, HTTP_HX_REQUEST="true")
    assert refused.status_code == 422 and "3 times today" in refused.content.decode()
    assert AddressCorrection.objects.count() == 3


def test_a_suppressed_new_address_or_the_same_address_is_refused(client, guest_order, commit):
    failed = bounced_email(guest_order, commit)
    Suppression.objects.create(channel="email", address="gone@example.com", reason="bounce")
    url = f"/o/{status_token(guest_order)}/delivery/"
    same = client.post(url, {"notification": failed.pk, "address": "ada@exmaple.com"}, HTTP_HX_REQUEST="true")
    assert same.status_code == 422 and "already went to" in same.content.decode()
    gone = client.post(url, {"notification": failed.pk, "address": "gone@example.com"}, HTTP_HX_REQUEST="true")
    assert gone.status_code == 422 and "cannot send to that address" in gone.content.decode()
