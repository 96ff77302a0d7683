"""Stage 1 of `emops lab up`: the lab topology -> a plan of kernel objects.

Pure data, no side effects, so it is tested without root. The plan says which
network namespaces, veth pairs, bridges, addresses and token-bucket shapers
make up the twin's "hardware and cabling"; `lab.bringup` applies it.

How the twin stands in for what the kernel lacks:
- one namespace per device, named after the device;
- point-to-point links and every member of a bundle are veth pairs; the kernel
  has no bonding, so a LAG or an n x 2M bundle is n parallel veth pairs, each
  with its own /30, and the routing the playbooks configure (ECMP) spreads
  traffic over the members and survives one failing;
- every multi-access segment (VLAN) is a Linux bridge; the kernel has no 802.1Q
  devices, so there is one bridge per VLAN, all inside one "switch fabric"
  namespace (`emops-l2`) rather than in the host's namespace;
- WAN and LAG links are shaped with tbf at their inventory rate on both ends
  (layer-2 rate, as a real circuit's); one-way delay is absent (no netem here);
- an out-of-band management bridge in the host's namespace gives every device a
  `mgmt0` interface with its `ansible_host` address, as a factory-fresh device's
  management port.
"""

from __future__ import annotations

from dataclasses import dataclass
from ipaddress import IPv4Interface

from emops.errors import EmopsError
from emops.topology.model import LAB_MGMT_IFNAME, LAB_PREFIX, Topology

FABRIC_NS = "emops-l2"  # the namespace holding one bridge per segment
MGMT_BRIDGE = "emops-mgmt"  # in the host's namespace
SHAPED_ROLES = ("primary", "backup", "lag")


@dataclass(frozen=True)
class Port:
    """One end of a veth pair: where it lives, its name, its address."""

    netns: str | None  # None: the host's namespace
    ifname: str
    address: IPv4Interface | None = None


@dataclass(frozen=True)
class Veth:
    """A veth pair. `link` names the inventory link or segment it stands for."""

    a: Port
    b: Port
    link: str
    member: int | None = None  # index within a bundle
    rate_bps: float | None = None  # tbf on both ends when set
    bridge: str | None = None  # `b` is enslaved to this bridge (fabric or mgmt)


@dataclass(frozen=True)
class Bridge:
    netns: str | None
    name: str
    segment: str
    address: IPv4Interface | None = None


@dataclass(frozen=True)
class LabPlan:
    namespaces: tuple[str, ...]  # device namespaces, inventory order
    bridges: tuple[Bridge, ...]
    veths: tuple[Veth, ...]
    sites: tuple[str, ...]

    def veths_of(self, link: str) -> list[Veth]:
        return [v for v in self.veths if v.link == link]


def _bridge_name(segment: str, index: int) -> str:
    name = f"b-{segment}"
    return name if len(name) <= 15 else f"br{index}"


def plan_lab(topo: Topology) -> LabPlan:
    """The kernel objects for `topo` (already cut to the sites to build)."""
    if not topo.is_lab:
        raise EmopsError.of(
            "--inventory",
            f"{topo.source} is the {topo.network} network, not a lab",
            "build the twin from inventory/lab",
        )
    if topo.management is None or topo.management.ip not in LAB_PREFIX:
        raise EmopsError.of(
            "emops.management",
            f"the twin needs a management address in {LAB_PREFIX}",
            "set emops.management: 198.19.255.1/24",
        )
    namespaces = tuple(topo.devices)
    veths: list[Veth] = []
    for link in topo.links:
        rate = link.rate_bps if link.role in SHAPED_ROLES else None
        if link.members:
            for j, m in enumerate(link.members):
                veths.append(
                    Veth(
                        Port(m.a.device, _ifname(m.a.interface, link.name), m.a.address),
                        Port(m.b.device, _ifname(m.b.interface, link.name), m.b.address),
                        link.name,
                        j,
                        rate,
                    )
                )
        else:
            veths.append(
                Veth(
                    Port(link.a.device, _ifname(link.a.interface, link.name), link.a.address),
                    Port(link.b.device, _ifname(link.b.interface, link.name), link.b.address),
                    link.name,
                    None,
                    rate,
                )
            )
    bridges = [Bridge(None, MGMT_BRIDGE, "management", topo.management)]
    for si, seg in enumerate(topo.segments):
        bridge = _bridge_name(seg.name, si)
        bridges.append(Bridge(FABRIC_NS, bridge, seg.name))
        for mi, member in enumerate(seg.members):
            veths.append(
                Veth(
                    Port(member.device, member.interface, member.address),
                    Port(FABRIC_NS, f"s{si}p{mi}"),
                    seg.name,
                    bridge=bridge,
                )
            )
    prefix = topo.management.network.prefixlen
    for di, device in enumerate(topo.devices.values()):
        veths.append(
            Veth(
                Port(
                    device.name, LAB_MGMT_IFNAME, IPv4Interface(f"{device.mgmt_address}/{prefix}")
                ),
                Port(None, f"mg{di}"),
                "management",
                bridge=MGMT_BRIDGE,
            )
        )
    return LabPlan(namespaces, tuple(bridges), tuple(veths), tuple(topo.sites))


def _ifname(name: str | None, link: str) -> str:
    if not name:
        raise EmopsError.of(
            f"links.{link}",
            "a lab link end needs an interface name",
            "add interface: to each end (or member)",
        )
    return name
