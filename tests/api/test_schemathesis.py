"""Property-based run of the whole API against its own OpenAPI document (schemathesis).

Every operation gets generated valid and invalid requests with a read-write key of a store that has
real orders, shipments and products; no response may be a 5xx and every response (status code,
content type, headers, body) must match the document.
"""
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import checks
from schemathesis.specs.openapi import checks as openapi_checks

from api.models import ApiKey
from api.services import api_key_create
from notify_site.wsgi import application
from orders.services import order_transition, shipment_create
from tests.factories import OrderFactory, ProductFactory, StoreFactory

schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", application)

CHECKS = [checks.not_a_server_error, openapi_checks.status_code_conformance,
          openapi_checks.content_type_conformance, openapi_checks.response_headers_conformance,
          openapi_checks.response_schema_conformance]


@pytest.fixture
def keep_db_connection():
    """Call the WSGI app the way Django's test client does: without closing the test's database
    connection at the end of each request (PostgreSQL would lose the test transaction)."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def api_headers(db, keep_db_connection):
    store = StoreFactory()
    product = ProductFactory(store=store, stock_on_hand=3)
    for _ in range(2):
        order = OrderFactory(store=store, lines=[(product, 1)])
    order_transition(order=order, to="processing", actor="system")
    shipment_create(order=order, carrier="fleet", tracking_number="VAN-7-0042")
    _, token = api_key_create(store=store, name="schemathesis", scope=ApiKey.Scope.WRITE)
    real = {"number": order.number, "product_id": product.pk, "shipment_id": order.shipments.get().pk}
    return {"Authorization": f"Bearer {token}"}, real


@pytest.mark.django_db
@schema.parametrize()
@settings(max_examples=20, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.filter_too_much])
def test_api_matches_its_schema(case, api_headers):
    headers, real = api_headers
    case.call_and_validate(headers=headers, checks=CHECKS)
    # The same request against the store's real order / product / shipment, so the generated bodies
    # reach the services (status changes, shipments, checkpoints, stock) and not only the 404 path.
    if case.path_parameters:
        case.path_parameters = {name: real.get(name, value) for name, value in case.path_parameters.items()}
        case.call_and_validate(headers=headers, checks=CHECKS)
