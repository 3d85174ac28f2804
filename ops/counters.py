"""Counters shared by every process (web, workers) for /metrics: kept in the cache (Redis in
production), so two web processes and two workers add up. Best effort: a cache outage loses
increments, never fails the request or task that counted."""
import logging

from django.core.cache import cache

log = logging.getLogger(__name__)
PREFIX = "ops:counter:"
INDEX = PREFIX + "index"
TIMEOUT = None  # never expire


def _key(name: str, labels: dict) -> str:
    return PREFIX + name + "|" + ",".join(f"{k}={labels[k]}" for k in sorted(labels))


def count(name: str, amount: int = 1, **labels) -> None:
    key = _key(name, labels)
    try:
        try:
            cache.incr(key, amount)
        except ValueError:  # first increment of this key
            if not cache.add(key, amount, timeout=TIMEOUT):
                cache.incr(key, amount)
            keys = set(cache.get(INDEX) or ())
            if key not in keys:
                cache.set(INDEX, sorted(keys | {key}), timeout=TIMEOUT)
    except Exception:
        log.warning("Could not count %s %s (cache unavailable)", name, labels)


def read() -> dict[str, list[tuple[dict, int]]]:
    """{name: [(labels, value), ...]} for every counter counted so far."""
    try:
        keys = list(cache.get(INDEX) or ())
        values = cache.get_many(keys) if keys else {}
    except Exception:
        log.warning("Could not read counters (cache unavailable)")
        return {}
    out: dict[str, list] = {}
    for key in keys:
        name, _, label_text = key[len(PREFIX):].partition("|")
        labels = dict(pair.split("=", 1) for pair in label_text.split(",") if "=" in pair)
        out.setdefault(name, []).append((labels, int(values.get(key) or 0)))
    return out
