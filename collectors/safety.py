"""Where the exporter may listen and which targets it may send packets to.

Design rule: probes go only to loopback or to the twin's own namespaces. A
lab target (198.18.0.0/15) is polled only while the kernel reaches it over a
directly connected route (the twin's management bridge is up); otherwise the
packets would follow the default route off the machine, so the target is
reported down with reason `unroutable` and nothing is sent. Any other address
needs the explicit production flag.
"""

from __future__ import annotations

import socket
import struct
from ipaddress import IPv4Address, IPv4Network, ip_address

from emops import netaddr
from emops.netaddr import LOOPBACK
from emops.topology.model import LAB_PREFIX

ROUTES = "/proc/net/route"


def parse_listen(
    text: str, field: str = "--listen", default_port: int | None = None
) -> tuple[str, int]:
    """HOST:PORT inside 127.0.0.0/8 or 198.18.0.0/15 (port 1-65535), else EmopsError."""
    return netaddr.parse_listen(text, field, default_port=default_port, example="127.0.0.1:9610")


def connected_networks(path: str = ROUTES) -> list[IPv4Network]:
    """Destinations of the main table's directly connected routes (no gateway)."""
    networks = []
    try:
        with open(path) as routes:
            next(routes)
            for line in routes:
                fields = line.split()
                dest, gateway, mask = (int(f, 16) for f in (fields[1], fields[2], fields[7]))
                if gateway == 0 and mask != 0:
                    d = socket.inet_ntoa(struct.pack("<I", dest))
                    m = socket.inet_ntoa(struct.pack("<I", mask))
                    networks.append(IPv4Network(f"{d}/{m}", strict=False))
    except (OSError, StopIteration, IndexError, ValueError):
        return []
    return networks


def unsafe_reason(host: str, production: bool, connected: list[IPv4Network]) -> str | None:
    """None if packets to `host` may be sent now, else the reason label."""
    address = ip_address(host)
    if address in LOOPBACK or production:
        return None
    if isinstance(address, IPv4Address) and address in LAB_PREFIX:
        return None if any(address in net for net in connected) else "unroutable"
    return "not_lab"
