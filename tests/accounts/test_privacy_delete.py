"""Delete my account: confirmed by an emailed link; afterwards no personal value of the customer is
left in any text, char or JSON column of any table, orders stay for accounting, sellers see
"Deleted customer", sessions end, and the other customer is untouched."""
import datetime
import re

import pytest
from django.apps import apps
from django.contrib.sessions.models import Session
from django.core import mail
from django.db import models
from django.test import Client

from accounts.models import User
from notifications.models import Notification
from orders.models import Order
from tests.accounts.privacy_helpers import finish, make_person

pytestmark = pytest.mark.django_db
LINK = re.compile(r"http://[^\s\"]+/account/privacy/delete/[^\s\"/]+/")
TEXT_FIELDS = (models.CharField, models.TextField, models.JSONField, models.GenericIPAddressField)


@pytest.fixture
def people(django_capture_on_commit_callbacks, frozen_clock):
    zeb = make_person("zebedee", django_capture_on_commit_callbacks=django_capture_on_commit_callbacks,
                      ip="203.0.113.7")
    yol = make_person("yolanda", django_capture_on_commit_callbacks=django_capture_on_commit_callbacks,
                      ip="198.51.100.23", store=zeb.order.store)
    for person in (zeb, yol):
        finish(person, django_capture_on_commit_callbacks=django_capture_on_commit_callbacks)
    return zeb, yol


def _signed_in(person) -> Client:
    client = Client()
    assert client.post("/account/login/", {"username": person.personal["username"],
                                           "password": person.password}).status_code == 302
    return client


def _ask(client, person, commit, password=None):
    with commit(execute=True):
        return client.post("/account/privacy/delete/", {"password": password or person.password, "understood": "on"})


def every_text_value():
    """(model, field, value) for every text-like column of every row of every table."""
    for model in apps.get_models():
        fields = [f for f in model._meta.concrete_fields if isinstance(f, TEXT_FIELDS)]
        if not fields:
            continue
        for row in model.objects.values_list(*[f.attname for f in fields]):
            for field, value in zip(fields, row):
                if value not in (None, "", {}, []):
                    yield model.__name__, field.name, str(value)


def _find(values):
    needles = [v.lower() for v in values]
    return [(m, f, v[:80]) for m, f, v in every_text_value() if any(n in v.lower() for n in needles)]


def test_after_confirming_no_personal_value_remains_in_any_table(people, django_capture_on_commit_callbacks):
    zeb, yol = people
    client = _signed_in(zeb)
    other_client = _signed_in(yol)
    assert _find(zeb.personal.values())  # the scan finds them before deletion

    assert _ask(client, zeb, django_capture_on_commit_callbacks).status_code == 302
    [email] = mail.outbox
    assert email.to == [zeb.personal["email"]] and "Confirm" in email.subject
    link = LINK.search(email.body).group(0)
    confirm_page = client.get(link)
    assert confirm_page.status_code == 200 and "cannot be undone" in confirm_page.content.decode()
    assert User.objects.get(pk=zeb.user.pk).deleted_at is None  # opening the link deletes nothing

    with django_capture_on_commit_callbacks(execute=True):
        done = client.post(link)
    assert done.status_code == 200 and "Your account is deleted" in done.content.decode()

    assert _find(zeb.personal.values()) == []
    # The other customer of the same store keeps everything.
    assert {m for m, _, _ in _find([yol.personal["email"]])} >= {"User", "Order", "Notification", "ConsentRecord"}
    assert _find([yol.personal["line1"]]) and _find([yol.personal["ip"]])

    user = User.objects.get(pk=zeb.user.pk)
    assert not user.is_active and user.deleted_at and not user.has_usable_password()
    order = Order.objects.get(pk=zeb.order.pk)
    assert (order.shipping_name, order.email, order.total) == ("Deleted customer", "", zeb.order.total)
    assert order.lines.count() == 1 and order.payments.exists()
    kept = Notification.objects.filter(order=order, audience="customer")
    assert kept.exists() and all(n.status in ("sent", "skipped") and n.legal_basis for n in kept)
    assert all(n.context == {"erased": True} and not n.body_text for n in Notification.objects.filter(order=order))

    # Sessions end: the deleted customer is signed out, the other customer is not.
    assert client.get("/account/").status_code == 302
    assert other_client.get("/account/").status_code == 200
    assert not any(str(s.get_decoded().get("_auth_user_id")) == str(zeb.user.pk) for s in Session.objects.all())
    assert not Client().login(username=zeb.personal["username"], password=zeb.password)


def test_sellers_see_deleted_customer(people, django_capture_on_commit_callbacks):
    zeb, _ = people
    seller = zeb.order.store.sellers.first()
    from accounts.privacy import account_delete

    with django_capture_on_commit_callbacks(execute=True):
        account_delete(user=zeb.user)
    client = Client()
    client.force_login(seller)
    listing = client.get("/seller/?status=cancelled").content.decode()
    detail = client.get(f"/seller/orders/{zeb.order.number}/").content.decode()
    assert "Deleted customer" in listing and "Deleted customer" in detail
    assert zeb.personal["last_name"] not in listing + detail and zeb.personal["email"] not in detail


def test_the_request_needs_the_password_and_no_order_in_progress(people, django_capture_on_commit_callbacks):
    zeb, _ = people
    client = _signed_in(zeb)
    wrong = _ask(client, zeb, django_capture_on_commit_callbacks, password="not my password")
    assert wrong.status_code == 422 and "not your current password" in wrong.content.decode()
    unticked = client.post("/account/privacy/delete/", {"password": zeb.password})
    assert unticked.status_code == 422
    assert mail.outbox == []

    Order.objects.filter(pk=zeb.order.pk).update(status="shipped")
    page = client.get("/account/privacy/").content.decode()
    assert "still in progress" in page and zeb.order.number in page
    blocked = _ask(client, zeb, django_capture_on_commit_callbacks)
    assert blocked.status_code == 422 and mail.outbox == []


def test_the_link_is_personal_and_expires(people, django_capture_on_commit_callbacks, frozen_clock):
    zeb, yol = people
    client = _signed_in(zeb)
    _ask(client, zeb, django_capture_on_commit_callbacks)
    link = LINK.search(mail.outbox[0].body).group(0)

    other = _signed_in(yol)
    refused = other.post(link)
    assert refused.status_code == 403 and "another account" in refused.content.decode()
    assert User.objects.get(pk=zeb.user.pk).deleted_at is None
    assert client.post(link[:-3] + "xx/").status_code == 403

    frozen_clock.shift(datetime.timedelta(hours=25))
    expired = client.post(link)
    assert expired.status_code == 410 and "expired" in expired.content.decode()
    assert User.objects.get(pk=zeb.user.pk).deleted_at is None


def test_real_account_contexts_have_the_shape_the_admin_validates_templates_against(
        people, django_capture_on_commit_callbacks):
    from accounts.privacy import account_sample_context, data_export_build, data_export_request
    from tests.notifications.test_templates import _shape

    zeb, _ = people
    client = _signed_in(zeb)
    _ask(client, zeb, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=False):
        export = data_export_request(user=zeb.user)
    with django_capture_on_commit_callbacks(execute=True):
        data_export_build(export_id=export.pk)
    for event in ("account.deletion_requested", "account.data_export_ready"):
        row = Notification.objects.filter(event=event, channel="email").get()
        assert row.status == "sent" and row.order_id is None
        assert _shape(row.context) == _shape(account_sample_context(event, "customer")), event
