"""The admin template editor: bad includes, {% debug %}, context-mutating calls and render budgets
are form errors (preview, save, send test), never 500s; at send time they fall back, never blank."""
import pytest
from django.core import mail
from django.test import override_settings
from django.urls import reverse

from notifications import services
from notifications.models import Notification, NotificationTemplate
from notifications.rendering import DB_TEMPLATES, validate
from orders.services import order_transition

pytestmark = pytest.mark.django_db


def form_data(**overrides):
    data = {"event": "order.shipped", "audience": "customer", "channel": "email", "language": "en",
            "active": "on", "subject": "Shipped {{ order.number }}", "text_body": "Hi {{ recipient.first_name }}",
            "html_body": "<p>{{ order.number }}</p>"}
    data.update(overrides)
    return data


BAD_SOURCES = {
    "relative include": ('{% include "../x" %}', "only templates under notifications/"),
    "dot include": ('{% include "./x.txt" %}', "only templates under notifications/"),
    "escaping include": ('{% include "notifications/../../etc/passwd" %}', "only templates under notifications/"),
    "absolute include": ('{% include "/etc/passwd" %}', "only templates under notifications/"),
    "site template": ('{% include "admin/base.html" %}', "only templates under notifications/"),
    "variable include": ("{% include order.number %}", "not a variable"),
    "relative extends": ('{% extends "../../base.html" %}', "only templates under notifications/"),
    "debug": ("{% debug %}", "{% debug %} is not allowed"),
    "load": ("{% load log %}", "is not allowed in notification templates"),
    "list pop": ("{% for line in lines %}{{ line.product }}{% endfor %}{{ lines.pop }}", "would change the message"),
    "dict clear": ("{{ order.clear }}{{ order.number }}", "would change the message"),
    "huge padding": ('{{ order.number|ljust:"100000000" }}', "Padding wider than"),
    "huge output": ("{% for a in lines %}" + "{{ order.number }} " * 20_000 + "{% endfor %}", "the limit is"),
}


@pytest.mark.parametrize("name", list(BAD_SOURCES))
def test_bad_sources_are_form_errors_in_preview_save_and_send_test(admin_client, name):
    source, reason = BAD_SOURCES[name]
    data = form_data(text_body=source)
    preview = admin_client.post(reverse("admin:notifications_notificationtemplate_preview"), data)
    assert preview.status_code == 200 and reason in preview.content.decode(), preview.content.decode()[:500]
    send = admin_client.post(reverse("admin:notifications_notificationtemplate_send_test"), data)
    assert send.status_code == 200 and "Not sent" in send.content.decode() and reason in send.content.decode()
    save = admin_client.post(reverse("admin:notifications_notificationtemplate_add"), data)
    assert save.status_code == 200 and "errornote" in save.content.decode()
    assert not NotificationTemplate.objects.exists() and not Notification.objects.exists() and not mail.outbox


@override_settings(NOTIFY_TEMPLATE_RENDER_SECONDS=0.2)
def test_a_slow_template_exceeds_the_time_budget_at_validation():
    loops = "".join("{% for x" + str(i) + " in order.number %}" for i in range(6))
    ends = "{% endfor %}" * 6
    errors = validate(event="order.shipped", audience="customer", channel="email",
                      sources={"subject": "S", "text": loops + "." + ends, "html": "<p>x</p>"})
    assert "took longer than 0.2 s" in " ".join(errors["text_body"])


def test_the_sample_data_is_not_changed_by_a_refused_template():
    sources = {"subject": "S", "text": "{{ lines.pop }}", "html": "<p>x</p>"}
    validate(event="order.shipped", audience="customer", channel="email", sources=sources)
    ok = validate(event="order.shipped", audience="customer", channel="email",
                  sources={"subject": "S", "text": "{% for l in lines %}{{ l.product }}{% endfor %}", "html": "<p/>"})
    assert ok == {}


def test_a_template_over_budget_at_send_time_falls_back_to_the_shipped_default(order,
                                                                              django_capture_on_commit_callbacks):
    template = NotificationTemplate(event="order.on_hold", audience="customer", channel="email", language="en",
                                    subject="Paused {{ order.number }}", text_body="Hi {{ order.number }}",
                                    html_body="<p>Hi</p>")
    services.template_save(template=template)
    # Written straight to the table (as if saved before the budget existed): ~250,000 characters.
    big = ("{% for a in order.number %}{% for b in order.number %}{% for c in order.number %}"
           "{% for d in order.number %}{{ order.number }}{% endfor %}{% endfor %}{% endfor %}{% endfor %}")
    NotificationTemplate.objects.filter(pk=template.pk).update(text_body=big, version=2)
    template.versions.create(version=2, text_body=big, subject=template.subject, html_body=template.html_body)
    NotificationTemplate.objects.filter(pk=template.pk).update(version=2)
    template.versions.filter(version=1).update(text_body=big)
    DB_TEMPLATES.invalidate()  # the per-process snapshot may predate this test's rows
    with django_capture_on_commit_callbacks(execute=True):
        order_transition(order=order, to="on_hold", note="Checking stock")
    [message] = mail.outbox
    row = Notification.objects.get(channel="email")
    assert row.template_source == "file default (fallback)"
    assert order.number in message.body and len(message.body) < 5000
    template.refresh_from_db()
    assert "the limit is 200,000" in template.render_error
