"""The chunked fan-out: audience = recorded consent, exactly once across a kill, pause/cancel,
pacing, one shared context, and the promotion.launched message itself."""
import pytest
from django.core import mail

from marketing import fanout as engine
from marketing.models import FanOut, Promotion
from marketing.pacing import pump_once, take_tokens
from marketing.services import promotion_cancel, promotion_launch, promotion_pause, promotion_resume
from notifications.models import Notification, Suppression
from tests.factories import CustomerFactory

from .conftest import consent, customers, make_promotion

pytestmark = pytest.mark.django_db


def launch_without_running(promotion):
    """Launch, but run nothing on commit (the test drives the engine)."""
    promotion_launch(promotion=promotion)
    return FanOut.objects.get(source="promotion", source_id=promotion.pk)


def test_only_consenting_unsuppressed_customers_are_written(shop, frozen_clock):
    store, lamp, bulb, _ = shop
    yes = customers(3, prefix="yes")
    never = CustomerFactory(email="never@example.com")  # no consent record at all
    withdrawn = CustomerFactory(email="withdrawn@example.com")
    consent(withdrawn)
    consent(withdrawn, granted=False, source="preferences")  # the latest record wins
    regranted = CustomerFactory(email="again@example.com")
    consent(regranted, granted=False)
    record = consent(regranted)
    suppressed = CustomerFactory(email="Bounced@Example.com")
    consent(suppressed)
    Suppression.objects.create(channel="email", address="bounced@example.com", reason="bounce")
    inactive = CustomerFactory(email="gone@example.com", is_active=False)
    consent(inactive)
    sms_only = CustomerFactory(email="smsonly@example.com", phone="+447700900001")
    consent(sms_only, kind="marketing_sms")
    email_only_phone = CustomerFactory(email="emailphone@example.com", phone="+447700900002")
    consent(email_only_phone)  # agreed to email, not texts

    promotion = make_promotion(store, [lamp], start=frozen_clock_now(), channels=["email", "sms"])
    fanout = launch_without_running(promotion)
    assert engine.fanout_run(fanout.pk, chunk_size=3) == "done"

    rows = Notification.objects.filter(event="promotion.launched")
    got = {(n.recipient_address, n.channel) for n in rows}
    assert got == {*((u.email, "email") for u in yes), ("again@example.com", "email"),
                   ("emailphone@example.com", "email"), ("+447700900001", "sms")}
    assert never.pk and withdrawn.pk and inactive.pk  # none of them
    again = rows.get(recipient_address="again@example.com")
    assert again.legal_basis == f"consent: marketing email, record #{record.pk}"
    assert again.category == "marketing" and again.subject_type == "promotion" and again.subject_id == promotion.pk
    # One shared context: the row holds a pointer, the promotion holds the message.
    assert again.context == {"shared": "promotion", "first_name": "again"} or again.context["shared"] == "promotion"
    assert set(again.context) == {"shared", "first_name"}
    assert promotion.__class__.objects.get(pk=promotion.pk).context["promotion"]["code"] == "SPRING20"
    fanout.refresh_from_db()
    assert fanout.written == 6 and fanout.status == "done" and fanout.chunks >= 4


def frozen_clock_now():
    from django.utils import timezone

    return timezone.now()


def test_a_kill_mid_fanout_then_a_restart_writes_everyone_exactly_once(shop, frozen_clock):
    store, lamp, *_ = shop
    everyone = customers(23)
    promotion = make_promotion(store, [lamp], start=frozen_clock_now())
    fanout = launch_without_running(promotion)

    assert engine.fanout_run(fanout.pk, chunk_size=5, max_chunks=2) == "stopped"  # worker stopped after chunk 2
    assert Notification.objects.filter(event_key=promotion.event_key).count() == 10

    def killed(fo, chunk):  # the next chunk's rows are written, then the worker dies before commit
        raise engine.Interrupted
    with pytest.raises(engine.Interrupted):
        engine.fanout_run(fanout.pk, chunk_size=5, _after_write=killed)
    fanout.refresh_from_db()
    assert fanout.chunks == 2 and Notification.objects.filter(event_key=promotion.event_key).count() == 10

    # A duplicate, older run replays a chunk that is already written: nothing new.
    FanOut.objects.filter(pk=fanout.pk).update(cursor=str(everyone[2].pk))
    assert engine.fanout_run(fanout.pk, chunk_size=5, max_chunks=1) == "stopped"
    assert Notification.objects.filter(event_key=promotion.event_key).count() == 10

    assert engine.fanout_run(fanout.pk, chunk_size=5) == "done"
    addresses = list(Notification.objects.filter(event_key=promotion.event_key)
                     .values_list("recipient_address", flat=True))
    assert sorted(addresses) == sorted(u.email for u in everyone)  # every recipient, once


def test_pause_resume_cancel_and_the_paced_delivery(shop, frozen_clock, settings, django_capture_on_commit_callbacks):
    store, lamp, *_ = shop
    settings.NOTIFY_MARKETING_RATE = {"email": 4, "sms": 1}
    customers(10)
    promotion = make_promotion(store, [lamp], start=frozen_clock_now())
    fanout = launch_without_running(promotion)
    engine.fanout_run(fanout.pk, chunk_size=4, max_chunks=1)
    promotion_pause(promotion=promotion)
    assert engine.fanout_run(fanout.pk, chunk_size=4) == "paused"  # nothing more is written while paused
    assert Notification.objects.filter(event_key=promotion.event_key).count() == 4
    promotion.refresh_from_db()
    assert pump_once(promotion) == {} and not mail.outbox  # paused: the pump releases nothing

    with django_capture_on_commit_callbacks(execute=False):
        promotion_resume(promotion=promotion)
    from marketing import delivery
    delivery._CACHE.clear()  # another worker, a moment later
    assert engine.fanout_run(fanout.pk, chunk_size=4) == "done"
    promotion.refresh_from_db()
    # Parked rows wait for the pump; the sweeper leaves them alone (their send_after is the end).
    assert not mail.outbox
    clock = 1_900_000_000.0
    assert pump_once(promotion, clock=clock) == {"email": 4}  # the channel's rate per second
    assert len(mail.outbox) == 4
    assert pump_once(promotion, clock=clock) == {"email": 0}  # same second: no tokens left
    assert pump_once(promotion, clock=clock + 1) == {"email": 4}
    message = mail.outbox[0]
    assert message.subject == "Spring sale: 20% off with SPRING20"
    assert "Hi N0," in message.body and "SPRING20" in message.body and "Desk Lamp" in message.body
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    https, mailto = [part.strip("<> ") for part in message.extra_headers["List-Unsubscribe"].split(",")]
    assert https.startswith("http") and "/u/" in https and mailto.startswith("mailto:")
    assert https in message.body  # the visible link in the footer too

    promotion_cancel(promotion=promotion)
    left = Notification.objects.filter(event_key=promotion.event_key, status="skipped")
    assert left.count() == 2 and all("cancelled" in n.status_reason for n in left)
    assert Promotion.objects.get(pk=promotion.pk).status == "cancelled"


def test_the_shared_rate_is_one_budget_for_every_caller(settings):
    settings.NOTIFY_MARKETING_RATE = {"email": 10}
    assert take_tokens("email", 6, now=5.0) == 6
    assert take_tokens("email", 6, now=5.0) == 4  # another worker, same second
    assert take_tokens("email", 6, now=5.0) == 0
    assert take_tokens("email", 6, now=6.0) == 6


def test_launch_runs_the_whole_send_through_the_tasks(shop, frozen_clock, commit):
    store, lamp, *_ = shop
    customers(5)
    promotion = make_promotion(store, [lamp], start=frozen_clock_now())
    with commit():
        promotion_launch(promotion=promotion)
    fanout = FanOut.objects.get(source="promotion", source_id=promotion.pk)
    assert fanout.status == "done" and fanout.written == 5 and fanout.audience == 5
    assert len(mail.outbox) == 5  # eager: the first pump tick released them at 1000/s
    assert set(Notification.objects.filter(event_key=promotion.event_key).values_list("status", flat=True)) == {"sent"}


def test_an_unsubscribe_after_the_row_was_written_wins(shop, frozen_clock):
    store, lamp, *_ = shop
    ann, bob = customers(2)
    promotion = make_promotion(store, [lamp], start=frozen_clock_now())
    fanout = launch_without_running(promotion)
    engine.fanout_run(fanout.pk)
    consent(bob, granted=False, source="preferences")
    promotion.refresh_from_db()
    pump_once(promotion, clock=1.0)
    assert [m.to for m in mail.outbox] == [[ann.email]]
    assert "withdrew" in Notification.objects.get(recipient_address=bob.email).status_reason


def test_marketing_sms_waits_for_local_daytime_and_says_reply_stop(shop, frozen_clock):
    store, lamp, *_ = shop
    from notifications.channels.sms import LocmemBackend

    night = CustomerFactory(email="la@example.com", phone="+12135550100", time_zone="America/Los_Angeles")
    day = CustomerFactory(email="ldn@example.com", phone="+447700900123", time_zone="Europe/London")
    for u in (night, day):
        consent(u, kind="marketing_sms")
    promotion = make_promotion(store, [lamp], start=frozen_clock_now(), channels=["sms"])
    fanout = launch_without_running(promotion)
    engine.fanout_run(fanout.pk)
    promotion.refresh_from_db()
    LocmemBackend.outbox.clear() if hasattr(LocmemBackend, "outbox") else None
    pump_once(promotion, clock=2.0)
    held = Notification.objects.get(recipient_address="+12135550100")
    assert held.status == "queued" and held.send_after.hour == 16  # 08:00 in Los Angeles = 16:00 UTC
    sent = Notification.objects.get(recipient_address="+447700900123")
    assert sent.status == "sent" and sent.body_text.endswith("Reply STOP to opt out")


def test_beat_tick_launches_a_scheduled_promotion_and_restarts_a_stalled_fanout(shop, frozen_clock, commit):
    import datetime

    from marketing.tasks import tick

    store, lamp, *_ = shop
    customers(3)
    promotion = make_promotion(store, [lamp], start=frozen_clock_now())
    promotion_launch(promotion=promotion, at=frozen_clock_now() + datetime.timedelta(hours=1))
    assert Promotion.objects.get(pk=promotion.pk).status == "scheduled"
    assert tick()["launched"] == 0
    frozen_clock.shift(datetime.timedelta(hours=1, seconds=1))
    with commit():
        assert tick()["launched"] == 1
    fanout = FanOut.objects.get(source="promotion", source_id=promotion.pk)
    assert fanout.status == "done" and fanout.written == 3

    # A fan-out whose worker died (no chunk for minutes) is started again by the next tick.
    other = make_promotion(store, [lamp], start=frozen_clock_now(), code="AGAIN10")
    stalled = launch_without_running(other)
    engine.fanout_run(stalled.pk, chunk_size=1, max_chunks=1)
    frozen_clock.shift(datetime.timedelta(minutes=5))
    assert tick()["fanouts"] == 1
    stalled.refresh_from_db()
    assert stalled.status == "done" and stalled.written == 3
