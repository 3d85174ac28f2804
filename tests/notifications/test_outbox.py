"""The outbox: written with the change, once per (event, recipient, channel), queued after commit."""
from datetime import timedelta
from unittest import mock

import pytest
from django.core import mail
from django.db import transaction
from django.utils import timezone

from notifications import services
from notifications.models import DeliveryAttempt, Notification
from orders import signals
from orders.models import Order, OrderEvent
from orders.services import TransitionNotAllowed, order_transition

from .helpers import emails_to, sent

pytestmark = pytest.mark.django_db


def test_rows_are_written_in_the_same_transaction_and_queued_only_after_commit(order, commit):
    with mock.patch("notifications.tasks.deliver_batch.apply_async") as publish, commit() as callbacks:
        order_transition(order=order, to="on_hold", note="Stock check")
        rows = list(sent("order.on_hold"))
        assert {r.channel for r in rows} == {"email", "inapp"}
        assert all(r.status == "queued" for r in rows)
        publish.assert_not_called()  # nothing leaves before the commit
    assert len(callbacks) >= 1
    # One task carries the event's rows (ids only), published once, without a retry loop (a
    # request never waits on a broker that is away: the sweeper has the rows).
    publish.assert_called_once()
    assert sorted(publish.call_args.kwargs["args"][0]) == sorted(r.pk for r in rows)
    assert publish.call_args.kwargs["retry"] is False


def test_a_rolled_back_change_leaves_no_row_and_sends_nothing(order, commit):
    class Boom(Exception):
        pass

    with commit(), pytest.raises(Boom):
        with transaction.atomic():
            order_transition(order=order, to="on_hold", note="Stock check")
            assert sent("order.on_hold").exists()
            raise Boom
    order.refresh_from_db()
    assert order.status == "pending"
    assert not Notification.objects.exists()
    assert mail.outbox == []


def test_a_forbidden_change_writes_nothing(order, commit):
    with commit(), pytest.raises(TransitionNotAllowed):
        order_transition(order=order, to="shipped")
    assert not Notification.objects.exists() and mail.outbox == []


def test_the_same_status_change_twice_sends_once(order, commit):
    with commit():
        order_transition(order=order, to="on_hold", note="Stock check")
    with commit(), pytest.raises(TransitionNotAllowed):
        order_transition(order=order, to="on_hold", note="Stock check")  # already on hold
    # …and the same change's signal delivered twice (a replay) writes nothing new either.
    event = OrderEvent.objects.filter(order=order, to_status="on_hold").get()
    locked = Order.objects.get(pk=order.pk)
    with commit():
        for _ in range(2):
            signals.order_status_changed.send(sender=Order, order=locked, from_status="pending", to_status="on_hold",
                                              actor=None, note="Stock check", event=event, at_checkout=False)
    assert len(emails_to(order.email)) == 1
    assert sent("order.on_hold").count() == 2  # one email row, one in-app row
    assert DeliveryAttempt.objects.filter(notification__event="order.on_hold").count() == 2


def test_running_the_delivery_task_twice_sends_once(order, commit):
    from notifications.tasks import deliver, deliver_batch

    with mock.patch("notifications.outbox.dispatch"), commit():
        order_transition(order=order, to="on_hold", note="Stock check")
    email_row = sent("order.on_hold", channel="email").get()
    inapp_row = sent("order.on_hold", channel="inapp").get()
    assert deliver.apply(args=[email_row.pk]).get() == "sent"
    assert deliver.apply(args=[email_row.pk]).get() == "noop"
    ids = [email_row.pk, inapp_row.pk]
    assert deliver_batch.apply(args=[ids]).get() == {str(email_row.pk): "noop", str(inapp_row.pk): "sent"}
    assert deliver_batch.apply(args=[ids]).get() == {str(email_row.pk): "noop", str(inapp_row.pk): "noop"}
    assert len(mail.outbox) == 1
    assert email_row.delivery_attempts.count() == 1 and inapp_row.delivery_attempts.count() == 1


def test_broker_down_at_commit_loses_nothing_the_sweeper_requeues(order, commit):
    with mock.patch("notifications.outbox.dispatch", side_effect=ConnectionError("broker down")), commit():
        order_transition(order=order, to="on_hold", note="Stock check")
    rows = list(sent("order.on_hold"))
    assert all(r.status == "queued" for r in rows) and mail.outbox == []

    # Too early: the sweeper leaves fresh rows to the normal path.
    assert services.outbox_sweep()["requeued"] == 0
    later = timezone.now() + timedelta(minutes=3)
    assert services.outbox_sweep(now=later)["requeued"] == 2
    assert {r.status for r in sent("order.on_hold")} == {"sent"}
    assert len(emails_to(order.email)) == 1
    # A second sweep finds nothing left to do.
    assert services.outbox_sweep(now=later + timedelta(minutes=3))["requeued"] == 0


def test_a_row_whose_worker_died_mid_send_is_resolved_not_failed(order, commit):
    """Email cannot be looked up at the provider: a transactional message in doubt is resent with
    the same Message-ID (one copy in the customer's mail client), once."""
    with mock.patch("notifications.outbox.dispatch"), commit():
        order_transition(order=order, to="on_hold", note="Stock check")
    row = sent("order.on_hold", channel="email").get()
    Notification.objects.filter(pk=row.pk).update(status="sending", claimed_at=timezone.now() - timedelta(hours=1))
    result = services.outbox_sweep()
    assert result["in_doubt"]["resent"] >= 1
    row.refresh_from_db()
    assert row.status == "sent"
    assert [m.extra_headers["Message-ID"] for m in mail.outbox] == [f"<notification-{row.pk}.0@notify.example>"]
    resolution = row.delivery_attempts.get(provider="resolver")
    assert "same Message-ID" in row.delivery_attempts.get(provider="resolver").error or resolution.error
    assert services.outbox_sweep(now=timezone.now() + timedelta(minutes=5))["in_doubt"]["resent"] == 0


def test_beat_schedule_registers_the_sweeper():
    from django.conf import settings

    entry = settings.CELERY_BEAT_SCHEDULE["notifications.sweep-outbox"]
    assert entry["task"] == "notifications.sweep_outbox" and entry["schedule"] <= 60
    from notify_site.celery import app

    app.loader.import_default_modules()
    assert "notifications.sweep_outbox" in app.tasks and "notifications.deliver" in app.tasks


def test_deliver_tasks_ack_late_and_reject_on_worker_lost():
    from notifications.tasks import deliver, deliver_batch

    for task in (deliver, deliver_batch):
        assert task.acks_late is True and task.reject_on_worker_lost is True and task.ignore_result is True


def test_platform_switch_off_stops_an_event_entirely(order, commit):
    services.platform_event_set(event="order.on_hold", enabled=False)
    with commit():
        order_transition(order=order, to="on_hold", note="Stock check")
    assert not Notification.objects.exists() and mail.outbox == []


def test_platform_default_channels_decide_the_channels(order, commit):
    services.platform_event_set(event="order.on_hold", enabled=True, customer_channels=["email"])
    with commit():
        order_transition(order=order, to="on_hold", note="Stock check")
    assert list(sent("order.on_hold").values_list("channel", flat=True)) == ["email"]


def test_post_migrate_created_one_platform_row_per_event():
    from notifications.events import EVENTS
    from notifications.models import PlatformEventSetting

    assert set(PlatformEventSetting.objects.values_list("event", flat=True)) == set(EVENTS)


def test_every_row_records_its_legal_basis_and_context_is_plain_json(order, commit):
    import json

    with commit():
        order_transition(order=order, to="on_hold", note="Stock check")
    for row in sent("order.on_hold"):
        assert row.legal_basis.startswith("contract: order")
        json.dumps(row.context)
        assert row.context["order"]["number"] == order.number


def test_a_held_row_dispatched_early_is_not_sent_before_its_time(order, commit):
    from notifications.delivery import notification_deliver

    with mock.patch("notifications.outbox.dispatch"), commit():
        order_transition(order=order, to="on_hold", note="Stock check")
    row = sent("order.on_hold", channel="email").get()
    Notification.objects.filter(pk=row.pk).update(send_after=timezone.now() + timedelta(hours=2))
    assert notification_deliver(notification_id=row.pk).result == "held"
    Notification.objects.filter(pk=row.pk).update(send_after=timezone.now() - timedelta(seconds=1))
    assert notification_deliver(notification_id=row.pk).result == "sent"
    assert len(mail.outbox) == 1


def test_an_address_suppressed_after_queueing_is_not_sent(order, commit):
    from notifications.delivery import notification_deliver
    from notifications.models import Suppression

    with mock.patch("notifications.outbox.dispatch"), commit():
        order_transition(order=order, to="on_hold", note="Stock check")
    row = sent("order.on_hold", channel="email").get()
    Suppression.objects.create(channel="email", address=row.recipient_address, reason="bounce")
    assert notification_deliver(notification_id=row.pk).result == "suppressed"
    row.refresh_from_db()
    assert row.status == "suppressed" and mail.outbox == []


def test_the_sweeper_drains_a_backlog_of_thousands_in_one_run(order, commit):
    """The broker was away while 1,200 rows were written: one sweep (a page of 500 at a time)
    hands them all over, instead of 500 a minute."""
    template = Notification.objects.create(
        event="order.on_hold", event_key="backlog-template", audience="customer", recipient_address="x@example.com",
        channel="email", category="transactional", order=order, status="skipped")
    rows = []
    for i in range(1200):
        template.pk, template.event_key, template.status = None, f"backlog-{i}", "queued"
        rows.append(Notification(**{f.attname: getattr(template, f.attname)
                                    for f in Notification._meta.concrete_fields if f.attname != "id"}))
    Notification.objects.bulk_create(rows)
    handed = []
    with mock.patch("notifications.outbox.dispatch", side_effect=lambda ids, **kw: handed.extend(ids)):
        result = services.outbox_sweep(now=timezone.now() + timedelta(minutes=2))
    assert result["requeued"] == 1200 and len(set(handed)) == 1200


def test_the_sweeper_runs_on_its_own_queue():
    from django.conf import settings

    assert settings.CELERY_TASK_ROUTES["notifications.sweep_outbox"]["queue"] == "maintenance"
    entry = settings.CELERY_BEAT_SCHEDULE["notifications.sweep-outbox"]
    assert entry["options"]["queue"] == "maintenance" and entry["schedule"] <= 20
