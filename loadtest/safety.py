"""Where load may be sent: loopback and the twin, or production only when asked twice.

Design rule (design.md, "Safety"): load goes only to 127.0.0.0/8 (and ::1) or
to the twin's 198.18.0.0/15. Anything else is refused unless the caller passes
the explicit production flag *and* the target is a host of the production
inventory (inventory/province) - a typo in --host must never turn a load test
into an attack on someone's server.

A name is resolved and *every* address it resolves to must be allowed: a name
that resolves to a lab address and to a public one is refused, because the
client library may pick either. The checked target carries a URL pinned to the
address that was checked, so a later lookup (DNS rebinding) cannot move it.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Collection
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from emops.errors import EmopsError
from emops.netaddr import is_safe_address, split_url
from emops.topology import load_topology
from emops.topology.model import Topology

PRODUCTION_INVENTORY = "inventory/province"
_HINT = "target loopback or the twin (198.18.0.0/15)"

Resolver = Callable[[str], list[str]]


def resolve(host: str) -> list[str]:
    """Every address `host` resolves to (A and AAAA), in resolver order, without repeats."""
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError) as exc:
        raise EmopsError.of("--host", f"cannot resolve {host!r}: {exc}", _HINT) from None
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


@dataclass(frozen=True)
class Target:
    """A target that passed the check, and the URL pinned to the address that was checked."""

    url: str
    host: str
    addresses: tuple[str, ...]
    pinned_url: str
    production: bool = False


def production_hosts(topo: Topology) -> set[str]:
    """Names and addresses of the production inventory: devices, interfaces, virtual addresses."""
    hosts: set[str] = set()
    for device in topo.devices.values():
        hosts |= {device.name, str(device.mgmt_address)}
    for link in topo.links:
        for end in (link.a, link.b, *(e for m in link.members for e in (m.a, m.b))):
            if end.address is not None:
                hosts.add(str(end.address.ip))
    for segment in topo.segments:
        hosts |= {str(m.address.ip) for m in segment.members}
        hosts |= {str(v.address) for v in segment.vips}
    return hosts


def load_production_hosts(inventory: str = PRODUCTION_INVENTORY) -> set[str]:
    """production_hosts of the inventory at `inventory`, which must be a production one."""
    topo = load_topology(inventory)
    if topo.is_lab:
        raise EmopsError.of(
            "--production",
            f"{inventory} is a lab inventory",
            "production targets come from inventory/province",
        )
    return production_hosts(topo)


def _split(url: str, field: str) -> tuple[str, str]:
    parts = split_url(url if "://" in url else f"http://{url}", field, "http://127.0.0.1:8080")
    return str(parts.hostname), urlunsplit(parts)


def _pin(url: str, address: str) -> str:
    parts = urlsplit(url)
    shown = f"[{address}]" if ":" in address else address
    netloc = shown + (f":{parts.port}" if parts.port is not None else "")
    return urlunsplit(parts._replace(netloc=netloc))


def check_target(
    url: str,
    production: bool = False,
    inventory_hosts: Callable[[], Collection[str]] = load_production_hosts,
    resolver: Resolver = resolve,
    field: str = "--host",
) -> Target:
    """The target of `url` if load may go there, else EmopsError naming `field`.

    `inventory_hosts` is only called for a non-lab target with `production`
    set, so lab runs never read the production inventory.
    """
    host, url = _split(url, field)
    try:
        addresses = [str(ipaddress.ip_address(host))]
    except ValueError:
        addresses = resolver(host)
    if not addresses:
        raise EmopsError.of(field, f"{host!r} resolves to no address", _HINT)
    outside = [a for a in addresses if not is_safe_address(a)]
    if outside and not production:
        shown = host if host == outside[0] else f"{host} ({outside[0]})"
        raise EmopsError.of(
            field,
            f"refusing to send load to {shown}: outside 127.0.0.0/8 and 198.18.0.0/15",
            _HINT + "; production needs --production and a host of inventory/province",
        )
    if outside:
        known = set(inventory_hosts())
        if host not in known and not all(a in known for a in outside):
            raise EmopsError.of(
                field,
                f"refusing to send load to {host}: not a host of the production inventory",
                "production targets must be devices or addresses in inventory/province",
            )
    return Target(url, host, tuple(addresses), _pin(url, addresses[0]), bool(outside))
