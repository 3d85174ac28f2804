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
