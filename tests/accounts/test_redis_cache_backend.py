"""notify_site.cache.ReusingRedisCache: Django's Redis cache, one client per pool (see bench/README.md)."""
from notify_site.cache import ReusingRedisCache
from tests.services import redis_url


def test_reusing_redis_cache_reads_writes_and_keeps_one_client():
    cache = ReusingRedisCache(redis_url(), {"KEY_PREFIX": "test-reusing-cache"})
    try:
        cache.set("k", {"a": 1}, 30)
        assert cache.get("k") == {"a": 1}
        assert cache.get("missing", "default") == "default"
        assert cache._cache.get_client() is cache._cache.get_client(write=True)
        cache.delete("k")
        assert cache.get("k") is None
    finally:
        cache.close()


DEAD_REDIS = "redis://127.0.0.1:1/0"  # nothing listens on port 1: every connection is refused


def test_resilient_cache_serves_misses_while_redis_is_away_and_backs_off():
    import time

    from notify_site.cache import ResilientRedisCache

    cache = ResilientRedisCache(DEAD_REDIS, {})
    assert cache.get("k", "default") == "default"
    assert cache.set("k", 1, 30) is None and cache.add("k", 1) is False
    assert cache.incr("k") is None  # counted as limited by django-ratelimit: rate limits fail closed
    assert cache.get_many(["a", "b"]) == {} and cache.delete("k") is False
    assert cache._down_until > time.monotonic()  # not tried again for a few seconds


def test_pages_and_sessions_work_with_redis_down_and_rate_limits_fail_closed(db, client, settings):
    from tests.factories import CustomerFactory, OrderFactory

    # Changing CACHES resets Django's cache handlers (django.test.signals), so "default" is this one.
    settings.CACHES = {"default": {"BACKEND": "notify_site.cache.ResilientRedisCache", "LOCATION": DEAD_REDIS}}
    customer = CustomerFactory()
    order = OrderFactory(customer=customer)
    client.force_login(customer)  # cached_db session: written to the database
    assert client.get("/account/").status_code == 200
    assert client.get(f"/account/orders/{order.number}/").status_code == 200
    response = client.post("/track/", {"number": order.number, "email": order.email})
    assert response.status_code == 429  # the guarded lookup refuses rather than opening a window
