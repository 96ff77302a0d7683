"""Where the service may listen: loopback or the twin's 198.18.0.0/15 lab range, nothing else.

The service is a test target; binding it to a routable or wildcard address
would expose a fake billing system (with trust-auth databases behind it) to a
real network, so any other address is refused before a socket is opened.
"""

from __future__ import annotations

import ipaddress

from emops.errors import EmopsError

LAB_NETWORK = ipaddress.ip_network("198.18.0.0/15")
LOOPBACK_V4 = ipaddress.ip_network("127.0.0.0/8")
_HINT = "use a loopback address (127.0.0.1, ::1) or a lab address in 198.18.0.0/15"


def is_lab_address(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """True for loopback (127.0.0.0/8, ::1) and the benchmark-lab range 198.18.0.0/15."""
    if isinstance(address, ipaddress.IPv6Address):
        return address == ipaddress.IPv6Address("::1")
    return address in LOOPBACK_V4 or address in LAB_NETWORK


def parse_listen(text: str) -> tuple[str, int]:
    """`HOST:PORT` (or `[::1]:PORT`, `localhost:PORT`) to (ip, port), refusing non-lab hosts.

    Port 0 asks the OS for a free port; the service prints the one it got.
    """
    host, sep, port_text = text.rpartition(":")
    if not sep or not host:
        raise EmopsError.of("--listen", f"{text!r} is not HOST:PORT", "e.g. 127.0.0.1:8080")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if host == "localhost":
        host = "127.0.0.1"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        raise EmopsError.of(
            "--listen", f"{host!r} is not an IP address", "give an address literal; " + _HINT
        ) from None
    if not is_lab_address(address):
        raise EmopsError.of(
            "--listen", f"refusing to listen on {address}: not a lab address", _HINT
        )
    if not port_text.isdigit() or not 0 <= int(port_text) <= 65535:
        raise EmopsError.of("--listen", f"port {port_text!r} is not 0-65535")
    return str(address), int(port_text)
