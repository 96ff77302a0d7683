"""Listen addresses, ports and URLs as users type them, and the safety rule's address
ranges, checked once for every tool.

Safety rule: emops services listen only on loopback or, where a caller allows
it, on the twin's 198.18.0.0/15, never on all interfaces; probes and load go
only to those ranges unless pointed at the production inventory (SAFE_NETWORKS,
is_safe_address; the collectors and the load test apply it to their targets). Only
ASCII is accepted: Python's int() reads `²` or `٩٠` as digits and urllib
raises ValueError on a port above 65535, both of which used to escape as
tracebacks instead of one error line.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import SplitResult, urlsplit

from emops.errors import EmopsError
from emops.topology.model import LAB_PREFIX
from emops.units import parse_int

LOOPBACK = ipaddress.IPv4Network("127.0.0.0/8")
SAFE_NETWORKS = (LOOPBACK, LAB_PREFIX)
_IPV6_LOOPBACK = ipaddress.IPv6Address("::1")


def is_safe_address(text: str) -> bool:
    """True for 127.0.0.0/8, ::1 (and IPv4-mapped forms of both ranges) and 198.18.0.0/15."""
    address = ipaddress.ip_address(text.split("%", 1)[0])
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is None:
            return address == _IPV6_LOOPBACK
        address = address.ipv4_mapped
    return any(address in net for net in SAFE_NETWORKS)


def _plain(text: str, field: str, example: str) -> None:
    """Printable ASCII without blanks, else EmopsError."""
    if not (text.isascii() and text.isprintable()) or any(c.isspace() for c in text):
        raise EmopsError.of(
            field, f"{text!r} has characters other than ASCII", f"write it like {example}"
        )


def parse_port(text: str, field: str, allow_zero: bool = False, example: str = "9090") -> int:
    """A TCP/UDP port in ASCII digits: 1..65535 (0 = let the OS choose, where allowed)."""
    return parse_int(text, field, 0 if allow_zero else 1, 65535, example)


def parse_listen(
    text: str,
    field: str = "--listen",
    *,
    lab: bool = True,
    names: bool = False,
    port_zero: bool = False,
    default_port: int | None = None,
    example: str = "127.0.0.1:9090",
) -> tuple[str, int]:
    """`HOST:PORT` to (address, port), refusing anything but loopback (and 198.18.0.0/15
    with `lab`). `names` also accepts `localhost` and `[::1]`; `port_zero` accepts port 0
    (the OS picks one); `default_port` makes the port optional."""
    _plain(text, field, example)
    host, sep, port_text = text.rpartition(":")
    if not sep and default_port is not None:
        host, port_text = text, str(default_port)
    if not host or not port_text:
        raise EmopsError.of(field, f"{text!r} is not HOST:PORT", f"e.g. {example}")
    bracketed = host.startswith("[") and host.endswith("]")
    if names and host == "localhost":
        host = "127.0.0.1"
    elif names and bracketed:
        host = host[1:-1]
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        raise EmopsError.of(
            field, f"{host!r} is not an IP address", f"give an address literal, e.g. {example}"
        ) from None
    allowed = (address == _IPV6_LOOPBACK and names) or (
        isinstance(address, ipaddress.IPv4Address)
        and (address in LOOPBACK or (lab and address in LAB_PREFIX))
    )
    if not allowed:
        ranges = "127.0.0.0/8" + (f" and the lab's {LAB_PREFIX}" if lab else "")
        hint = "listen on loopback or a lab address" if lab else "listen on loopback"
        raise EmopsError.of(
            field, f"{text} is outside {ranges}", hint + ", never on all interfaces"
        )
    return str(address), parse_port(port_text, field, port_zero, example.rpartition(":")[2])


def split_url(url: str, field: str, example: str = "http://127.0.0.1:9090") -> SplitResult:
    """An http(s) URL with a host and, if given, a port in 1..65535; else EmopsError."""
    _plain(url, field, example)
    try:
        parts = urlsplit(url)
        port = parts.port  # raises ValueError on `:99999` or `:x`
        host = parts.hostname
    except ValueError:
        raise EmopsError.of(
            field, f"{url!r} has a bad host or port (ports are 1-65535)", f"e.g. {example}"
        ) from None
    if parts.scheme not in ("http", "https") or not host:
        raise EmopsError.of(field, f"{url!r} is not an http(s) URL with a host", f"e.g. {example}")
    if port == 0:
        raise EmopsError.of(field, f"{url!r} has port 0", f"e.g. {example}")
    return parts


def check_url(url: str, field: str, example: str = "http://127.0.0.1:9090") -> str:
    """split_url, returning the URL unchanged."""
    split_url(url, field, example)
    return url
