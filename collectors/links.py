"""Which inventory link or segment each device interface belongs to.

The lab names interfaces exactly as the inventory does, so the mapping is a
pure function of the topology model: point-to-point link ends, bundle members
(with their member index, counted from 0 as `emops lab fault link-down --member`
does), segment ports, and the twin's management port.
"""

from __future__ import annotations

from dataclasses import dataclass

from emops.topology.model import LAB_MGMT_IFNAME, Topology


@dataclass(frozen=True)
class LinkRef:
    """The `link`, `link_role` and `member` labels of one interface."""

    link: str = ""
    link_role: str = ""
    member: str = ""


UNLINKED = LinkRef()


def interface_links(topo: Topology) -> dict[tuple[str, str], LinkRef]:
    """(device, ifname) -> LinkRef for every interface the inventory names."""
    refs: dict[tuple[str, str], LinkRef] = {}
    for link in topo.links:
        if link.members:
            for index, member in enumerate(link.members):
                for end in (member.a, member.b):
                    if end.interface:
                        refs[(end.device, end.interface)] = LinkRef(
                            link.name, link.role, str(index)
                        )
        for end in (link.a, link.b):
            if end.interface:
                refs[(end.device, end.interface)] = LinkRef(link.name, link.role)
    for segment in topo.segments:
        for port in segment.members:
            refs[(port.device, port.interface)] = LinkRef(segment.name, "segment")
    if topo.is_lab:
        for device in topo.devices:
            refs.setdefault((device, LAB_MGMT_IFNAME), LinkRef("management", "management"))
    return refs


def link_capacities(topo: Topology) -> list[tuple[str, str, str, float]]:
    """(link, link_role, site, bits per second) from the inventory: rate x members."""
    return [(lk.name, lk.role, topo.site_of_link(lk), lk.capacity_bps) for lk in topo.links]
