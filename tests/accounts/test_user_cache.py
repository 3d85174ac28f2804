"""The signed-in user's row is cached, and every change to the user is seen on the next request."""
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

pytestmark = pytest.mark.django_db
URL = reverse("accounts:dashboard")


def _user_queries(client):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(URL)
    return response, [q for q in ctx.captured_queries if 'FROM "accounts_user"' in q["sql"]]


def test_second_request_reads_the_user_from_the_cache(client, customer):
    client.force_login(customer)
    _, first = _user_queries(client)
    response, second = _user_queries(client)
    assert response.status_code == 200
    assert len(first) == 1 and second == []


def test_deactivated_user_is_signed_out_on_the_next_request(client, customer):
    client.force_login(customer)
    _user_queries(client)  # cached now
    customer.is_active = False
    customer.save()
    response = client.get(URL)
    assert response.status_code == 302 and reverse("accounts:login") in response["Location"]


def test_password_change_elsewhere_ends_the_cached_session(client, customer):
    client.force_login(customer)
    _user_queries(client)
    customer.set_password("a-new-Strong-pass-42")
    customer.save()
    response = client.get(URL)
    assert response.status_code == 302


def test_deleted_user_is_signed_out(client, customer):
    client.force_login(customer)
    _user_queries(client)
    customer.delete()
    response = client.get(URL)
    assert response.status_code == 302


def test_deactivation_by_queryset_update_signs_the_user_out_at_once(client, customer):
    from accounts.models import User

    client.force_login(customer)
    _user_queries(client)  # cached now
    User.objects.filter(pk=customer.pk).update(is_active=False)
    response = client.get(URL)
    assert response.status_code == 302 and reverse("accounts:login") in response["Location"]


def test_password_change_by_queryset_update_ends_the_cached_session(client, customer):
    from django.contrib.auth.hashers import make_password

    from accounts.models import User

    client.force_login(customer)
    _user_queries(client)
    User.objects.filter(email=customer.email).update(password=make_password("another-Strong-pass-9"))
    assert client.get(URL).status_code == 302


def test_bulk_update_drops_the_cached_row_too(client, customer):
    from accounts.models import User

    client.force_login(customer)
    _user_queries(client)
    customer.is_active = False
    User.objects.bulk_update([customer], ["is_active"])
    assert client.get(URL).status_code == 302
