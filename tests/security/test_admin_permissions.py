"""Resend, preview and send-test change or send things: they need the change permission, not view."""
import pytest
from django.contrib.auth.models import Permission
from django.core import mail
from django.urls import reverse

from accounts.models import User
from notifications.models import DeliveryAttempt, Notification, NotificationTemplate

pytestmark = pytest.mark.django_db


def staff(*codenames):
    name = "-".join(codenames) or "staff"
    user = User.objects.create_user(username=name[:150], email=f"{name[:60]}@example.com",
                                    password="pw-long-enough-1", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(codename__in=codenames))
    return user


def form_data():
    return {"event": "order.shipped", "audience": "customer", "channel": "email", "language": "en",
            "subject": "S {{ order.number }}", "text_body": "T", "html_body": "<p>H</p>"}


@pytest.fixture
def template(db):
    return NotificationTemplate.objects.create(event="order.shipped", audience="customer", channel="email",
                                               language="en", subject="S", text_body="T", html_body="<p>H</p>")


def test_view_only_staff_cannot_preview_or_send_test(client, template):
    client.force_login(staff("view_notificationtemplate"))
    for name, args in [("preview", []), ("send_test", []), ("preview_existing", [template.pk]),
                       ("send_test_existing", [template.pk])]:
        response = client.post(reverse(f"admin:notifications_notificationtemplate_{name}", args=args), form_data())
        assert response.status_code == 403, name
    assert not Notification.objects.exists() and not mail.outbox
    # …but can still read the template and its versions.
    assert client.get(reverse("admin:notifications_notificationtemplate_change", args=[template.pk])).status_code == 200


def test_change_staff_can_preview_and_send_test(client, template, django_capture_on_commit_callbacks):
    client.force_login(staff("view_notificationtemplate", "change_notificationtemplate"))
    url = reverse("admin:notifications_notificationtemplate_preview_existing", args=[template.pk])
    assert client.post(url, form_data()).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("admin:notifications_notificationtemplate_send_test_existing",
                                       args=[template.pk]), form_data())
    assert "Test queued" in response.content.decode()
    assert len(mail.outbox) == 1


def test_resend_needs_change_permission_on_notifications(client, order):
    n = Notification.objects.create(event="order.shipped", event_key="k", audience="customer", channel="email",
                                    recipient_address=order.email, category="transactional", order=order,
                                    status="failed", subject="S", body_text="T", body_html="<p>T</p>")
    changelist = reverse("admin:notifications_notification_changelist")
    client.force_login(staff("view_notification"))
    page = client.get(changelist).content.decode()
    assert 'value="resend"' not in page
    client.post(changelist, {"action": "resend", "_selected_action": [n.pk]})
    n.refresh_from_db()
    assert n.status == "failed" and not DeliveryAttempt.objects.exists()

    client.force_login(staff("view_notification", "change_notification"))
    assert 'value="resend"' in client.get(changelist).content.decode()
    client.post(changelist, {"action": "resend", "_selected_action": [n.pk]})
    n.refresh_from_db()
    assert n.status != "failed"
