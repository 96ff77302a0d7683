"""What the monitoring needs to know from the topology, in one place.

The rules read the inventory only through these small views (service VIPs,
VRRP pairs, databases, load balancers), so a rule module never walks the model
itself and every list comes out sorted: the generated files are stable.
"""

from __future__ import annotations

from dataclasses import dataclass

from emops.topology import Topology
from emops.topology.model import Device

ROUTING_ROLES = ("core_switch", "wan_router", "firewall")  # who runs a segment's gateway VRRP


@dataclass(frozen=True)
class ServiceVip:
    """A service virtual address held by a load-balancer pair."""

    service: str
    address: str
    port: int | None
    segment: str
    site: str
    owners: tuple[str, ...]

    @property
    def endpoint(self) -> str:
        return f"{self.address}:{self.port}" if self.port else self.address


@dataclass(frozen=True)
class VrrpPair:
    """A VRRP group from the inventory: the devices that must elect exactly one master."""

    name: str  # the VIP's service name, or the segment's name for its gateway
    segment: str
    site: str
    vrid: int
    devices: tuple[str, ...]
    service: str | None = None  # set for service VIPs


@dataclass(frozen=True)
class Database:
    device: str
    site: str
    role: str  # device role (db)
    db_role: str  # primary | standby (host variable db_role)


def service_vips(topo: Topology) -> list[ServiceVip]:
    vips = [
        ServiceVip(v.name, str(v.address), v.port, seg.name, seg.site, tuple(sorted(v.owners)))
        for seg in topo.segments
        for v in seg.vips
    ]
    return sorted(vips, key=lambda v: v.service)


def vrrp_pairs(topo: Topology) -> list[VrrpPair]:
    """Segment gateways with a vrid (run by the segment's routers) and service VIPs."""
    pairs: list[VrrpPair] = []
    for seg in topo.segments:
        if seg.vrid is not None:
            routers = sorted(
                m.device for m in seg.members if topo.devices[m.device].role in ROUTING_ROLES
            )
            if len(routers) >= 2:
                pairs.append(VrrpPair(seg.name, seg.name, seg.site, seg.vrid, tuple(routers)))
        for vip in seg.vips:
            owners = tuple(sorted(vip.owners))
            pairs.append(VrrpPair(vip.name, seg.name, seg.site, vip.vrid, owners, vip.name))
    return sorted(pairs, key=lambda p: (p.segment, p.name))


def databases(topo: Topology) -> list[Database]:
    result = [
        Database(d.name, d.site, d.role, str(d.vars.get("db_role", "primary")))
        for d in topo.devices_with_role("db")
    ]
    return sorted(result, key=lambda d: d.device)


def load_balancers(topo: Topology) -> list[Device]:
    return sorted(topo.devices_with_role("load_balancer"), key=lambda d: d.name)
