"""Where a webhook may be sent: http(s) only, and never to private, loopback or link-local addresses
(the server would otherwise probe its own network for whoever registers the URL). Tests and local
development allow them with WEBHOOKS_ALLOW_PRIVATE_TARGETS=1."""
import ipaddress
import socket
from urllib.parse import urlsplit

from django.conf import settings


class TargetRefused(ValueError):
    pass


def _is_public(ip: ipaddress._BaseAddress) -> bool:
    return not (ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_multicast or ip.is_reserved
                or ip.is_unspecified or (ip.version == 6 and ip.ipv4_mapped and not _is_public(ip.ipv4_mapped)))


def check_target(url: str, *, resolve: bool = True) -> None:
    """Raise TargetRefused when ``url`` may not receive webhooks (checked on save and before each send)."""
    parts = urlsplit(url or "")
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise TargetRefused("Use an http:// or https:// URL.")
    if parts.username or parts.password:
        raise TargetRefused("Put no user name or password in the URL: verify our signature instead.")
    if settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS:
        return
    if parts.scheme != "https":
        raise TargetRefused("Use an https:// URL.")
    host = parts.hostname
    try:
        addresses = [ipaddress.ip_address(host)]
    except ValueError:
        if host == "localhost" or host.endswith((".localhost", ".local", ".internal")):
            raise TargetRefused("That host is on a private network.") from None
        if not resolve:
            return
        try:
            infos = socket.getaddrinfo(host, parts.port or 443, type=socket.SOCK_STREAM)
        except socket.gaierror:
            raise TargetRefused(f"The host {host} could not be found.") from None
        addresses = [ipaddress.ip_address(info[4][0]) for info in infos]
    if not all(_is_public(ip) for ip in addresses):
        raise TargetRefused("That address is private, loopback or link-local: webhooks go to public hosts only.")
