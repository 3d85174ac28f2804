"""The client's address, the same for every rate limit and the login throttle.

Behind a reverse proxy REMOTE_ADDR is the proxy, so every visitor would share one rate-limit
bucket. ``TRUSTED_PROXIES`` lists the proxies' addresses or networks (e.g. "10.0.0.0/8,127.0.0.1");
only when the request comes from one of them is ``X-Forwarded-For`` read, right to left, skipping
further trusted hops: the first address that is not a trusted proxy is the client. A forged
X-Forwarded-For from a client that is not a proxy is ignored.
"""
import ipaddress
from functools import lru_cache

from django.conf import settings


@lru_cache(maxsize=8)
def _networks(spec: tuple) -> tuple:
    nets = []
    for item in spec:
        item = item.strip()
        if item:
            nets.append(ipaddress.ip_network(item, strict=False))
    return tuple(nets)


def _parse(value: str):
    try:
        return ipaddress.ip_address(value.strip().strip("[]"))
    except ValueError:
        return None


def _trusted(address, networks) -> bool:
    return any(address.version == net.version and address in net for net in networks)


def client_ip(request) -> str:
    """The client address as a string ('' when REMOTE_ADDR is missing or unreadable)."""
    remote = _parse(request.META.get("REMOTE_ADDR", "") or "")
    if remote is None:
        return ""
    networks = _networks(tuple(getattr(settings, "TRUSTED_PROXIES", ()) or ()))
    if not networks or not _trusted(remote, networks):
        return str(remote)
    hops = [h for h in (request.META.get("HTTP_X_FORWARDED_FOR", "") or "").split(",") if h.strip()]
    client = remote
    for hop in reversed(hops[-20:]):
        address = _parse(hop)
        if address is None:
            break  # garbage from beyond the trusted chain: stop at the last address we can vouch for
        client = address
        if not _trusted(address, networks):
            break
    return str(client)


def client_ip_or_none(request) -> str | None:
    return client_ip(request) or None
