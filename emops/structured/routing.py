"""Contributors for layer 3: forwarding, OSPF, static routes."""

from __future__ import annotations

from emops.structured.context import OSPF_COST, OSPF_SEGMENT_COST, Context, Data

SPF_THROTTLE_MS = {"delay": 0, "initial_hold": 50, "max_hold": 1000}
# LSA origination and arrival limits (OSPF's 5 s / 1 s defaults would hold a
# repaired link's return for up to 5 s after its failure)
LSA_TIMERS_MS = {"throttle": 200, "min_arrival": 100}
HELLO_MULTIPLIER = 4  # hellos per second; a neighbour is dead after 1 s of silence
RETRANSMIT_INTERVAL_S = 1  # a lost database-description packet costs 1 s, not OSPF's 5
MAXIMUM_PATHS = 8  # enough for a 4 x 2M backup bundle and the two-member LAG


def forwarding(ctx: Context) -> Data:
    """Routers forward; ECMP hashes on ports so flows spread over bundle members."""
    routes = ctx.facts.routes(ctx.name)
    return {"forwarding": {"ip_forward": routes, "multipath_hash_l4": routes}}


def _segment_is_transit(ctx: Context, seg) -> bool:
    """A segment OSPF runs on: no VRRP group (not a server VLAN) and two or more routers."""
    routers = [m for m in seg.members if ctx.facts.routes(m.device)]
    return seg.vrid is None and len(routers) >= 2


def ospf(ctx: Context) -> Data:
    """OSPF area 0 on every routing device.

    Costs: LAG members 1, private links 10, backup members 100, other links and
    segments 10. Point-to-point links use the p2p network type; segments run
    OSPF only where routers meet (the transit VLAN), elsewhere they are passive
    (advertised, no hellos). In the twin, bundles have no logical interface, so
    each member runs OSPF with the bundle's cost (equal costs: ECMP).
    """
    if not ctx.facts.routes(ctx.name):
        return {"ospf": None}
    ifaces = []
    for end in ctx.link_ends:
        link = end.link
        cost = OSPF_COST.get(link.role, OSPF_SEGMENT_COST)
        if link.members and end.mine.address is None:
            for _j, mine, _theirs in end.member_ends():
                ifaces.append(_p2p(mine.interface, cost, link.name))
        else:
            ifaces.append(_p2p(end.mine.interface or link.name, cost, link.name))
    for seg, member in ctx.memberships:
        transit = _segment_is_transit(ctx, seg)
        ifaces.append(
            {
                "name": member.interface,
                "cost": OSPF_SEGMENT_COST,
                "network": "broadcast",
                "passive": not transit,
                "link": seg.name,
            }
        )
    return {
        "ospf": {
            "process": 1,
            "router_id": str(ctx.device.mgmt_address),
            "area": "0.0.0.0",
            "hello_multiplier": HELLO_MULTIPLIER,
            "retransmit_interval_s": RETRANSMIT_INTERVAL_S,
            "spf_throttle_ms": dict(SPF_THROTTLE_MS),
            "lsa_timers_ms": dict(LSA_TIMERS_MS),
            "maximum_paths": MAXIMUM_PATHS,
            "interfaces": ifaces,
        }
    }


def _p2p(name: str, cost: int, link: str) -> Data:
    return {"name": name, "cost": cost, "network": "point-to-point", "passive": False, "link": link}


def static_routes(ctx: Context) -> Data:
    """Hosts route through their segment's gateway: the lab prefix in the twin
    (never a default route there), the default route on the real network."""
    if ctx.facts.routes(ctx.name):
        return {"static_routes": []}
    for seg, member in ctx.memberships:
        if seg.gateway is not None and seg.gateway != member.address.ip:
            return {
                "static_routes": [
                    {
                        "prefix": ctx.facts.host_route,
                        "next_hop": str(seg.gateway),
                        "interface": member.interface,
                        "description": f"via the {seg.name} gateway",
                    }
                ]
            }
    return {"static_routes": []}
