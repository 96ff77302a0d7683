"""Contributors for the device's ports: interfaces, bundles, VLAN interfaces (with VRRP)."""

from __future__ import annotations

from emops.structured.context import Context, Data, cidr, ip

VRRP_ADVERT_MS = 200  # VRRPv3: a master that stops is replaced in about 3 x 0.2 s


def _is_vlan_interface(ctx: Context, vlan: int | None) -> bool:
    """Core switches terminate VLANs on VLAN interfaces (Vlanif); others have ports."""
    return ctx.role == "core_switch" and vlan is not None


def interfaces(ctx: Context) -> Data:
    """Routed ports, bundle members and segment (access) ports, in inventory order."""
    out = []
    for end in ctx.link_ends:
        link, peer = end.link, end.theirs.device
        if link.members:
            bundle = end.mine.interface or link.name
            for j, mine, theirs in end.member_ends():
                out.append(
                    {
                        "name": mine.interface,
                        "kind": "member",
                        "description": f"{link.name} member {j + 1} to {peer} {theirs.interface}",
                        "address": cidr(mine.address),
                        "link": link.name,
                        "link_role": link.role,
                        "member": j,
                        "bundle": bundle,
                        "rate_bps": int(link.rate_bps),
                        "peer": {
                            "device": peer,
                            "interface": theirs.interface,
                            "address": ip(theirs.address),
                        },
                        "segment": None,
                        "vlan": None,
                    }
                )
        else:
            out.append(
                {
                    "name": end.mine.interface,
                    "kind": "p2p",
                    "description": f"{link.name} to {peer} {end.theirs.interface}",
                    "address": cidr(end.mine.address),
                    "link": link.name,
                    "link_role": link.role,
                    "member": None,
                    "bundle": None,
                    "rate_bps": int(link.rate_bps),
                    "peer": {
                        "device": peer,
                        "interface": end.theirs.interface,
                        "address": ip(end.theirs.address),
                    },
                    "segment": None,
                    "vlan": None,
                }
            )
    for seg, member in ctx.memberships:
        if _is_vlan_interface(ctx, seg.vlan):
            continue
        out.append(
            {
                "name": member.interface,
                "kind": "segment",
                "description": f"{seg.name} {seg.prefix}",
                "address": cidr(member.address),
                "link": seg.name,
                "link_role": "segment",
                "member": None,
                "bundle": None,
                "rate_bps": None,
                "peer": None,
                "segment": seg.name,
                "vlan": seg.vlan,
            }
        )
    return {"interfaces": out}


def bundles(ctx: Context) -> Data:
    """Bundles this device ends: the LAG (Eth-Trunk) and n x 2M backups (Mp-group).

    `logical` says whether the bundle is one L3 interface (real gear: the
    address sits on the Eth-Trunk / Mp-group) or only a group of members that
    carry their own addresses (the twin, which has no bonding: ECMP instead).
    """
    out = []
    for end in ctx.link_ends:
        link = end.link
        if not link.members:
            continue
        out.append(
            {
                "name": end.mine.interface or link.name,
                "logical": end.mine.interface is not None,
                "kind": "eth_trunk" if link.role == "lag" else "mp_group",
                "description": f"{link.name} to {end.theirs.device}",
                "address": cidr(end.mine.address),
                "link": link.name,
                "link_role": link.role,
                "members": [mine.interface for _j, mine, _t in end.member_ends()],
                "rate_bps": int(link.rate_bps),
                "capacity_bps": int(link.capacity_bps),
                "peer": {
                    "device": end.theirs.device,
                    "interface": end.theirs.interface,
                    "address": ip(end.theirs.address),
                },
            }
        )
    return {"bundles": out}


def _uplinks(ctx: Context) -> list[str]:
    """A core's ways out: ports towards the firewall / WAN (not the LAG, not a VRRP VLAN)."""
    ups = [
        e.mine.interface
        for e in ctx.link_ends
        if e.link.role != "lag" and not e.link.members and e.mine.interface
    ]
    ups += [m.interface for seg, m in ctx.memberships if seg.vrid is None]
    return ups


def vlan_interfaces(ctx: Context) -> Data:
    """A core switch's VLAN interfaces; where the segment has a vrid, its VRRP group.

    Priority comes from `emops_priority`; the master tracks its uplinks and,
    when all are down, drops below every other router of the group (so either
    core carries everything alone); preemption gives the group back on repair.
    """
    out = []
    priority = int(ctx.vars.get("emops_priority", 100))
    advert = int(ctx.vars.get("vrrp_advert_interval_ms", VRRP_ADVERT_MS))
    uplinks = _uplinks(ctx)
    for seg, member in ctx.memberships:
        if not _is_vlan_interface(ctx, seg.vlan):
            continue
        vrrp = None
        if seg.vrid is not None and seg.gateway is not None:
            routers = [m for m in seg.members if ctx.facts.role_of(m.device) == "core_switch"]
            prios = [
                int(ctx.topo.devices[m.device].vars.get("emops_priority", 100)) for m in routers
            ]
            vrrp = {
                "vrid": seg.vrid,
                "version": 3,
                "priority": priority,
                "virtual_address": str(seg.gateway),
                "prefixlen": seg.prefix.prefixlen,
                "preempt": True,
                "advert_interval_ms": advert,
                "peers": [str(m.address.ip) for m in routers if m.device != ctx.name],
                "track": [
                    {"interface": up, "priority_decrement": max(prios) - min(prios) + 10}
                    for up in uplinks
                ],
            }
        out.append(
            {
                "name": member.interface,
                "vlan": seg.vlan,
                "segment": seg.name,
                "description": f"{seg.name} {seg.prefix}",
                "address": cidr(member.address),
                "prefix": str(seg.prefix),
                "vrrp": vrrp,
            }
        )
    return {"vlan_interfaces": out}
