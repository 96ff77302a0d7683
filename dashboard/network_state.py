"""The network's state now, per device and per link, from a few PromQL answers.

Pure functions over the topology model and query samples, so the drawing, the
tables and the tests share one reading of the metrics: a link is `down` when
none of its members is up, `degraded` when some are, `unknown` when nothing
reports on it; a backup bundle `carries` traffic above a small floor (0.5 % of
capacity, the monitoring rules' threshold for "failed over").
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from dashboard.prometheus import Sample
from emops.topology.model import Link, Topology

BACKUP_CARRYING_RATIO = 0.005  # emops.monitoring: backup traffic above this = failed over


@dataclass(frozen=True)
class LinkState:
    """One link (or bundle) of the inventory as the metrics see it now."""

    link: str
    role: str
    site: str
    capacity_bps: float
    members: int
    members_up: int | None  # None: no interface of the link reports
    bits_per_second: float | None
    utilisation: float | None

    @property
    def status(self) -> str:
        if self.members_up is None:
            return "unknown"
        if self.members_up == 0:
            return "down"
        return "degraded" if self.members_up < self.members else "up"

    @property
    def carrying(self) -> bool:
        """A backup bundle carrying real traffic: its site has failed over."""
        return self.role == "backup" and (self.utilisation or 0.0) > BACKUP_CARRYING_RATIO


@dataclass(frozen=True)
class NetworkState:
    devices: dict[str, bool | None]  # device -> SNMP agent answered (None: not polled)
    links: dict[str, LinkState]

    def site_devices(self, topo: Topology, site: str) -> dict[str, bool | None]:
        return {d.name: self.devices.get(d.name) for d in topo.devices_at(site)}

    def site_links(self, topo: Topology, site: str) -> list[LinkState]:
        return [s for s in self.links.values() if s.site == site]


def _by_link(samples: list[Sample]) -> dict[str, float]:
    return {s.labels.get("link", ""): s.value for s in samples}


def _members_up(samples: list[Sample]) -> dict[str, int]:
    up: dict[str, int] = defaultdict(int)
    for s in samples:
        up[s.labels.get("link", "")] += int(s.value >= 1)
    return up


def link_state(
    topo: Topology,
    link: Link,
    members_up: dict[str, int],
    bps: dict[str, float],
    utilisation: dict[str, float],
) -> LinkState:
    return LinkState(
        link=link.name,
        role=link.role,
        site=topo.site_of_link(link),
        capacity_bps=link.capacity_bps,
        members=max(1, len(link.members)),
        members_up=members_up.get(link.name),
        bits_per_second=bps.get(link.name),
        utilisation=utilisation.get(link.name),
    )


def network_state(
    topo: Topology,
    devices_up: list[Sample],
    members_up: list[Sample],
    bits_per_second: list[Sample],
    utilisation: list[Sample],
) -> NetworkState:
    """Combine the device, member, traffic and utilisation answers with the inventory."""
    devices = {name: None for name in topo.devices} | {
        s.labels["device"]: s.value >= 1 for s in devices_up if "device" in s.labels
    }
    up, bps, util = _members_up(members_up), _by_link(bits_per_second), _by_link(utilisation)
    links = {lk.name: link_state(topo, lk, up, bps, util) for lk in topo.links}
    return NetworkState(devices, links)
