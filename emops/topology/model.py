"""The typed topology model: sites, devices, links, segments, traffic.

Built once from the inventory by `emops.topology.load_topology`; every
other part of emops (capacity, lab, collectors, campaigns) reads this model and
never the YAML itself. Objects are frozen: the model is a snapshot of intent.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from ipaddress import IPv4Address, IPv4Interface, IPv4Network
from typing import Literal

LAB_PREFIX = IPv4Network("198.18.0.0/15")  # RFC 2544 benchmarking range: the twin's only space
LAB_MGMT_IFNAME = "mgmt0"  # every twin device's out-of-band management port

SiteKind = Literal["hq", "municipal", "county"]
LinkRole = Literal["primary", "backup", "lag", "lan"]
LINK_ROLES: tuple[LinkRole, ...] = ("primary", "backup", "lag", "lan")
PLATFORMS = ("huawei_vrp", "cisco_ios", "frr", "linux")
# The vendor face a twin device shows over SNMP (host var emops_snmp_face; lab.vendor_agent).
SNMP_FACES = ("huawei_vrp", "cisco_ios")

# Ansible role group -> device role. A host is in exactly one of these groups.
ROLE_GROUPS = {
    "core_switches": "core_switch",
    "firewalls": "firewall",
    "wan_routers": "wan_router",
    "load_balancers": "load_balancer",
    "web_servers": "web",
    "app_servers": "app",
    "db_servers": "db",
    "stats_servers": "stats",
    "interface_servers": "interface",
    "cti_servers": "cti",
    "clients": "client",
}


@dataclass(frozen=True)
class Transaction:
    """A ping-pong exchange shape: K packets of M bytes in each direction."""

    name: str
    packets: int
    packet_bytes: float
    critical: bool


@dataclass(frozen=True)
class BulkJob:
    """A bulk transfer: F bytes that must arrive within R seconds."""

    name: str
    size_bytes: float
    required_time_s: float
    critical: bool


@dataclass(frozen=True)
class PingPongLoad:
    transaction: Transaction
    users: int
    think_time_s: float


@dataclass(frozen=True)
class BulkLoad:
    job: BulkJob
    concurrent: int = 1


@dataclass(frozen=True)
class TrafficProfile:
    pingpong: tuple[PingPongLoad, ...] = ()
    bulk: tuple[BulkLoad, ...] = ()


@dataclass(frozen=True)
class Site:
    """HQ, a municipal company, or a county company below one."""

    name: str
    kind: SiteKind
    description: str = ""
    parent: str | None = None
    lan_prefix: IPv4Network | None = None
    traffic: TrafficProfile = TrafficProfile()
    counties: tuple[Site, ...] = ()


@dataclass(frozen=True)
class Device:
    name: str
    site: str
    role: str
    platform: str
    mgmt_address: IPv4Address
    model: str = ""
    groups: tuple[str, ...] = ()
    vars: dict = field(default_factory=dict, compare=False, repr=False)
    snmp_face: str | None = None  # twin only: huawei_vrp | cisco_ios health tables


@dataclass(frozen=True)
class Endpoint:
    device: str
    interface: str | None = None
    address: IPv4Interface | None = None


@dataclass(frozen=True)
class Member:
    """One physical member of a bundle (LAG or n x 2M backup)."""

    a: Endpoint
    b: Endpoint


@dataclass(frozen=True)
class Link:
    """A point-to-point link, or a bundle of parallel members."""

    name: str
    role: LinkRole
    rate_bps: float  # per member for bundles
    a: Endpoint
    b: Endpoint
    members: tuple[Member, ...] = ()
    delay_s: float = 0.0

    @property
    def capacity_bps(self) -> float:
        return self.rate_bps * max(1, len(self.members))

    @property
    def devices(self) -> tuple[str, str]:
        return (self.a.device, self.b.device)


@dataclass(frozen=True)
class SegmentMember:
    device: str
    interface: str
    address: IPv4Interface


@dataclass(frozen=True)
class Vip:
    """A service virtual address held by a pair (keepalived)."""

    name: str
    address: IPv4Address
    owners: tuple[str, ...]
    vrid: int
    port: int | None = None


@dataclass(frozen=True)
class Segment:
    """A multi-access LAN segment / VLAN (one Linux bridge in the twin)."""

    name: str
    site: str
    prefix: IPv4Network
    members: tuple[SegmentMember, ...]
    vlan: int | None = None
    gateway: IPv4Address | None = None
    vrid: int | None = None
    vips: tuple[Vip, ...] = ()


@dataclass(frozen=True)
class Circuit:
    """A standard circuit the planner may recommend (n x 2M, 34M, 155M, GE)."""

    name: str
    rate_bps: float
    members: int = 1
    roles: tuple[str, ...] = ("primary", "backup")  # link roles it may serve

    @property
    def capacity_bps(self) -> float:
        return self.rate_bps * self.members


@dataclass(frozen=True)
class Planning:
    headroom: float = 0.3
    overhead: float = 1.05
    max_utilisation: float = 0.7


@dataclass(frozen=True)
class Topology:
    """The whole network as the inventory describes it."""

    network: str  # "province" or "lab"
    source: str  # inventory path
    sites: dict[str, Site]
    devices: dict[str, Device]
    links: tuple[Link, ...]
    segments: tuple[Segment, ...]
    circuits: tuple[Circuit, ...]
    link_rates: tuple[float, ...]
    planning: Planning
    management: IPv4Interface | None = None  # the controller's side of the management network

    @property
    def is_lab(self) -> bool:
        return self.network == "lab"

    def municipal_sites(self) -> list[Site]:
        return [s for s in self.sites.values() if s.kind == "municipal"]

    def devices_at(self, site: str) -> list[Device]:
        return [d for d in self.devices.values() if d.site == site]

    def devices_with_role(self, role: str) -> list[Device]:
        return [d for d in self.devices.values() if d.role == role]

    def site_of_link(self, link: Link) -> str:
        """The site a WAN link serves: its non-HQ end (HQ for links inside HQ)."""
        for name in link.devices:
            site = self.devices[name].site
            if self.sites[site].kind != "hq":
                return site
        return self.devices[link.a.device].site

    @cached_property
    def _wan_index(self) -> dict[tuple[str, str], list[Link]]:
        index: dict[tuple[str, str], list[Link]] = {}
        for link in self.links:
            index.setdefault((self.site_of_link(link), link.role), []).append(link)
        return index

    def wan_links(self, site: str, role: LinkRole) -> list[Link]:
        """The links of `role` serving `site` (its private link, its backup bundle)."""
        return list(self._wan_index.get((site, role), []))

    def subset(self, municipal: int) -> Topology:
        """HQ plus the first `municipal` municipal companies, in inventory order:
        what `emops lab up --sites N` builds."""
        keep_sites = {s.name for s in self.sites.values() if s.kind == "hq"}
        keep_sites |= {s.name for s in self.municipal_sites()[:municipal]}
        devices = {n: d for n, d in self.devices.items() if d.site in keep_sites}
        return Topology(
            network=self.network,
            source=self.source,
            sites={n: s for n, s in self.sites.items() if n in keep_sites},
            devices=devices,
            links=tuple(lk for lk in self.links if set(lk.devices) <= devices.keys()),
            segments=tuple(sg for sg in self.segments if sg.site in keep_sites),
            circuits=self.circuits,
            link_rates=self.link_rates,
            planning=self.planning,
            management=self.management,
        )
