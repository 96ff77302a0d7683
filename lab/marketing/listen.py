"""Where the service may listen: loopback or the twin's 198.18.0.0/15 lab range, nothing else.

The service is a test target; binding it to a routable or wildcard address
would expose a fake billing system (with trust-auth databases behind it) to a
real network, so any other address is refused before a socket is opened.
"""

from __future__ import annotations

from emops import netaddr

_EXAMPLE = "127.0.0.1:8080"


def parse_listen(text: str) -> tuple[str, int]:
    """`HOST:PORT` (or `[::1]:PORT`, `localhost:PORT`) to (ip, port), refusing non-lab hosts.

    Port 0 asks the OS for a free port; the service prints the one it got.
    """
    return netaddr.parse_listen(text, "--listen", names=True, port_zero=True, example=_EXAMPLE)
