"""Contributor for the firewall: zones from the topology, allowed flows from the inventory.

Zones (each = the firewall's interfaces towards it + the networks behind it):

- `wan`: ports to the WAN routers; every municipal LAN and WAN link network;
- `lan_core`: ports on segments shared with the core switches (the transit VLAN);
- `server`: behind those same ports, the HQ server VLANs (everything the cores route);
- `database`: ports on segments holding database servers, and their networks;
- `partners`: untrusted networks (banks, online business hall, SMS, telecom) from
  the inventory's `firewall_partners: [{name, interface, networks}]`.

Flows come from `firewall_flows` (group_vars/firewalls.yml), each
`{name, from, to, protocol, ports?, from_roles?, to_roles?, to_vips?, comment?}`:
roles and VIPs name what the inventory already knows, so no address is
repeated; without them a flow covers the whole zone. Everything else is denied.
"""

from __future__ import annotations

from ipaddress import IPv4Network, collapse_addresses
from typing import Any

from emops.structured.context import Context, Data

ZONES = ("wan", "lan_core", "server", "database", "partners")
PROTOCOLS = ("tcp", "udp", "icmp")
NETWORK_ROLES = ("core_switch", "wan_router", "firewall")


def _zones(ctx: Context) -> dict[str, Data]:
    topo, facts = ctx.topo, ctx.facts
    zones: dict[str, Data] = {z: {"interfaces": [], "networks": []} for z in ZONES}
    for end in ctx.link_ends:
        if facts.role_of(end.theirs.device) == "wan_router" and end.mine.interface:
            zones["wan"]["interfaces"].append(end.mine.interface)
    wan_nets: list[IPv4Network] = []
    for link in topo.links:
        if link.role in ("primary", "backup"):
            ends = [link.a, link.b] + [e for m in link.members for e in (m.a, m.b)]
            wan_nets += [e.address.network for e in ends if e.address is not None]
    for site in topo.municipal_sites():
        if site.lan_prefix is not None:
            wan_nets.append(site.lan_prefix)
    wan_nets += [s.prefix for s in topo.segments if topo.sites[s.site].kind != "hq"]
    zones["wan"]["networks"] = wan_nets
    mine = {seg.name for seg, _m in ctx.memberships}
    for seg, member in ctx.memberships:
        roles = {facts.role_of(m.device) for m in seg.members if m.device != ctx.name}
        if "core_switch" in roles:
            zones["lan_core"]["interfaces"].append(member.interface)
            zones["lan_core"]["networks"].append(seg.prefix)
            zones["server"]["interfaces"].append(member.interface)
        if "db" in roles:
            zones["database"]["interfaces"].append(member.interface)
            zones["database"]["networks"].append(seg.prefix)
    for seg in topo.segments:
        if seg.name in mine or topo.sites[seg.site].kind != "hq":
            continue
        roles = {facts.role_of(m.device) for m in seg.members}
        if roles - set(NETWORK_ROLES) and "db" not in roles:
            zones["server"]["networks"].append(seg.prefix)
    for partner in ctx.vars.get("firewall_partners") or []:
        if partner.get("interface"):
            zones["partners"]["interfaces"].append(str(partner["interface"]))
        for net in partner.get("networks") or []:
            try:
                zones["partners"]["networks"].append(IPv4Network(str(net)))
            except ValueError:
                ctx.problem(
                    f"firewall_partners.{partner.get('name', '?')}",
                    f"{net!r} is not a network",
                    "write a prefix such as 203.0.113.0/24",
                )
    return {
        name: {
            "interfaces": sorted(set(z["interfaces"])),
            "networks": [str(n) for n in collapse_addresses(z["networks"])],
        }
        for name, z in zones.items()
    }


def _addresses_of_roles(ctx: Context, roles: list[str], field: str) -> list[str]:
    known = {d.role for d in ctx.topo.devices.values()}
    out = []
    for role in roles:
        if role not in known:
            ctx.problem(field, f"no device has role {role!r}", f"use one of {sorted(known)}")
            continue
        for dev in ctx.facts.devices_with_role(role):
            if (addr := ctx.facts.service_address(dev.name)) is not None:
                out.append(f"{addr}/32")
    return out


def _vip_addresses(ctx: Context, names: list[str], field: str) -> list[str]:
    vips = {v.name: v for s in ctx.topo.segments for v in s.vips}
    out = []
    for name in names:
        if name not in vips:
            ctx.problem(field, f"no VIP named {name!r}", f"use one of {sorted(vips)}")
        else:
            out.append(f"{vips[name].address}/32")
    return out


def _flow(ctx: Context, spec: Any, index: int, zones: dict[str, Data]) -> Data | None:
    field = f"firewall_flows[{index}]"
    if not isinstance(spec, dict) or not spec.get("name"):
        ctx.problem(field, "a flow is a mapping with a name", "see docs/playbooks.md")
        return None
    field = f"firewall_flows.{spec['name']}"
    ok = True
    for key in ("from", "to"):
        if spec.get(key) not in ZONES:
            ctx.problem(f"{field}.{key}", f"{spec.get(key)!r} is not a zone", f"use one of {ZONES}")
            ok = False
    protocol = spec.get("protocol", "tcp")
    if protocol not in PROTOCOLS:
        ctx.problem(f"{field}.protocol", f"{protocol!r} is unknown", f"use one of {PROTOCOLS}")
        ok = False
    if not ok:
        return None
    known = len(ctx.facts.problems)
    src_roles = list(spec.get("from_roles") or [])
    dst_roles = list(spec.get("to_roles") or [])
    sources = _addresses_of_roles(ctx, src_roles, f"{field}.from_roles")
    destinations = _addresses_of_roles(ctx, dst_roles, f"{field}.to_roles")
    destinations += _vip_addresses(ctx, list(spec.get("to_vips") or []), f"{field}.to_vips")
    ports = [int(p) for p in spec.get("ports") or []]
    if protocol != "icmp" and not ports:
        vips = set(spec.get("to_vips") or [])
        implied = {ctx.facts.service_port(d) for r in dst_roles for d in _role(ctx, r)}
        implied |= {v.port for s in ctx.topo.segments for v in s.vips if v.name in vips and v.port}
        ports = sorted(implied)
        if not ports:
            if len(ctx.facts.problems) == known:  # not just a consequence of a bad name
                ctx.problem(f"{field}.ports", "no ports given or implied", "add ports: [...]")
            return None
    return {
        "name": str(spec["name"]),
        "from_zone": spec["from"],
        "to_zone": spec["to"],
        "sources": sources or zones[spec["from"]]["networks"],
        "destinations": destinations or zones[spec["to"]]["networks"],
        "protocol": protocol,
        "ports": ports if protocol != "icmp" else [],
        "comment": str(spec.get("comment", "")),
    }


def _role(ctx: Context, role: str):
    return ctx.facts.devices_with_role(role)


def firewall(ctx: Context) -> Data:
    """Zones, and the flows allowed between them (default deny)."""
    if ctx.role != "firewall":
        return {"firewall": None}
    zones = _zones(ctx)
    flows = []
    for i, spec in enumerate(ctx.vars.get("firewall_flows") or []):
        if (flow := _flow(ctx, spec, i, zones)) is not None:
            flows.append(flow)
    return {"firewall": {"default_action": "drop", "zones": zones, "flows": flows}}
