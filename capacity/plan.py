"""Size every WAN link of a topology from the traffic profiles of its sites.

A municipal company's private link must carry the demand of the company and of
every county below it; its backup bundle must carry at least their critical
traffic when the private link fails. Demand is per direction (links are full
duplex): ping-pong exchanges by the paper's formula (the refined form beside
it), bulk jobs by the bulk formula.
"""

from __future__ import annotations

from dataclasses import dataclass

from capacity.formulas import bulk_bps, pingpong_bps, pingpong_refined_bps
from emops.topology.model import Circuit, Link, Site, Topology, TrafficProfile


@dataclass(frozen=True)
class Demand:
    """Bits per second one direction needs, split the ways the plan reports."""

    pingpong_bps: float = 0.0
    pingpong_refined_bps: float = 0.0
    bulk_bps: float = 0.0

    @property
    def total_bps(self) -> float:
        return self.pingpong_bps + self.bulk_bps

    @property
    def total_refined_bps(self) -> float:
        return self.pingpong_refined_bps + self.bulk_bps

    def __add__(self, other: Demand) -> Demand:
        return Demand(
            self.pingpong_bps + other.pingpong_bps,
            self.pingpong_refined_bps + other.pingpong_refined_bps,
            self.bulk_bps + other.bulk_bps,
        )


@dataclass(frozen=True)
class LinkPlan:
    """One row of the plan: a WAN link, what it must carry, what it should be."""

    site: str
    link: str
    role: str  # primary | backup
    capacity_bps: float
    demand: Demand  # primary: all traffic; backup: critical traffic only
    utilisation: float  # demand / capacity
    required_bps: float  # demand with headroom
    recommended: str  # the smallest standard circuit that carries required_bps
    status: str  # ok | upgrade

    @property
    def demand_bps(self) -> float:
        return self.demand.total_bps


def profile_demand(
    traffic: TrafficProfile,
    delay_s: float,
    link_bps: float | None,
    overhead: float,
    critical_only: bool = False,
) -> Demand:
    """Demand of one site's traffic profile over a link with one-way delay `delay_s`."""
    demand = Demand()
    for load in traffic.pingpong:
        tx = load.transaction
        if critical_only and not tx.critical:
            continue
        demand += Demand(
            pingpong_bps=pingpong_bps(
                load.users, load.think_time_s, tx.packets, tx.packet_bytes, delay_s
            ),
            pingpong_refined_bps=pingpong_refined_bps(
                load.users, load.think_time_s, tx.packets, tx.packet_bytes, delay_s, link_bps
            ),
        )
    for load in traffic.bulk:
        if critical_only and not load.job.critical:
            continue
        one = bulk_bps(load.job.size_bytes, load.job.required_time_s, overhead)
        demand += Demand(bulk_bps=one * load.concurrent)
    return demand


def site_demand(site: Site, link: Link, overhead: float, critical_only: bool = False) -> Demand:
    """The site's own demand plus that of every county below it, over `link`."""
    total = Demand()
    for s in (site, *site.counties):
        total += profile_demand(s.traffic, link.delay_s, link.capacity_bps, overhead, critical_only)
    return total


def recommend(required_bps: float, circuits: tuple[Circuit, ...], role: str) -> str:
    """The smallest standard circuit for `role` that carries `required_bps`."""
    for circuit in sorted(circuits, key=lambda c: c.capacity_bps):
        if role in circuit.roles and circuit.capacity_bps >= required_bps:
            return circuit.name
    return "none fits"


def plan_links(topo: Topology, headroom: float | None = None) -> list[LinkPlan]:
    """One LinkPlan per WAN link (primary, then backup) of every municipal site."""
    planning = topo.planning
    headroom = planning.headroom if headroom is None else headroom
    rows: list[LinkPlan] = []
    for site in topo.municipal_sites():
        for role in ("primary", "backup"):
            for link in topo.wan_links(site.name, role):
                critical = role == "backup"
                demand = site_demand(site, link, planning.overhead, critical_only=critical)
                required = demand.total_bps * (1 + headroom)
                utilisation = demand.total_bps / link.capacity_bps
                if critical:
                    fits = required <= link.capacity_bps
                else:
                    fits = utilisation <= planning.max_utilisation and required <= link.capacity_bps
                rows.append(
                    LinkPlan(
                        site=site.name,
                        link=link.name,
                        role=role,
                        capacity_bps=link.capacity_bps,
                        demand=demand,
                        utilisation=utilisation,
                        required_bps=required,
                        recommended=recommend(required, topo.circuits, role),
                        status="ok" if fits else "upgrade",
                    )
                )
    return rows
