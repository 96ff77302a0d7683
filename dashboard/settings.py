"""What the dashboard reads, and where it may listen.

`emops dashboard` validates its options and hands them to the Streamlit
process through environment variables (Streamlit owns the command line of the
app script); the app and the tests read them back with `from_env`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network, ip_address
from pathlib import Path

from emops import netaddr
from emops.errors import EmopsError

DEFAULT_INVENTORY = "inventory/lab"
DEFAULT_PROMETHEUS = "http://127.0.0.1:9090"  # emops monitor's Prometheus (loopback only)
DEFAULT_CAMPAIGNS = "out/campaigns"
DEFAULT_ADDRESS = "127.0.0.1"
DEFAULT_PORT = 8501
LAB_NETWORK = IPv4Network("198.18.0.0/15")  # the twin's addresses (RFC 2544)

ENV = {
    "inventory": "EMOPS_DASHBOARD_INVENTORY",
    "prometheus": "EMOPS_DASHBOARD_PROMETHEUS",
    "campaigns": "EMOPS_DASHBOARD_CAMPAIGNS",
    "alertmanager": "EMOPS_DASHBOARD_ALERTMANAGER",
    "sites": "EMOPS_DASHBOARD_SITES",
}


@dataclass(frozen=True)
class DashboardSettings:
    """The sources of one dashboard: an inventory, a Prometheus, campaign results."""

    inventory: str = DEFAULT_INVENTORY
    prometheus: str = DEFAULT_PROMETHEUS
    campaigns: str = DEFAULT_CAMPAIGNS
    alertmanager: str = ""  # optional: its /api/v2/alerts beside Prometheus's
    sites: str = ""  # "N": only HQ and the first N companies (a running twin); "": all

    @property
    def site_count(self) -> int | None:
        return int(self.sites) if self.sites else None

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> DashboardSettings:
        env = os.environ if env is None else env
        defaults = cls()
        return cls(**{f: env.get(var) or getattr(defaults, f) for f, var in ENV.items()})

    def to_env(self) -> dict[str, str]:
        return {var: getattr(self, f) for f, var in ENV.items()}

    @property
    def campaigns_dir(self) -> Path:
        return Path(self.campaigns)


def check_url(url: str, field: str) -> str:
    """An http(s) URL with a host; the dashboard only ever reads from it."""
    return netaddr.check_url(url, field, "http://127.0.0.1:9090").rstrip("/")


def check_address(address: str, allow_any: bool) -> str:
    """Where the web server may listen: loopback or the twin's lab range, unless allowed.

    The dashboard has no login; listening elsewhere shows the network's state to
    anyone who can reach the machine, so that takes an explicit flag.
    """
    if address == "localhost":
        return address
    try:
        parsed = ip_address(address)
    except ValueError:
        raise EmopsError.of(
            "--address", f"{address!r} is not an IP address", "e.g. 127.0.0.1"
        ) from None
    inside = parsed.is_loopback or (isinstance(parsed, IPv4Address) and parsed in LAB_NETWORK)
    if not inside and not allow_any:
        raise EmopsError.of(
            "--address",
            f"{address} is outside loopback and the lab range {LAB_NETWORK}",
            "the dashboard has no login: reach it by SSH tunnel, "
            "or pass --allow-any-address if you really mean it",
        )
    return address


def check_port(port: int) -> int:
    if not 0 < port < 65536:
        raise EmopsError.of("--port", f"{port} is not a TCP port", "e.g. 8501")
    return port
