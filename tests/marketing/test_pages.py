"""The promotion pages: the admin change page with its live progress partial and actions, and the
seller's own promotions (nobody sees another store's)."""
import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from marketing.models import Promotion
from tests.factories import SellerFactory, StoreFactory

from .conftest import customers, make_promotion

pytestmark = pytest.mark.django_db


def test_admin_progress_page_launch_and_partial(frozen_clock, admin_client, shop, commit):
    store, lamp, *_ = shop
    customers(4)
    promotion = make_promotion(store, [lamp], start=timezone.now())
    page = admin_client.get(reverse("admin:marketing_promotion_change", args=[promotion.pk])).content.decode()
    assert 'data-testid="promotion-progress"' in page and "Launch now" in page
    assert "<script>" not in page.replace('<script src', '')  # CSP: no inline script
    with commit():
        admin_client.post(reverse("admin:marketing_promotion_act", args=[promotion.pk, "launch"]))
    partial = admin_client.get(reverse("admin:marketing_promotion_progress", args=[promotion.pk]))
    body = partial.content.decode()
    assert partial.status_code == 200
    assert 'data-testid="count-written">4<' in body and 'data-testid="count-sent">4<' in body
    after = admin_client.get(reverse("admin:marketing_promotion_change", args=[promotion.pk]))
    assert after.status_code == 200 and "Pause" in after.content.decode()  # read-only once sending
    preview = admin_client.get(reverse("admin:marketing_promotion_preview", args=[promotion.pk, "email"]))
    assert "SPRING20" in preview.content.decode()
    mail.outbox = []
    admin_client.post(reverse("admin:marketing_promotion_act", args=[promotion.pk, "test"]), {"channel": "email"})
    assert len(mail.outbox) == 1 and mail.outbox[0].subject.startswith("[TEST]")


def test_seller_creates_launches_and_watches_their_own_promotion(client, shop, frozen_clock, commit):
    store, lamp, bulb, other = shop
    customers(2)
    seller = SellerFactory(store=store)
    client.force_login(seller)
    assert "No promotions yet" in client.get(reverse("seller:promotions")).content.decode()
    bad = client.post(reverse("seller:promotions"), {"title": "Sale", "discount_percent": 10, "code": "x",
                                                     "starts_at": "2030-01-16T12:00", "ends_at": "2030-01-15T12:00",
                                                     "channels": ["email"], "products": [other.pk]})
    assert bad.status_code == 400
    text = bad.content.decode()
    assert "Use 3–32 letters" in text and "The end must be after the start." in text
    done = client.post(reverse("seller:promotions"), {"title": "Sale", "discount_percent": 10, "code": "lamp10",
                                                      "starts_at": "2030-01-16T12:00", "ends_at": "2030-01-20T12:00",
                                                      "channels": ["email"], "products": [lamp.pk]})
    promotion = Promotion.objects.get(code="LAMP10")
    assert done.status_code == 302 and promotion.store == store
    detail = client.get(reverse("seller:promotion_detail", args=[promotion.pk])).content.decode()
    assert "LAMP10" in detail and "Email preview" in detail
    with commit():
        client.post(reverse("seller:promotion_action", args=[promotion.pk, "launch"]))
    partial = client.get(reverse("seller:promotion_progress", args=[promotion.pk])).content.decode()
    assert 'data-testid="count-sent">2<' in partial

    # Another store's seller sees nothing of it.
    stranger = SellerFactory(store=StoreFactory())
    client.force_login(stranger)
    assert client.get(reverse("seller:promotion_detail", args=[promotion.pk])).status_code == 404
    assert client.get(reverse("seller:promotion_progress", args=[promotion.pk])).status_code == 404
    assert client.post(reverse("seller:promotion_action", args=[promotion.pk, "cancel"])).status_code == 404


def test_query_counts_do_not_grow_with_promotions_or_recipients(client, shop, frozen_clock, commit,
                                                                django_assert_num_queries):
    store, lamp, *_ = shop
    seller = SellerFactory(store=store)
    client.force_login(seller)
    first = make_promotion(store, [lamp], start=timezone.now())
    client.get(reverse("seller:promotions"))  # warm the session and caches
    with django_assert_num_queries(QUERIES_LIST) as one:
        client.get(reverse("seller:promotions"))
    for i in range(5):
        make_promotion(store, [lamp], start=timezone.now(), code=f"MORE{i}0")
    with django_assert_num_queries(len(one.captured_queries)):
        client.get(reverse("seller:promotions"))
    customers(6)
    with commit():
        from marketing.services import promotion_launch

        promotion_launch(promotion=first)
    with django_assert_num_queries(QUERIES_PROGRESS):
        client.get(reverse("seller:promotion_progress", args=[first.pk]))


QUERIES_LIST = 4  # fixed, whatever the number of promotions
QUERIES_PROGRESS = 6  # fixed, whatever the number of recipients (counts are aggregates)


def test_seller_schedules_a_launch_in_the_store_time_zone(client, shop, frozen_clock, commit):
    """Wed 2030-01-16 11:00 UTC: the seller schedules for 09:00 New York time the next day; beat's
    tick starts the fan-out at that moment and not before. A past time or one after the end is refused."""
    import datetime
    import zoneinfo

    from marketing.tasks import tick

    store, lamp, *_ = shop
    store.time_zone = "America/New_York"
    store.save(update_fields=["time_zone"])
    customers(2)
    client.force_login(SellerFactory(store=store))
    promotion = make_promotion(store, [lamp], start=timezone.now())
    url = reverse("seller:promotion_action", args=[promotion.pk, "launch"])
    detail = reverse("seller:promotion_detail", args=[promotion.pk])
    assert 'data-testid="schedule"' in client.get(detail).content.decode()

    refused = client.post(url, {"launch_at": "2030-01-16T05:00"}, follow=True)  # 10:00 UTC: past
    assert "Choose a time in the future" in refused.content.decode()
    promotion.refresh_from_db()
    assert promotion.status == Promotion.Status.DRAFT
    late = client.post(url, {"launch_at": (promotion.ends_at + datetime.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")},
                       follow=True)
    assert "after the promotion ends" in late.content.decode()

    done = client.post(url, {"launch_at": "2030-01-17T09:00"}, follow=True)
    assert "Scheduled: it launches on 17 Jan 2030, 09:00 (America/New_York)" in done.content.decode()
    promotion.refresh_from_db()
    assert promotion.status == Promotion.Status.SCHEDULED
    assert promotion.launch_at == datetime.datetime(2030, 1, 17, 9, 0, tzinfo=zoneinfo.ZoneInfo("America/New_York"))
    assert promotion.launch_at == datetime.datetime(2030, 1, 17, 14, 0, tzinfo=datetime.timezone.utc)

    frozen_clock.move_to(datetime.datetime(2030, 1, 17, 13, 59, tzinfo=datetime.timezone.utc))
    with commit():
        tick()
    promotion.refresh_from_db()
    assert promotion.status == Promotion.Status.SCHEDULED
    frozen_clock.move_to(datetime.datetime(2030, 1, 17, 14, 0, 30, tzinfo=datetime.timezone.utc))
    with commit():
        tick()
    promotion.refresh_from_db()
    assert promotion.status in (Promotion.Status.SENDING, Promotion.Status.SENT)
