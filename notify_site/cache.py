"""Django's Redis cache backend, keeping one ``redis.Redis`` client per connection pool.

Django's ``RedisCacheClient.get_client`` builds a new ``redis.Redis`` for every cache call; its
constructor fills a table of ~170 response callbacks, ~0.1–0.3 ms of CPU per call (seen in the
profile of the logged-in order status page, whose cached_db session is one cache read per
request; see bench/README.md). A ``redis.Redis`` is safe to share between threads (each command
takes a connection from the pool), and the pool itself reconnects after a fork, so one client per
pool gives the same behaviour without the rebuild.
"""
from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache, RedisCacheClient


class ReusingRedisCacheClient(RedisCacheClient):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients = {}

    def get_client(self, key=None, *, write=False):
        index = self._get_connection_pool_index(write)
        client = self._clients.get(index)
        if client is None:
            pool = self._pools.get(index)
            if pool is None:
                pool = self._pools[index] = self._pool_class.from_url(self._servers[index], **self._pool_options)
            client = self._clients[index] = self._client(connection_pool=pool)
        return client


class ReusingRedisCache(RedisCache):
    """``django.core.cache.backends.redis.RedisCache`` with ``ReusingRedisCacheClient``."""

    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = ReusingRedisCacheClient


class ResilientRedisCache(ReusingRedisCache):
    """The shop keeps working while Redis is away (issue 16): every cache call that cannot reach
    Redis behaves as a miss (reads return the default, writes are dropped) after a short socket
    timeout, and for CACHE_DOWN_BACKOFF seconds after a failure Redis is not tried at all, so a
    request pays the timeout at most once per backoff period.

    What that means per use (README "When Redis is down"):
    - sessions (cached_db) and the signed-in user's row: read from the database (fail open, correct);
    - the status-page cache: rebuilt per request (fail open, slower);
    - rate limits: ``incr`` answers None, which django-ratelimit counts as limited: the guarded
      forms (guest order lookup, sign-in) refuse with "too many attempts" until Redis is back
      (fail closed: an outage must not open a brute-force window).
    """

    DOWN_BACKOFF_SECONDS = 5.0

    def __init__(self, server, params):
        options = dict(params.get("OPTIONS") or {})
        options.setdefault("socket_connect_timeout", 0.25)
        options.setdefault("socket_timeout", 0.5)
        options.setdefault("retry_on_timeout", False)
        super().__init__(server, {**params, "OPTIONS": options})
        self._down_until = 0.0

    def _guard(self, call, fallback, *args, **kwargs):
        import logging
        import time

        from redis.exceptions import ConnectionError as RedisConnectionError
        from redis.exceptions import TimeoutError as RedisTimeoutError

        if time.monotonic() < self._down_until:
            return fallback
        try:
            return call(*args, **kwargs)
        except (RedisConnectionError, RedisTimeoutError, OSError) as exc:
            self._down_until = time.monotonic() + self.DOWN_BACKOFF_SECONDS
            logging.getLogger(__name__).warning("Cache unavailable (%s); serving without it for %.0f s",
                                                exc, self.DOWN_BACKOFF_SECONDS)
            return fallback

    def get(self, key, default=None, version=None):
        return self._guard(super().get, default, key, default, version)

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        return self._guard(super().set, None, key, value, timeout, version)

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        return self._guard(super().add, False, key, value, timeout, version)

    def touch(self, key, timeout=DEFAULT_TIMEOUT, version=None):
        return self._guard(super().touch, False, key, timeout, version)

    def delete(self, key, version=None):
        return self._guard(super().delete, False, key, version)

    def get_many(self, keys, version=None):
        return self._guard(super().get_many, {}, keys, version)

    def has_key(self, key, version=None):
        return self._guard(super().has_key, False, key, version)

    def incr(self, key, delta=1, version=None):
        return self._guard(super().incr, None, key, delta, version)

    def set_many(self, data, timeout=DEFAULT_TIMEOUT, version=None):
        return self._guard(super().set_many, list(data), data, timeout, version)

    def delete_many(self, keys, version=None):
        return self._guard(super().delete_many, None, keys, version)

    def clear(self):
        return self._guard(super().clear, False)
