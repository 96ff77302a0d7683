"""Cross-checks on the whole model: what no single field can tell.

Stage 3 of the topology pipeline. Each check is a small function returning
problems; `check_topology` runs them all in a fixed order, and only on a model
whose fields all read without problems (the checkpoint in `fields.py`), so a
check never reports the consequence of a mistake already reported. `where` maps
a field name to the file:line it came from.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import replace
from ipaddress import IPv4Address, IPv4Network

from emops.errors import Problem
from emops.topology.model import LAB_PREFIX, Topology
from emops.yamlread import Category


def _place(where: Mapping[str, str], field: str, device: str = "") -> str:
    """Where `field` was written; `ansible_host`, a host variable, is found per host."""
    if device and field == "ansible_host":
        return where.get(f"hosts.{device}.ansible_host", "")
    return where.get(field, "")


def _addresses(topo: Topology) -> Iterator[tuple[IPv4Address, str, str]]:
    """Every configured address with the field that sets it and its device."""
    if topo.management is not None:
        yield topo.management.ip, "emops.management", ""
    for d in topo.devices.values():
        yield d.mgmt_address, "ansible_host", d.name
    for link in topo.links:
        for side, ep in (("a", link.a), ("b", link.b)):
            if ep.address:
                yield ep.address.ip, f"links.{link.name}.{side}.address", ep.device
        for j, m in enumerate(link.members):
            for side, ep in (("a", m.a), ("b", m.b)):
                if ep.address:
                    yield ep.address.ip, f"links.{link.name}.members[{j}].{side}.address", ep.device
    for seg in topo.segments:
        for j, m in enumerate(seg.members):
            yield m.address.ip, f"segments.{seg.name}.members[{j}].address", m.device
        for j, v in enumerate(seg.vips):
            yield v.address, f"segments.{seg.name}.vips[{j}].address", ""


def check_unique_addresses(topo: Topology, where: Mapping[str, str]) -> list[Problem]:
    seen: dict[IPv4Address, str] = {}
    problems = []
    for address, field, device in _addresses(topo):
        if address in seen:
            problems.append(
                Problem(
                    field,
                    f"duplicate address {address}, also set by {seen[address]}",
                    "give each interface its own address",
                    _place(where, field, device),
                    device,
                )
            )
        else:
            seen[address] = field
    return problems


def check_address_space(
    topo: Topology, spaces: list[IPv4Network], where: Mapping[str, str]
) -> list[Problem]:
    """The twin stays inside the lab prefix; the province inside its address space."""
    allowed = [LAB_PREFIX] if topo.is_lab else spaces
    if not allowed:
        return []
    problems = []
    subnets = [(s.prefix, f"segments.{s.name}.prefix") for s in topo.segments]
    for address, field, device in _addresses(topo):
        if not any(address in net for net in allowed):
            what = (
                "a lab address outside the lab prefix"
                if topo.is_lab
                else "outside emops.address_space"
            )
            hint = (
                f"use an address in {LAB_PREFIX}"
                if topo.is_lab
                else "fix the address or widen emops.address_space"
            )
            problems.append(
                Problem(field, f"{address} is {what}", hint, _place(where, field, device), device)
            )
    for prefix, field in subnets:
        if not any(prefix.subnet_of(net) for net in allowed):
            problems.append(
                Problem(
                    field,
                    f"{prefix} is outside {', '.join(map(str, allowed))}",
                    "use a prefix inside the allowed space",
                    where.get(field, ""),
                )
            )
    return problems


def check_wan(topo: Topology, where: Mapping[str, str]) -> list[Problem]:
    """Every municipal company has one primary link and one backup bundle to HQ."""
    problems = []
    for site in topo.municipal_sites():
        for role, hint in (
            ("primary", "add a 155M or GE private link to the HQ private WAN router"),
            ("backup", "add a backup bundle of 1-4 x 2M to the HQ backup WAN router"),
        ):
            found = topo.wan_links(site.name, role)
            if len(found) != 1:
                problems.append(
                    Problem(
                        f"links ({role})",
                        f"site {site.name} has {len(found)} {role} links",
                        hint,
                        where.get("links", ""),
                    )
                )
    for link in topo.links:
        if link.role not in ("primary", "backup"):
            continue
        kinds = sorted(topo.sites[topo.devices[d].site].kind for d in link.devices)
        roles = {topo.devices[d].role for d in link.devices}
        if kinds != ["hq", "municipal"] or roles != {"wan_router"}:
            problems.append(
                Problem(
                    f"links.{link.name}.role",
                    f"a {link.role} link must join an HQ and a municipal WAN router",
                    "fix its endpoints or make it role: lan",
                    where.get(f"links.{link.name}.rate", ""),
                )
            )
    return problems


def check_interfaces(topo: Topology, where: Mapping[str, str]) -> list[Problem]:
    """An interface name is used once per device; lab names fit Linux (15 chars)."""
    used: dict[tuple[str, str], str] = {}
    problems = []

    def claim(device: str, iface: str | None, field: str) -> None:
        if iface is None:
            return
        if (device, iface) in used:
            problems.append(
                Problem(
                    field,
                    f"interface {iface} of {device} is also used by {used[device, iface]}",
                    "use another interface",
                    where.get(field, ""),
                    device,
                )
            )
        used[device, iface] = field
        if topo.is_lab and len(iface) > 15:
            problems.append(
                Problem(
                    field,
                    f"interface name {iface!r} is longer than 15 characters",
                    "Linux names are at most 15 characters",
                    where.get(field, ""),
                    device,
                )
            )

    for link in topo.links:
        claim(link.a.device, link.a.interface, f"links.{link.name}.a.interface")
        claim(link.b.device, link.b.interface, f"links.{link.name}.b.interface")
        for j, m in enumerate(link.members):
            claim(m.a.device, m.a.interface, f"links.{link.name}.members[{j}].a.interface")
            claim(m.b.device, m.b.interface, f"links.{link.name}.members[{j}].b.interface")
    for seg in topo.segments:
        for j, m in enumerate(seg.members):
            claim(m.device, m.interface, f"segments.{seg.name}.members[{j}].interface")
    return problems


def check_point_to_point(topo: Topology, where: Mapping[str, str]) -> list[Problem]:
    """Both ends of a link (or member) sit in one subnet."""
    problems = []
    for link in topo.links:
        pairs = [(link.a, link.b, f"links.{link.name}")]
        pairs += [(m.a, m.b, f"links.{link.name}.members[{j}]") for j, m in enumerate(link.members)]
        for a, b, field in pairs:
            if a.address and b.address and a.address.network != b.address.network:
                problems.append(
                    Problem(
                        f"{field}.b.address",
                        f"{b.address} is not in {a.address.network}",
                        "put both ends in one subnet",
                        where.get(f"{field}.b.address", ""),
                        b.device,
                    )
                )
    return problems


def check_segments(topo: Topology, where: Mapping[str, str]) -> list[Problem]:
    """The gateway's VRRP group and each VIP's are distinct on a segment."""
    problems = []
    vrids: dict[tuple[str, int], str] = {}
    for seg in topo.segments:
        ids = ([seg.vrid] if seg.vrid else []) + [v.vrid for v in seg.vips]
        for vrid in ids:
            if (seg.name, vrid) in vrids:
                field = f"segments.{seg.name}.vrid"
                problems.append(
                    Problem(
                        field,
                        f"VRRP id {vrid} used twice on {seg.name}",
                        "give the gateway and each VIP its own vrid",
                        where.get(field, ""),
                    )
                )
            vrids[seg.name, vrid] = seg.name
    return problems


def check_management(topo: Topology, where: Mapping[str, str]) -> list[Problem]:
    """Every device's management address sits in the management network."""
    if topo.management is None:
        return []
    network = topo.management.network
    return [
        Problem(
            "ansible_host",
            f"{d.mgmt_address} is outside the management network {network}",
            "use an address of emops.management's prefix",
            _place(where, "ansible_host", d.name),
            d.name,
        )
        for d in topo.devices.values()
        if d.mgmt_address not in network
    ]


def check_topology(
    topo: Topology, spaces: list[IPv4Network], where: Mapping[str, str]
) -> list[Problem]:
    """Every cross-check, in a fixed order; run only on a model whose fields all read."""
    found = [
        *check_unique_addresses(topo, where),
        *check_address_space(topo, spaces, where),
        *check_wan(topo, where),
        *check_interfaces(topo, where),
        *check_point_to_point(topo, where),
        *check_segments(topo, where),
        *check_management(topo, where),
    ]
    return [replace(p, category=Category.CONSISTENCY) for p in found]
