"""Per-network monitoring settings: how fast to scrape, how long to wait, where things listen.

The lab twin is scraped and evaluated every second so that a fault campaign
sees alerts within seconds (its collectors poll every 5 s; traps land at
once); the province is scraped every 30 s, which is what 5,000 devices and a
real SNMP agent's CPU can bear. Every duration an alert waits is derived here,
per network, so rules stay the same text with different numbers.
"""

from __future__ import annotations

import re
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
    change_window: str  # how long a VRRP master change (or a reboot) stays visible
    health_for: str  # `for:` of CPU, memory, interface errors and missing profile data
    crosscheck_for: str  # `for:` of two independent sensors disagreeing (SNMP vs namespace)
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
    # Longer than rate_window: a single burst (a cut, a reboot) stays in rate() for one
    # window and must not fire; short enough for a campaign's cpu-high fault window.
    health_for="1m",
    # Two collectors poll on their own 5 s clocks: during a failover they may disagree for
    # one poll each; three polls of disagreement is a sensor fault, not a race.
    crosscheck_for="15s",
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
    # A router's CPU rides out routing churn and backups for minutes; 5 m is past
    # rate_window (2 m) as in the lab, and still well inside one working shift.
    health_for="5m",
    crosscheck_for="2m",  # four scrapes: the two collectors' polls must really disagree
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
    cpu_high_ratio: float = 0.9  # CpuHigh: an entity (or the device mean) busier than this
    memory_high_ratio: float = 0.9  # MemoryHigh: used / size above this
    temperature_default_celsius: float = 70.0  # TemperatureHigh where the device has no threshold
    interface_errors_per_second: float = 0.1  # 6 errors a minute on a known link, sustained
    interface_discards_per_second: float = 1.0  # discards come with congestion: a higher bar
    # HOST-RESOURCES CPU and memory judged as the device's own: not in the twin, where every
    # namespace's snmpd reads the one host's /proc (24 alerts for one busy machine); the
    # twin's vendor faces give per-device CPU and memory instead.
    host_resources: bool = True
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


_DURATION_UNITS = {"s": 1, "m": 60, "h": 3600}


def duration_seconds(duration: str) -> int:
    """`20s`, `10m`, `1h` (the one-unit Prometheus durations used above) in seconds,
    for comparisons PromQL can only make with numbers (an uptime below a window)."""
    m = re.fullmatch(r"(\d+)([smh])", duration)
    if not m:
        raise ValueError(f"{duration!r} is not a one-unit Prometheus duration")
    return int(m.group(1)) * _DURATION_UNITS[m.group(2)]


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
        host_resources=not topo.is_lab,
    )
    return MonitorSettings(topo.network, timing, thresholds, Endpoints(), shards, remote_write)


def _check_url(url: str) -> None:
    netaddr.split_url(url, "--remote-write", "http://127.0.0.1:8428/api/v1/write")


def parse_listen(text: str, field: str) -> str:
    """Validate a HOST:PORT listen address; only loopback, never all interfaces."""
    netaddr.parse_listen(text, field, lab=False)
    return text
