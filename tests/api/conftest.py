import pytest
from rest_framework.test import APIClient

from api.models import ApiKey
from api.services import api_key_create


@pytest.fixture
def write_key(store, seller):
    key, token = api_key_create(store=store, name="Warehouse WMS", scope=ApiKey.Scope.WRITE, actor=seller)
    return token


@pytest.fixture
def read_key(store):
    key, token = api_key_create(store=store, name="Reporting", scope=ApiKey.Scope.READ)
    return token


@pytest.fixture
def api(write_key):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {write_key}")
    return client


@pytest.fixture
def commit(django_capture_on_commit_callbacks):
    return lambda: django_capture_on_commit_callbacks(execute=True)
