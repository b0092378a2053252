"""The caller's address: the connection's peer, or X-Forwarded-For only behind a trusted proxy."""

from __future__ import annotations

import ipaddress
from functools import lru_cache

from aiohttp import web

from server import keys

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=8)
def _networks(trusted_proxies: str) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(p.strip(), strict=False)
                 for p in trusted_proxies.split(",") if p.strip())


def _is_trusted(address: str, networks: tuple[Network, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in net for net in networks)


def client_ip(request: web.Request) -> str:
    """Walk X-Forwarded-For from the right while the hop is a trusted proxy: the first
    untrusted hop is the client. Anything a client writes to the left of that is ignored."""
    peer = request.remote or "unknown"
    networks = _networks(request.app[keys.SETTINGS].trusted_proxies)
    if not networks or not _is_trusted(peer, networks):
        return peer
    hops = [h.strip() for value in request.headers.getall("X-Forwarded-For", [])
            for h in value.split(",") if h.strip()]
    client = peer
    for hop in reversed(hops):
        try:
            ipaddress.ip_address(hop)
        except ValueError:
            break  # a malformed hop: trust nothing beyond it
        client = hop
        if not _is_trusted(hop, networks):
            break
    return client
