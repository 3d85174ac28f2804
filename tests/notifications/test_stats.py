"""Delivery statistics: the rollup equals a direct count of the outbox, percentiles merge across days,
and the pages read it in a fixed number of queries, each seeing only what is theirs."""
import datetime
import random

import pytest
from django.core.management import call_command
from django.urls import reverse

from notifications.events import Channel
from notifications.models import DeliveryAttempt, Notification, NotificationStatsDaily
from notifications.stats import percentile_bound, stats_report, stats_rollup
from tests.factories import SellerFactory, StoreFactory, UserFactory

pytestmark = pytest.mark.usefixtures("frozen_clock")
S = Notification.Status
D1, D2 = datetime.date(2030, 1, 15), datetime.date(2030, 1, 16)  # the clock stands on D2


def note(store, *, day=D2, channel="email", event="order.shipped", status=S.DELIVERED, error="", latencies=(),
         audience="customer"):
    n = Notification.objects.create(
        event=event, event_key=f"k{Notification.objects.count()}", audience=audience, channel=channel,
        recipient_address=f"r{Notification.objects.count()}@example.com", category="transactional",
        status=status, last_error=error, store=store)
    Notification.objects.filter(pk=n.pk).update(
        created_at=datetime.datetime.combine(day, datetime.time(9, 30), tzinfo=datetime.UTC))
    for i, ms in enumerate(latencies, start=1):
        DeliveryAttempt.objects.create(notification=n, number=i, status="sent", provider="test", latency_ms=ms)
    return n


@pytest.fixture
def seeded(store):
    """The hand-computed case: 11 messages of one store over two days, plus one of another store
    and one that belongs to no store."""
    note(store, day=D1, latencies=[10])
    note(store, day=D1, latencies=[20])
    note(store, day=D1, status=S.SENT, latencies=[30])
    note(store, day=D1, status=S.BOUNCED, error="550 mailbox unavailable\nmore detail", latencies=[80])
    note(store, day=D1, status=S.FAILED, error="Timeout talking to provider", latencies=[150, 150])
    note(store, day=D1, status=S.SKIPPED)
    note(store, day=D1, status=S.QUEUED)
    note(store, day=D1, channel="sms", latencies=[250])
    note(store, day=D1, channel="sms", status=S.FAILED, error="Invalid number", latencies=[400])
    note(store, day=D2, latencies=[600])
    note(store, day=D2, status=S.FAILED, error="Timeout talking to provider", latencies=[1200])
    other = StoreFactory()
    note(other, day=D1, latencies=[5000])
    note(None, day=D1, channel="inapp", event="account.welcome", audience="customer", latencies=[0])
    stats_rollup(start=D1, end=D2)
    return {"store": store, "other": other}


def test_percentile_of_a_histogram_is_the_bound_of_its_bucket():
    # 10, 20, 30 | 80 | 150, 150 | 250 | 400 | 600 | - | 1200  (buckets ≤50, ≤100, ≤200, ≤300, ≤500, ≤750, ≤1000, ≤1500)
    buckets = [3, 1, 2, 1, 1, 1, 0, 1, 0, 0, 0, 0, 0]
    assert percentile_bound(buckets, 0.50) == 200  # the 5th of 10
    assert percentile_bound(buckets, 0.95) == 1500  # the 10th of 10
    assert percentile_bound([0] * 12 + [4], 0.5) == -1
    assert percentile_bound([0] * 13, 0.5) is None


def test_rollup_matches_the_hand_computed_numbers(seeded):
    report = stats_report(store=seeded["store"], start=D1, end=D2)
    total = report["total"]
    assert (total.total, total.sent, total.delivered, total.bounced, total.failed, total.not_sent, total.pending,
            total.attempts) == (11, 6, 4, 1, 3, 1, 1, 10)
    assert total.delivery_rate == 44.4  # 4 delivered of 6 accepted + 3 failed
    assert (total.p50, total.p95) == ("≤ 200 ms", "≤ 1.5 s")
    channels = {line.key: line for line in report["channels"]}
    assert list(channels) == list(Channel.values)  # every channel, in the platform's order
    email, sms = channels["email"], channels["sms"]
    assert (email.total, email.sent, email.delivered, email.bounced, email.failed) == (9, 5, 3, 1, 2)
    assert (email.p50, email.p95) == ("≤ 100 ms", "≤ 1.5 s")
    assert (sms.total, sms.delivered, sms.failed, sms.p50, sms.p95) == (2, 1, 1, "≤ 300 ms", "≤ 500 ms")
    assert channels["inapp"].total == 0 and channels["inapp"].p50 == "—"
    assert [(r["reason"], r["n"]) for r in report["reasons"]] == [
        ("Timeout talking to provider", 2), ("550 mailbox unavailable", 1), ("Invalid number", 1)]
    assert [(line.key, line.total, line.delivered) for line in report["series"]] == [
        ("2030-01-15", 9, 3), ("2030-01-16", 2, 1)]
    assert [(line.key, line.total) for line in report["events"]] == [("order.shipped", 11)]


def test_week_buckets_and_filters(seeded):
    weekly = stats_report(store=seeded["store"], start=D1, end=D2, bucket="week")
    assert [(line.key, line.total) for line in weekly["series"]] == [("2030-01-14", 11)]
    sms = stats_report(store=seeded["store"], start=D1, end=D2, channel="sms")
    assert sms["total"].total == 2 and [r["reason"] for r in sms["reasons"]] == ["Invalid number"]
    one_day = stats_report(store=seeded["store"], start=D2, end=D2)
    assert (one_day["total"].total, one_day["total"].failed) == (2, 1)


def test_platform_wide_counts_every_store_and_storeless_messages(seeded):
    report = stats_report(store=None, start=D1, end=D2)
    assert report["total"].total == 13
    assert {line.key: line.total for line in report["channels"]}["inapp"] == 1
    assert report["total"].p95 == "≤ 5 s"  # 12 attempts: the 95th percentile is the 12th, the other store's 5000 ms
    assert stats_report(store=seeded["other"], start=D1, end=D2)["total"].total == 1


def test_rollup_equals_a_direct_aggregation_and_is_idempotent(store):
    rng = random.Random(15)
    statuses = [S.DELIVERED, S.SENT, S.BOUNCED, S.FAILED, S.SKIPPED, S.QUEUED, S.SUPPRESSED, S.IN_DOUBT]
    for _ in range(120):
        note(store, day=D1 - datetime.timedelta(days=rng.randrange(5)), channel=rng.choice(["email", "sms", "inapp"]),
             event=rng.choice(["order.shipped", "order.placed"]), status=rng.choice(statuses),
             error=rng.choice(["", "boom", "Mailbox full"]), latencies=[rng.randrange(3000)] * rng.randrange(3))
    start, end = D1 - datetime.timedelta(days=4), D1
    stats_rollup(start=start, end=end)
    stats_rollup(start=start, end=end)  # rebuilding replaces, never adds

    report = stats_report(store=store, start=start, end=end)
    rows = Notification.objects.filter(store=store)
    direct = {
        "total": rows.count(),
        "sent": rows.filter(status__in=[S.SENT, S.DELIVERED, S.BOUNCED]).count(),
        "delivered": rows.filter(status=S.DELIVERED).count(),
        "bounced": rows.filter(status=S.BOUNCED).count(),
        "failed": rows.filter(status=S.FAILED).count(),
        "attempts": DeliveryAttempt.objects.filter(notification__store=store).count(),
    }
    assert {k: getattr(report["total"], k) for k in direct} == direct
    for line in report["channels"]:
        assert line.total == rows.filter(channel=line.key).count()
    latencies = sorted(DeliveryAttempt.objects.filter(notification__store=store).values_list("latency_ms", flat=True))
    exact_p95 = latencies[max(0, -(-95 * len(latencies) // 100) - 1)]
    bound = percentile_bound(report["total"].buckets, 0.95)
    assert bound >= exact_p95  # the p95 reported is the bound of the bucket holding the exact p95
    assert NotificationStatsDaily.objects.count() == len(
        {(n.created_at.date(), n.channel, n.event) for n in rows})


def test_backfill_command_rebuilds_every_day_with_notifications(store, capsys):
    note(store, day=D1 - datetime.timedelta(days=20))
    note(store, day=D2)
    call_command("stats_backfill")
    assert sorted(NotificationStatsDaily.objects.values_list("day", flat=True)) == [
        D1 - datetime.timedelta(days=20), D2]
    assert "Rolled up" in capsys.readouterr().out


def test_beat_task_rolls_up_the_recent_days(store):
    from notifications.tasks import stats_rollup as task

    note(store, day=D2)
    assert task() == 1
    assert NotificationStatsDaily.objects.get().total == 1


# --- pages ---------------------------------------------------------------------------------------

def test_seller_page_shows_only_their_store_with_charts_data(client, seeded):
    seller = SellerFactory(store=seeded["store"])
    client.force_login(seller)
    response = client.get(reverse("seller:statistics"), {"start": D1.isoformat(), "end": D2.isoformat()})
    assert response.status_code == 200
    body = response.content.decode()
    assert 'id="stats-data" type="application/json"' in body and "chart.umd.min.js" in body
    assert response.context["report"]["total"].total == 11  # not the other store's, not the storeless one
    assert "Timeout talking to provider" in body and "44.4%" in body


@pytest.mark.parametrize("extra", [0, 40])
def test_the_page_makes_a_fixed_number_of_queries(client, store, django_assert_num_queries, extra):
    seller = SellerFactory(store=store)
    for i in range(3 + extra):
        note(store, day=D1, channel=["email", "sms"][i % 2], event=["order.shipped", "order.placed"][i % 2],
             status=[S.DELIVERED, S.FAILED][i % 2], error=f"reason {i % 7}", latencies=[i * 37])
    stats_rollup(start=D1 - datetime.timedelta(days=40), end=D2)
    client.force_login(seller)
    client.get(reverse("seller:statistics"))  # warm the session
    # session + user + series, channels, events, failure reasons
    with django_assert_num_queries(6):
        response = client.get(reverse("seller:statistics"), {"preset": "90", "bucket": "week"})
    assert response.status_code == 200


def test_a_bad_range_is_refused_with_the_reason(client, store):
    client.force_login(SellerFactory(store=store))
    response = client.get(reverse("seller:statistics"), {"start": "2030-01-10", "end": "2030-01-01"})
    assert response.status_code == 400
    assert "The end date is before the start date." in response.content.decode()


def test_empty_state(client, store):
    client.force_login(SellerFactory(store=store))
    body = client.get(reverse("seller:statistics")).content.decode()
    assert "No messages in this period" in body


def test_platform_page_is_for_staff_only(client, seeded):
    url = reverse("platform_statistics")
    client.force_login(SellerFactory(store=seeded["store"]))
    assert client.get(url).status_code == 302  # to the admin login
    client.force_login(UserFactory(is_staff=True))
    response = client.get(url, {"start": D1.isoformat(), "end": D2.isoformat()})
    assert response.status_code == 200 and response.context["report"]["total"].total == 13


def test_a_customer_cannot_see_store_statistics(client, customer):
    client.force_login(customer)
    assert client.get(reverse("seller:statistics")).status_code == 403
