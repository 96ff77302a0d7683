"""What the monitoring needs to know from the topology, in one place.

The rules read the inventory only through these small views (service VIPs,
VRRP pairs, databases, load balancers, OSPF adjacencies), so a rule module never
walks the model itself and every list comes out sorted: the generated files are
stable.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import permutations

from emops.structured.context import Data
from emops.structured.pipeline import structured_configs
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
class OspfAdjacency:
    """One OSPF neighbour a router must have, as its OSPF-MIB row will name it."""

    device: str  # the router that holds the neighbour row
    site: str
    role: str
    neighbor_device: str  # the inventory name of the neighbour
    neighbor: str  # the neighbour's router id (ospfNbrRtrId)
    address: str  # the neighbour's address on the shared link (ospfNbrIpAddr)
    link: str  # the inventory link or segment the adjacency runs over
    member: str  # bundle member index when each member runs OSPF (the twin), else ""
    min_state: int  # 8 full; 4 two-way between two DROthers of a 4+ router segment


FULL, TWO_WAY = 8, 4


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


def _ports(config: Data) -> dict[str, Data]:
    """Every addressed port of a structured config by name (routed, bundle, VLAN interface)."""
    ports = config["interfaces"] + config["bundles"] + config["vlan_interfaces"]
    return {p["name"]: p for p in ports}


def ospf_adjacencies(topo: Topology) -> list[OspfAdjacency]:
    """Who must see whom, from the structured config's OSPF section (the same one the
    routers are configured from): a point-to-point port's peer, and every other
    speaking router of a broadcast segment. Passive interfaces form no adjacency."""
    configs = structured_configs(topo)
    router_id = {n: c["ospf"]["router_id"] for n, c in configs.items() if c.get("ospf")}
    found: list[OspfAdjacency] = []
    on_segment: dict[str, list[tuple[str, str]]] = {}  # segment -> (device, address)

    def add(device: str, peer: str, address: str, link: str, member: str, state: int) -> None:
        dev = topo.devices[device]
        found.append(
            OspfAdjacency(
                device, dev.site, dev.role, peer, router_id[peer], address, link, member, state
            )
        )

    for name in router_id:
        ports = _ports(configs[name])
        for iface in configs[name]["ospf"]["interfaces"]:
            port = ports[iface["name"]]
            if iface["passive"]:
                continue
            if iface["network"] == "broadcast":
                on_segment.setdefault(iface["link"], []).append((name, port["address"]))
                continue
            peer = port["peer"]
            member = "" if port.get("member") is None else str(port["member"])
            if peer["device"] in router_id:
                add(name, peer["device"], peer["address"], iface["link"], member, FULL)
    for segment, speakers in on_segment.items():
        state = FULL if len(speakers) <= 3 else TWO_WAY  # 3: DR, BDR and one DROther
        for (mine, _), (peer, address) in permutations(speakers, 2):
            add(mine, peer, address.split("/")[0], segment, "", state)
    return sorted(found, key=lambda a: (a.device, a.link, a.member, a.address))
