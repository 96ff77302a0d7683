"""Every fault the running twin can take, each with the alerts that must name it.

A random campaign (campaigns/random.yml) draws from this catalogue instead of a
hand-written schedule, so the alert rules are tried against faults nobody tuned
them for. What a fault must raise is derived from the model, never listed per
campaign: a link's name, a bundle member's link, the device itself (any alert
labelled with it) and, by role and daemon, the alert that names what the fault
takes away (the server behind a balancer, the router's OSPF peers, the server
group's service, the database).

A daemon with no alert that could name it is left out and reported as
uncovered: the draw never scores a fault nobody claims to detect, and the list
says where the monitoring is blind.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace

from emops.topology import Topology
from lab.vendor_agent import FACE_FAULTS
from loadtest.campaign import Campaign, Draw, FaultSpec
from loadtest.scoring import Matcher

# what a health fault of a vendor face raises (emops/monitoring/rules/health.py)
HEALTH_ALERTS = {
    "cpu-high": "CpuHigh",
    "overheat": "TemperatureHigh",
    "optics-degrade": "OpticalPowerOutOfRange",
    "psu-fail": "PowerSupplyFailed",
}
# a stopped daemon -> the alerts that name it (device: the device the daemon runs on)
DaemonRule = Callable[[str, str], tuple[Matcher, ...]]  # (device, role) -> matchers
DAEMON_ALERTS: dict[str, DaemonRule] = {
    "nginx": lambda d, _r: (Matcher.of("LoadBalancerBackendDown", server=d),),
    "marketing": lambda d, r: (
        Matcher.of("ServerServiceDown", device=d),
        Matcher.of("ServiceGroupDown", service=r),
    ),
    "marketing-stats": lambda _d, r: (Matcher.of("ServiceGroupDown", service=r),),
    "unified-interface": lambda _d, r: (Matcher.of("ServiceGroupDown", service=r),),
    "cti": lambda _d, r: (Matcher.of("ServiceGroupDown", service=r),),
    "ospfd": lambda d, _r: (Matcher.of("OspfNeighborLost", neighbor_device=d),),
    "postgresql": lambda d, _r: (Matcher.of("DatabaseDown", device=d),),
    "snmpd": lambda d, _r: (Matcher.of("SnmpTargetDown", device=d),),
}


@dataclass(frozen=True)
class Candidate:
    """One fault the twin can take, and the alerts any of which detects it."""

    family: str  # link | member | device | daemon | health: what the draw balances
    kind: str  # the FaultSpec kind: link, device, daemon, or a health fault's name
    target: str
    expected: tuple[Matcher, ...]
    member: int | None = None
    daemon: str | None = None

    @property
    def label(self) -> str:
        extra = f" member {self.member}" if self.member is not None else ""
        extra += f" {self.daemon}" if self.daemon else ""
        return f"{self.kind} {self.target}{extra}"


@dataclass(frozen=True)
class Catalogue:
    candidates: tuple[Candidate, ...]
    uncovered: tuple[str, ...]  # "device daemon": faults the twin can take, no alert names


def catalogue(
    topo: Topology,
    services: Mapping[str, Sequence[str]],
    links: Iterable[str] | None = None,
) -> Catalogue:
    """Every candidate of the devices in `services` (device -> its running daemons, as the
    twin's service manager lists them) and of `links` (default: every link between them)."""
    devices = {name: topo.devices[name] for name in services if name in topo.devices}
    found: list[Candidate] = []
    wanted = set(links) if links is not None else None
    for link in topo.links:
        ends = {link.a.device, link.b.device}
        if not ends <= set(devices) or (wanted is not None and link.name not in wanted):
            continue
        found.append(
            Candidate("link", "link", link.name, (Matcher.of("LinkDown", link=link.name),))
        )
        if len(link.members) > 1:
            for i in range(len(link.members)):
                degraded = Matcher.of("BundleDegraded", link=link.name)
                found.append(Candidate("member", "link", link.name, (degraded,), member=i))
    uncovered = []
    for name, dev in sorted(devices.items()):
        if dev.role == "client":
            continue
        by_role = (Matcher.of("LoadBalancerBackendDown", server=name),) if dev.role == "web" else ()
        found.append(Candidate("device", "device", name, (Matcher.of(device=name), *by_role)))
        for daemon in sorted(services[name]):
            rule = DAEMON_ALERTS.get(daemon)
            if rule is None:
                uncovered.append(f"{name} {daemon}")
                continue
            found.append(Candidate("daemon", "daemon", name, rule(name, dev.role), daemon=daemon))
        for fault in FACE_FAULTS.get(dev.snmp_face or "", ()):
            alert = Matcher.of(HEALTH_ALERTS[fault], device=name)
            found.append(Candidate("health", fault, name, (alert,)))
    return Catalogue(tuple(found), tuple(uncovered))


@dataclass(frozen=True)
class RandomPlan:
    """A drawn schedule: faults (run seconds) and the quiet windows between them."""

    faults: tuple[FaultSpec, ...]
    quiet: tuple[tuple[float, float], ...]
    end_s: float  # when the last slot (and its settle) is over


def draw(spec: Draw, candidates: Sequence[Candidate], run: int = 1) -> RandomPlan:
    """A reproducible plan: the same spec, candidates and run number give the same plan.

    Each fault slot picks a family first, then a target in it, so rare kinds (a health
    fault, a bundle member) come up as often as common ones; with `at_once` > 1 a slot
    holds up to that many faults on different targets at once. Quiet slots are shuffled
    among the fault slots; every slot is followed by `settle_s` before the next.
    """
    rng = random.Random(f"{spec.seed}:{run}")
    by_family: dict[str, list[Candidate]] = {}
    for c in candidates:
        if c.family in spec.families:
            by_family.setdefault(c.family, []).append(c)
    families = sorted(by_family)
    if not families:
        raise ValueError("no fault to draw: the twin offers none of the families asked for")
    slots = ["fault"] * spec.faults + ["quiet"] * spec.quiet
    rng.shuffle(slots)
    t = spec.warmup_s
    faults: list[FaultSpec] = []
    quiet: list[tuple[float, float]] = []
    for slot in slots:
        if slot == "quiet":
            quiet.append((round(t, 3), round(t + spec.quiet_s, 3)))
            t += spec.quiet_s + spec.settle_s
            continue
        hold = round(rng.uniform(spec.hold_min_s, spec.hold_max_s), 1)
        taken: set[str] = set()
        for _ in range(rng.randint(1, spec.at_once)):
            pool = by_family[rng.choice(families)]
            choices = [c for c in pool if c.target not in taken]
            if not choices:
                continue
            c = rng.choice(choices)
            taken.add(c.target)
            faults.append(_spec(c, len(faults), t, hold, spec.settle_s))
        t += hold + spec.settle_s
    return RandomPlan(tuple(faults), tuple(quiet), round(t, 3))


def _spec(c: Candidate, index: int, at: float, hold: float, settle: float) -> FaultSpec:
    return FaultSpec(
        name=f"{index + 1:03d}-{c.label.replace(' ', '-')}",
        at_s=round(at, 3),
        hold_s=hold,
        kind=c.kind,
        target=c.target,
        daemon=c.daemon,
        member=c.member,
        detected_by=c.expected,
        settle_s=settle,
    )


def with_plan(campaign: Campaign, plan: RandomPlan) -> Campaign:
    """The campaign with the drawn faults and quiet windows in place of its own."""
    return replace(campaign, faults=plan.faults, quiet=plan.quiet)
