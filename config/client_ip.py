"""The client's address, as every security control takes it: sign-in lockouts (django-axes) and the
audit log's origin.

Without a proxy it is REMOTE_ADDR. Behind proxies (the production load balancer ends TLS) REMOTE_ADDR is
the nearest proxy for every client, so the client's address comes from X-Forwarded-For, where each proxy
appends the address it received the request from. Only the entries the trusted proxies appended can be
believed: a client can send any X-Forwarded-For it likes, and the proxies append to it. So with
TRUSTED_PROXY_COUNT = N the client is the Nth entry from the right, and nothing left of it is ever read.
When there are fewer than N entries, or one the proxies wrote is not an address (a port, a name, an empty
entry), the request did not come the way we were told it would, and REMOTE_ADDR is used instead.

This trusts the header only if the application cannot be reached except through those N proxies.
"""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def _address(raw: str) -> str | None:
    try:
        return str(ipaddress.ip_address(raw.strip()))
    except ValueError:
        return None


def client_ip(request: HttpRequest) -> str | None:
    """The client's address (normalised, e.g. IPv6 compressed), or None if the request has none usable."""
    remote = _address(request.META.get("REMOTE_ADDR") or "")
    trusted = getattr(settings, "TRUSTED_PROXY_COUNT", 0)
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR") or ""
    if trusted <= 0 or not forwarded.strip():
        return remote
    entries = forwarded.split(",")
    if len(entries) < trusted:
        return remote
    vouched = [_address(entry) for entry in entries[-trusted:]]
    if None in vouched:
        return remote
    return vouched[0]
