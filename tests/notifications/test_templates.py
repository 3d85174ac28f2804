"""Templates: shipped defaults for every event × channel, validation on save (admin), live preview,
send test, versions with restore, and send-time fallback that never sends a broken message."""
from datetime import date

import pytest
from django.core import mail
from django.urls import reverse

from notifications import services
from notifications.context import sample_context
from notifications.events import EVENTS, MESSAGE_CHANNELS, PRIVACY_EVENTS
from notifications.models import Notification, NotificationTemplate
from notifications.rendering import all_default_keys, default_sources, validate
from orders.models import Order
from orders.services import order_mark_backordered, order_transition, return_request_create, return_set_status
from tests.factories import CustomerFactory, OrderFactory, ProductFactory, SellerFactory, StoreFactory

from .helpers import DECLINED_CARD, place, ship, track

pytestmark = pytest.mark.django_db

ADD_URL = "admin:notifications_notificationtemplate_add"


def form_data(**overrides):
    data = {"event": "order.on_hold", "audience": "customer", "channel": "email", "language": "en",
            "active": "on", "subject": "Order {{ order.number }} paused", "note": "",
            "text_body": "Hi {{ recipient.first_name }}, {{ change.reason }}",
            "html_body": "<p>Hi {{ recipient.first_name }}, {{ change.reason }}</p>",
            "versions-TOTAL_FORMS": "0", "versions-INITIAL_FORMS": "0", "versions-MIN_NUM_FORMS": "0",
            "versions-MAX_NUM_FORMS": "0"}
    data.update(overrides)
    return data


def test_every_event_and_audience_has_a_shipped_default_for_every_channel_that_validates():
    keys = list(all_default_keys())
    assert len(keys) == sum(len(e.audiences) for e in EVENTS.values()) * len(MESSAGE_CHANNELS)
    for event, audience, channel in keys:
        sources = default_sources(event, audience, channel)
        assert sources["text"].strip(), (event, audience, channel)
        assert validate(event=event, audience=audience, channel=channel, sources=sources) == {}, (event, audience,
                                                                                                channel)


def test_a_template_with_a_syntax_error_cannot_be_saved(admin_client):
    response = admin_client.post(reverse(ADD_URL), form_data(text_body="Hi {% if order.number %}no end"))
    assert response.status_code == 200
    assert "Template syntax error" in response.content.decode()
    assert not NotificationTemplate.objects.exists()


@pytest.mark.parametrize("field,source", [
    ("text_body", "Hi {{ order.nmber }}"),
    ("subject", "{{ ordr.number }}"),
    ("html_body", "{% if shipment.carrier %}x{% endif %}<p>{{ order.number }}</p>"),  # no shipment on on_hold
    ("text_body", "{% for line in lines %}{{ line.prodct }}{% endfor %}"),
])
def test_an_unknown_variable_is_a_form_error_even_inside_tags(admin_client, field, source):
    response = admin_client.post(reverse(ADD_URL), form_data(**{field: source}))
    assert response.status_code == 200
    assert "Unknown variable" in response.content.decode()
    assert not NotificationTemplate.objects.exists()


def test_a_blank_required_part_is_a_form_error(admin_client):
    response = admin_client.post(reverse(ADD_URL), form_data(html_body=""))
    assert "HTML body is required" in response.content.decode()
    assert not NotificationTemplate.objects.exists()


def test_a_valid_template_saves_as_version_1_and_is_used_for_the_next_send(admin_client, order, commit):
    response = admin_client.post(reverse(ADD_URL), form_data(note="Shorter"))
    assert response.status_code == 302
    template = NotificationTemplate.objects.get()
    assert template.version == 1 and template.versions.get().note == "Shorter"
    with commit():
        order_transition(order=order, to="on_hold", note="Checking stock")
    [message] = mail.outbox
    assert message.subject == f"Order {order.number} paused" and "Checking stock" in message.body
    row = Notification.objects.get(channel="email")
    assert row.template_source == "database v1" and not row.template_fallback


def test_add_form_starts_from_the_shipped_default(admin_client):
    page = admin_client.get(reverse(ADD_URL) + "?event=order.shipped&audience=customer&channel=sms")
    assert "shipment.tracking_number" in page.content.decode()


def test_versions_history_diff_and_restore(admin_client):
    template = NotificationTemplate(event="order.on_hold", audience="customer", channel="sms", language="en",
                                   text_body="v1 {{ order.number }}")
    services.template_save(template=template)
    template.text_body = "v2 {{ order.number }} {{ change.reason }}"
    services.template_save(template=template, note="Add reason")
    change = admin_client.get(reverse("admin:notifications_notificationtemplate_change", args=[template.pk]))
    assert change.status_code == 200
    assert "Live preview" in change.content.decode() and "Versions (2)" in change.content.decode()
    page = admin_client.get(reverse("admin:notifications_notificationtemplate_versions", args=[template.pk]))
    body = page.content.decode()
    assert page.status_code == 200 and "v1" in body and "Add reason" in body and "+v2" in body
    response = admin_client.post(reverse("admin:notifications_notificationtemplate_restore", args=[template.pk, 1]))
    assert response.status_code == 302
    template.refresh_from_db()
    assert template.version == 3 and template.text_body == "v1 {{ order.number }}"
    assert template.versions.get(version=3).note == "Restored version 1"


def test_live_preview_renders_html_text_and_sms_with_segment_count(admin_client):
    url = reverse("admin:notifications_notificationtemplate_preview")
    email = admin_client.post(url, form_data(html_body="<style>p{color:red}</style><p>{{ order.number }}</p>"))
    body = email.content.decode()
    assert email.status_code == 200 and "NS-SAMP-LE42" in body and "srcdoc" in body
    assert "color: red" in body  # CSS inlined, as sent
    sms = admin_client.post(url, form_data(channel="sms", text_body="é" * 161))
    assert "GSM-7" in sms.content.decode() and "2 segments" in sms.content.decode()
    sms = admin_client.post(url, form_data(channel="sms", text_body="ż" * 71))
    assert "UCS-2" in sms.content.decode() and "2 segments" in sms.content.decode()
    broken = admin_client.post(url, form_data(text_body="{{ nope }}"))
    assert "Unknown variable" in broken.content.decode()


def test_preview_needs_staff(client, customer):
    client.force_login(customer)
    response = client.post(reverse("admin:notifications_notificationtemplate_preview"), form_data())
    assert response.status_code == 302 and "login" in response["Location"]


def test_send_test_to_me_sends_the_unsaved_form_to_the_staff_member(admin_client, admin_user, commit):
    with commit():
        response = admin_client.post(reverse("admin:notifications_notificationtemplate_send_test"),
                                     form_data(subject="Draft {{ order.number }}"))
    assert response.status_code == 200 and "Test queued" in response.content.decode()
    [message] = mail.outbox
    assert message.to == [admin_user.email] and message.subject == "[TEST] Draft NS-SAMP-LE42"
    row = Notification.objects.get()
    assert row.status == "sent" and row.delivery_attempts.count() == 1 and row.order is None
    assert not NotificationTemplate.objects.exists()


def _break(template, source="{% include 'does/not/exist.txt' %}"):
    """Simulate a template that passed validation but fails at send time (e.g. a deleted include)."""
    NotificationTemplate.objects.filter(pk=template.pk).update(text_body=source, version=template.version + 1)
    template.versions.create(version=template.version + 1, text_body=source, subject=template.subject,
                             html_body=template.html_body)


def test_a_template_failing_at_send_time_falls_back_to_the_last_good_version_and_is_flagged(order, commit):
    template = NotificationTemplate(event="order.on_hold", audience="customer", channel="email", language="en",
                                    subject="Paused {{ order.number }}", text_body="Good v1: {{ change.reason }}",
                                    html_body="<p>Good v1</p>")
    services.template_save(template=template)
    _break(template)
    with commit():
        order_transition(order=order, to="on_hold", note="Checking stock")
    [message] = mail.outbox
    assert "Good v1: Checking stock" in message.body
    row = Notification.objects.get(channel="email")
    assert row.template_fallback and row.template_source == "database v1 (fallback)"
    template.refresh_from_db()
    assert "does/not/exist.txt" in template.render_error and template.render_failed_at


def test_with_no_good_version_it_falls_back_to_the_shipped_default_never_blank(order, commit):
    template = NotificationTemplate.objects.create(event="order.on_hold", audience="customer", channel="email",
                                                   language="en", subject="x", text_body="{% include 'gone.txt' %}",
                                                   html_body="<p>x</p>", version=1)
    with commit():
        order_transition(order=order, to="on_hold", note="Checking stock")
    [message] = mail.outbox
    assert "on hold" in message.subject and "Checking stock" in message.body
    row = Notification.objects.get(channel="email")
    assert row.template_source == "file default (fallback)" and row.template_fallback
    template.refresh_from_db()
    assert template.render_error


def _shape(value, prefix=""):
    if isinstance(value, dict):
        out = set()
        for key, item in value.items():
            out |= {f"{prefix}.{key}"} | _shape(item, f"{prefix}.{key}")
        return out
    if isinstance(value, list) and value and isinstance(value[0], dict):
        return _shape(value[0], prefix + "[]")
    return set()


def test_real_contexts_have_exactly_the_shape_of_the_sample_templates_are_validated_against(commit, settings):
    """What the admin validates against is what templates really get, for every event produced here."""
    store = StoreFactory()
    SellerFactory(store=store)
    shirt = ProductFactory(store=store, stock_on_hand=50)
    customer = CustomerFactory(sms_opt_in=True)
    with commit():
        paid = place({shirt.pk: 1}, customer=customer, email=customer.email).orders[0]
        declined = place({shirt.pk: 1}, card_number=DECLINED_CARD).orders[0]
        from orders.checkout import checkout_retry_payment
        from orders.unpaid import order_payment_remind

        order_payment_remind(order=declined)
        came_back = place({shirt.pk: 1}, customer=customer, email=customer.email).orders[0]
        track(ship(Order.objects.get(pk=came_back.pk), tracking="RM999999999GB"), "returned",
              message="Address not found")
        checkout_retry_payment(orders=[declined], payment_method="card", card_number="4242 4242 4242 4242")
        other = OrderFactory(store=store, lines=[(shirt, 1)])
        order_transition(order=other, to="on_hold", note="Address")
        order_transition(order=other, to="processing")
        order_mark_backordered(order=other, expected=date(2030, 1, 1))
        order_transition(order=other, to="cancelled", note="Changed mind")
        order_transition(order=other, to="refunded")
        shipment = ship(Order.objects.get(pk=paid.pk), eta=date(2030, 1, 5))
        track(shipment, "in_transit", message="Hub")
        track(shipment, "exception", message="Weather", eta=date(2030, 1, 9))
        track(shipment, "out_for_delivery")
        track(shipment, "delivered")
        rr = return_request_create(order=Order.objects.get(pk=paid.pk), lines=list(paid.lines.all()), reason="Big")
        rr.order.store.return_address = "Returns, 2 Dock Road, Bristol"
        rr.order.store.save(update_fields=["return_address"])
        for to in ("approved", "received", "refunded"):
            return_set_status(return_request=rr, to=to)
        from orders.conversation import order_question_ask, order_seller_message_send

        order_question_ask(order=rr.order, body="Can I swap it for a larger size?", user=customer)
        order_seller_message_send(order=rr.order, body="Yes: send it back and we ship the L.",
                                  seller=type(customer).objects.filter(store=store).first())
    settings.PAYMENT_GATEWAY = "tests.notifications.test_events.PendingGateway"
    with commit():
        place({shirt.pk: 1})
    seen = set()
    for row in Notification.objects.all():
        expected = _shape(sample_context(row.event, row.audience))
        assert _shape(row.context) == expected, (row.event, row.audience, _shape(row.context) ^ expected)
        seen.add(row.event)
    # Product and account events: tests/notifications/test_subject_events.py checks the same shape.
    # The SLA alerts need the clock to pass a deadline: tests/orders/test_sla.py checks their shape.
    # order.contact_confirm comes from the status page: tests/accounts/test_delivery_problems.py.
    assert seen >= {code for code, e in EVENTS.items() if e.subject == "order"} - {
        "return.rejected", "order.sla_breached", "order.sla_escalated", "order.contact_confirm"}


def _changelist_queries(admin_client, url):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    admin_client.get(url)  # warm: the signed-in user's row is then served from the cache
    with CaptureQueriesContext(connection) as ctx:
        response = admin_client.get(url)
    assert response.status_code == 200
    return len(ctx), response.content.decode()


def test_delivery_log_lists_filter_and_search_with_a_fixed_number_of_queries(admin_client, commit):
    store = StoreFactory(name="Filter Store")
    product = ProductFactory(store=store, stock_on_hand=100)
    orders = [OrderFactory(store=store, lines=[(product, 1)]) for _ in range(2)]
    with commit():
        for order in orders:
            order_transition(order=order, to="on_hold", note="Check")
    notifications_url = reverse("admin:notifications_notification_changelist")
    attempts_url = reverse("admin:notifications_deliveryattempt_changelist")
    few_n, _ = _changelist_queries(admin_client, notifications_url)
    few_a, _ = _changelist_queries(admin_client, attempts_url)
    more = [OrderFactory(store=store, lines=[(product, 1)]) for _ in range(6)]
    with commit():
        for order in more:
            order_transition(order=order, to="on_hold", note="Check")
    many_n, body = _changelist_queries(admin_client, notifications_url)
    many_a, _ = _changelist_queries(admin_client, attempts_url)
    assert many_n == few_n and many_a == few_a
    assert more[0].number in body
    # Filters and search by order number or recipient.
    _, found = _changelist_queries(admin_client, f"{notifications_url}?q={more[0].number}")
    assert more[0].number in found and more[1].number not in found
    _, found = _changelist_queries(admin_client, f"{notifications_url}?q={more[1].email}&channel__exact=email")
    assert more[1].number in found and more[0].number not in found
    for query in ("status__exact=sent", f"store__id__exact={store.pk}", "event__exact=order.on_hold",
                  "created_at__gte=2000-01-01+00:00:00%2B00:00"):
        assert _changelist_queries(admin_client, f"{notifications_url}?{query}")[0] > 0
