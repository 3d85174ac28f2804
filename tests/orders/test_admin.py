"""Admin screens for accounts, catalog and orders: every changelist loads; statuses change only via services."""
import pytest
from django.apps import apps
from django.contrib import admin
from django.urls import reverse

from accounts.models import ConsentRecord, LoginActivity
from catalog.models import BackInStockSubscription
from orders.checkout import checkout_place
from orders.models import Order, OrderEvent, Payment, ReturnRequest
from orders.services import TrackingUpdate, return_request_create, shipment_create, shipment_record_tracking
from tests.factories import ProductFactory

pytestmark = pytest.mark.django_db
APPS = ("accounts", "catalog", "orders")
ADDRESS = {"name": "Ada", "line1": "1 Row", "city": "London", "postcode": "N1 9GU", "country": "GB"}


@pytest.fixture
def data(customer):
    product = ProductFactory(stock_on_hand=5)
    product.store.return_address = "Returns, 1 Dock Road, Bristol"
    product.store.save(update_fields=["return_address"])
    result = checkout_place(customer=customer, email=customer.email, items={product.pk: 1}, address=ADDRESS,
                            shipping_method="standard", payment_method="card", card_number="4242424242424242",
                            marketing_opt_in=True, ip="127.0.0.1")
    order = result.orders[0]
    shipment = shipment_create(order=order, carrier="royalmail", tracking_number="RM1GB")
    from django.utils import timezone
    shipment_record_tracking(shipment=shipment, update=TrackingUpdate(
        dedupe_key="d1", status="delivered", occurred_at=timezone.now(), message="Delivered"))
    order.refresh_from_db()
    return_request_create(order=order, lines=order.lines.all(), reason="Too small")
    BackInStockSubscription.objects.create(product=product, email="x@example.com")
    LoginActivity.objects.create(user=customer, ip_address="127.0.0.1")
    assert ConsentRecord.objects.exists()
    return order


def registered_models():
    return [m for m in apps.get_models() if m._meta.app_label in APPS]


def test_every_model_of_the_three_apps_is_registered():
    missing = [m.__name__ for m in registered_models() if m not in admin.site._registry]
    assert missing == []


@pytest.mark.parametrize("model", registered_models(), ids=lambda m: m.__name__)
def test_changelist_search_and_change_page_load(admin_client, data, model):
    info = (model._meta.app_label, model._meta.model_name)
    url = reverse("admin:%s_%s_changelist" % info)
    assert admin_client.get(url).status_code == 200
    assert admin_client.get(url, {"q": "a"}).status_code == 200
    obj = model.objects.first()
    if obj is not None:
        assert admin_client.get(reverse("admin:%s_%s_change" % info, args=[obj.pk])).status_code == 200


def test_order_page_shows_inlines_and_timeline(admin_client, data):
    page = admin_client.get(reverse("admin:orders_order_change", args=[data.pk])).content.decode()
    assert data.number in page and "Timeline" in page and "Royal Mail" in page and "RM1GB" in page


def test_status_is_read_only_and_actions_go_through_the_transition_table(admin_client, data):
    order = data  # completed
    url = reverse("admin:orders_order_changelist")
    # Forbidden (completed -> processing): clear error, nothing saved.
    response = admin_client.post(url, {"action": "move_to_processing", "_selected_action": [order.pk]}, follow=True)
    assert "Cannot move order from" in response.content.decode()
    order.refresh_from_db()
    assert order.status == "completed"
    # Allowed (completed -> refunded): the payment is refunded and the timeline says who did it.
    admin_client.post(url, {"action": "refund_orders", "_selected_action": [order.pk]})
    order.refresh_from_db()
    assert order.status == "refunded"
    assert order.payments.get().status == "refunded"
    event = OrderEvent.objects.filter(order=order, kind="status").latest("id")
    assert (event.from_status, event.to_status, event.actor.username) == ("completed", "refunded", "admin")


def test_cancel_action_refunds_and_delivered_action_completes(admin_client, customer):
    product = ProductFactory(stock_on_hand=5)
    paid = checkout_place(customer=customer, email=customer.email, items={product.pk: 1}, address=ADDRESS,
                          shipping_method="standard", payment_method="card",
                          card_number="4242424242424242").orders[0]
    shipped = checkout_place(customer=customer, email=customer.email, items={product.pk: 1}, address=ADDRESS,
                             shipping_method="standard", payment_method="cod").orders[0]
    shipment_create(order=shipped, carrier="dpd", tracking_number="DPD1")
    url = reverse("admin:orders_order_changelist")

    admin_client.post(url, {"action": "cancel_orders", "_selected_action": [paid.pk]})
    admin_client.post(url, {"action": "mark_delivered", "_selected_action": [shipped.pk]})

    paid.refresh_from_db(), shipped.refresh_from_db()
    assert paid.status == "cancelled" and paid.payments.get().status == "refunded"
    assert shipped.status == "completed" and shipped.shipments.get().status == "delivered"


def test_saving_an_order_form_cannot_change_status(admin_client, data):
    url = reverse("admin:orders_order_change", args=[data.pk])
    form = admin_client.get(url).context["adminform"].form
    assert "status" not in form.fields
    post = {k: ("" if v is None else v) for k, v in form.initial.items() if k in form.fields}
    post.update({"status": "cancelled", "shipping_city": "Leeds"})
    for prefix in ("lines", "payments", "shipments", "messages", "events"):
        post.update({f"{prefix}-TOTAL_FORMS": 0, f"{prefix}-INITIAL_FORMS": 0})
    response = admin_client.post(url, post)
    assert response.status_code == 302, response.context["adminform"].form.errors
    data.refresh_from_db()
    assert data.shipping_city == "Leeds"  # the edit was saved…
    assert data.status == "completed"  # …the status was not


def test_payment_and_return_actions_use_services(admin_client, data):
    payment = data.payments.get()
    admin_client.post(reverse("admin:orders_payment_changelist"),
                      {"action": "mark_refunded", "_selected_action": [payment.pk]})
    payment.refresh_from_db()
    assert payment.status == Payment.Status.REFUNDED
    rr = ReturnRequest.objects.get()
    admin_client.post(reverse("admin:orders_returnrequest_changelist"),
                      {"action": "return_approved", "_selected_action": [rr.pk]})
    rr.refresh_from_db()
    assert rr.status == "approved"
    assert Order.objects.get().events.filter(kind="return", to_status="approved").exists()
