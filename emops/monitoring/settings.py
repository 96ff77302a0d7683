"""Per-network monitoring settings: how fast to scrape, how long to wait, where things listen.

The lab twin is scraped and evaluated every second so that a fault campaign
sees alerts within seconds (its collectors poll every 5 s; traps land at
once); the province is scraped every 30 s, which is what 5,000 devices and a
real SNMP agent's CPU can bear. Every duration an alert waits is derived here,
per network, so rules stay the same text with different numbers.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from emops import netaddr
from emops.errors import EmopsError
from emops.topology import Topology


@dataclass(frozen=True)
class BurnWindow:
    """One multi-window burn-rate condition (Google SRE workbook, chapter 5)."""

    long: str  # the window that proves the budget is really burning
    short: str  # the window that proves it is still burning now (fast reset)
    factor: float  # burn rate: 1 = the budget lasts exactly the SLO period


@dataclass(frozen=True)
class Timing:
    """Intervals and waits of one network (Prometheus duration strings)."""

    scrape_interval: str
    scrape_timeout: str
    evaluation_interval: str
    rate_window: str  # rate() window: at least 4 scrapes so one lost scrape is harmless
    confirm_for: str  # `for:` of state alerts (a probe failing, a backend down)
    link_for: str  # `for:` of LinkDown: the interface's own state, so no wait in the lab
    sustain_for: str  # `for:` of load alerts (utilisation must stay high)
    isolation_for: str  # `for:` of WanSiteIsolated: longer than rate_window, see docs
    change_window: str  # how long a VRRP master change stays visible
    trap_hold_seconds: int  # a trap counts as evidence this long, then the poll decides
    burn_page: BurnWindow
    burn_info: BurnWindow
    group_wait: str  # Alertmanager: wait this long to batch a new group's alerts
    group_interval: str
    repeat_interval: str


LAB_TIMING = Timing(
    scrape_interval="1s",  # a trap becomes an alert within 5 s: trap ~2 s + scrape + eval
    scrape_timeout="1s",
    evaluation_interval="1s",
    rate_window="30s",
    confirm_for="5s",  # one collector poll (5 s) must be confirmed by the next
    link_for="0s",
    sustain_for="1m",
    isolation_for="30s",
    change_window="20s",  # a failover stays visible long enough to be seen and notified
    trap_hold_seconds=15,
    burn_page=BurnWindow(long="5m", short="30s", factor=14.4),
    burn_info=BurnWindow(long="30m", short="2m", factor=6),
    group_wait="5s",
    group_interval="30s",
    repeat_interval="1h",
)

PROVINCE_TIMING = Timing(
    scrape_interval="30s",
    scrape_timeout="10s",
    evaluation_interval="30s",
    rate_window="2m",
    confirm_for="1m",
    link_for="30s",  # ride out flaps of a real line
    sustain_for="10m",
    isolation_for="2m",
    change_window="10m",
    trap_hold_seconds=90,
    burn_page=BurnWindow(long="1h", short="5m", factor=14.4),
    burn_info=BurnWindow(long="6h", short="30m", factor=6),
    group_wait="30s",
    group_interval="5m",
    repeat_interval="4h",
)


@dataclass(frozen=True)
class Thresholds:
    """What counts as bad. Utilisation comes from the inventory's planning section."""

    max_utilisation: float  # planning.max_utilisation: above this a WAN link is flagged
    backup_floor_ratio: float = 0.005  # backup traffic above 0.5 % of capacity = failed over
    replication_lag_seconds: float = 10.0
    slo_target: float = 0.99  # 99 % of VIP probes ...
    slo_latency_seconds: float = 0.5  # ... answer within 500 ms (a histogram bucket bound)


@dataclass(frozen=True)
class Endpoints:
    """Where the monitoring pieces listen (loopback only: the daemons would bind all by default)."""

    prometheus: str = "127.0.0.1:9090"
    alertmanager: str = "127.0.0.1:9093"
    snmp_collector_host: str = "127.0.0.1"
    snmp_collector_port: int = 9610  # shard k: emops.monitoring.hashmod.shard_port(k)
    app_collector: str = "127.0.0.1:9611"
    alert_sink: str = "http://127.0.0.1:9612"  # webhook receiver: campaigns read alerts here
    haproxy_port: int = 8404  # each load balancer's built-in Prometheus endpoint


@dataclass(frozen=True)
class MonitorSettings:
    """Everything the generators need besides the topology."""

    network: str
    timing: Timing
    thresholds: Thresholds
    endpoints: Endpoints = Endpoints()
    shards: int = 1
    remote_write: str | None = None

    def with_endpoints(self, **changes: str) -> MonitorSettings:
        return replace(self, endpoints=replace(self.endpoints, **changes))


def settings_for(
    topo: Topology, shards: int = 1, remote_write: str | None = None
) -> MonitorSettings:
    """The settings of `topo`'s network: lab timing for the twin, province timing otherwise."""
    if shards < 1:
        raise EmopsError.of("--shards", f"{shards} is not a positive number of collectors")
    if remote_write is not None:
        _check_url(remote_write)
    timing = LAB_TIMING if topo.is_lab else PROVINCE_TIMING
    thresholds = Thresholds(
        max_utilisation=topo.planning.max_utilisation,
        replication_lag_seconds=10.0 if topo.is_lab else 30.0,
    )
    return MonitorSettings(topo.network, timing, thresholds, Endpoints(), shards, remote_write)


def _check_url(url: str) -> None:
    netaddr.split_url(url, "--remote-write", "http://127.0.0.1:8428/api/v1/write")


def parse_listen(text: str, field: str) -> str:
    """Validate a HOST:PORT listen address; only loopback, never all interfaces."""
    netaddr.parse_listen(text, field, lab=False)
    return text
