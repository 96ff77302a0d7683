"""What every contributor reads: the topology, the device, and a few indexes.

The indexes are computed once per topology (`Facts`), so building the
structured config of all devices stays linear in the size of the inventory.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from ipaddress import IPv4Interface
from typing import Any

from emops.errors import Problem
from emops.topology.model import LAB_PREFIX, Device, Link, Segment, SegmentMember, Topology

# Roles that route (run OSPF, forward packets); every other device is a host.
ROUTING_ROLES = ("core_switch", "wan_router", "firewall")

# The port each server role answers on, unless the host sets `service_port`.
SERVICE_PORTS = {
    "load_balancer": 80,
    "web": 80,
    "app": 8080,
    "db": 5432,
    "stats": 8080,
    "interface": 8090,
    "cti": 5038,
}

# OSPF cost per link role: a bundle's members share its cost (ECMP), the private
# link beats the backup bundle, so the backup carries traffic only when it is down.

# How each server group's own service answers a health check (the marketing and
# report services' health route; the CTI and unified-interface stand-ins answer any
# path). The application collector checks these; the alert rules name their servers.
SERVICE_HEALTH_PATHS = {"app": "/healthz", "stats": "/healthz", "interface": "/", "cti": "/"}


def service_port(device: Device) -> int:
    """The port a server answers on: its `service_port`, else its role's."""
    return int(device.vars.get("service_port", SERVICE_PORTS.get(device.role, 0)))


OSPF_COST = {"lag": 1, "primary": 10, "lan": 10, "backup": 100}
OSPF_SEGMENT_COST = 10

Data = dict[str, Any]


def ip(value: IPv4Interface | None) -> str | None:
    """'198.18.0.1' of an interface address, None when absent."""
    return str(value.ip) if value is not None else None


def cidr(value: IPv4Interface | None) -> str | None:
    """'198.18.0.1/30' of an interface address, None when absent."""
    return str(value) if value is not None else None


@dataclass(frozen=True)
class LinkEnd:
    """One device's side of a link: what it owns and what it faces."""

    link: Link
    side: str  # "a" or "b"

    @property
    def mine(self):
        return self.link.a if self.side == "a" else self.link.b

    @property
    def theirs(self):
        return self.link.b if self.side == "a" else self.link.a

    def member_ends(self):
        """(index, my member endpoint, peer member endpoint) for each bundle member."""
        for j, m in enumerate(self.link.members):
            yield (j, m.a, m.b) if self.side == "a" else (j, m.b, m.a)


@dataclass
class Facts:
    """Indexes over one topology, shared by every device's build."""

    topo: Topology
    problems: list[Problem] = field(default_factory=list)

    @cached_property
    def link_ends(self) -> dict[str, list[LinkEnd]]:
        ends: dict[str, list[LinkEnd]] = {}
        for link in self.topo.links:
            ends.setdefault(link.a.device, []).append(LinkEnd(link, "a"))
            if link.b.device != link.a.device:
                ends.setdefault(link.b.device, []).append(LinkEnd(link, "b"))
        return ends

    @cached_property
    def memberships(self) -> dict[str, list[tuple[Segment, SegmentMember]]]:
        out: dict[str, list[tuple[Segment, SegmentMember]]] = {}
        for seg in self.topo.segments:
            for member in seg.members:
                out.setdefault(member.device, []).append((seg, member))
        return out

    def role_of(self, device: str) -> str:
        return self.topo.devices[device].role

    def routes(self, device: str) -> bool:
        return self.role_of(device) in ROUTING_ROLES

    def service_address(self, device: str) -> str | None:
        """A host's data-plane address: its first segment address."""
        for _seg, member in self.memberships.get(device, []):
            return str(member.address.ip)
        for end in self.link_ends.get(device, []):
            if end.mine.address is not None:
                return str(end.mine.address.ip)
        return None

    def devices_with_role(self, role: str, site: str | None = None) -> list[Device]:
        return [
            d
            for d in self.topo.devices.values()
            if d.role == role and (site is None or d.site == site)
        ]

    def service_port(self, device: Device) -> int:
        return service_port(device)

    @property
    def host_route(self) -> str:
        """What hosts route via their gateway: the lab prefix in the twin (it must
        never get a default route), the default route on the real network."""
        return str(LAB_PREFIX) if self.topo.is_lab else "0.0.0.0/0"

    def problem(self, device: str, field: str, message: str, hint: str = "") -> None:
        self.problems.append(Problem(field, message, hint, host=device))


@dataclass(frozen=True)
class Context:
    """One device being built."""

    facts: Facts
    device: Device

    @property
    def topo(self) -> Topology:
        return self.facts.topo

    @property
    def name(self) -> str:
        return self.device.name

    @property
    def vars(self) -> dict[str, Any]:
        return self.device.vars

    @property
    def role(self) -> str:
        return self.device.role

    @property
    def link_ends(self) -> list[LinkEnd]:
        return self.facts.link_ends.get(self.name, [])

    @property
    def memberships(self) -> list[tuple[Segment, SegmentMember]]:
        return self.facts.memberships.get(self.name, [])

    def problem(self, field: str, message: str, hint: str = "") -> None:
        self.facts.problem(self.name, field, message, hint)
