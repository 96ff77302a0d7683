"""Campaigns as data: campaigns/<name>.yml -> a checked, typed Campaign.

A campaign says how long a run lasts, the load shape (a stage table), where
workers run, which faults to inject when (each repaired in the same run), which
windows are quiet (the negatives of the false alarm rate), where the alerts come
from and how they are matched to faults. Code only runs it.

Every problem in the file is collected and reported at once, one line each
naming the file and line and the field (`faults[2].hold`), by emops.yamlread's
Reader (unknown keys refused with a did-you-mean hint), so a tester fixes a
broken campaign in one pass.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from emops.errors import EmopsError
from emops.yamlread import Category, Positions, Reader, read_marked_yaml
from lab.vendor_agent import FAULTS
from loadtest.scoring import Fault, Matcher, default_matchers

CAMPAIGN_DIR = Path(__file__).resolve().parent.parent / "campaigns"
HEALTH_FAULTS = tuple(FAULTS)  # a vendor-faced device: cpu-high, overheat, ...
FAULT_KINDS = ("link", "device", "daemon", *HEALTH_FAULTS)
PLACEMENTS = ("clients", "local")


@dataclass(frozen=True)
class Stage:
    """Until `until_s` seconds into the run, hold `users` users, spawned at `spawn_rate`/s."""

    until_s: float
    users: int
    spawn_rate: float


@dataclass(frozen=True)
class Load:
    stages: tuple[Stage, ...]
    wait_min_s: float = 0.5
    wait_max_s: float = 1.5
    max_failure_ratio: float = 0.5  # the guard stops a run whose HTTP failures pass this
    guard_after_s: float = 10.0  # ... but not before this many seconds (too few requests)
    customers: int = 2000  # ids 1..customers exist in the database (datagen)


@dataclass(frozen=True)
class FaultSpec:
    """One scheduled fault: what (as lab.faults names it), when, and how long."""

    name: str
    at_s: float
    hold_s: float
    kind: str  # link | device | daemon | a health fault (cpu-high, overheat, ...)
    target: str
    daemon: str | None = None
    member: int | None = None
    detected_by: tuple[Matcher, ...] = ()
    settle_s: float | None = None  # its alerts clear this long after repair (default: scoring)

    @property
    def repair_at_s(self) -> float:
        return self.at_s + self.hold_s


FAMILIES = ("link", "member", "device", "daemon", "health")  # what a random draw balances


@dataclass(frozen=True)
class Draw:
    """How to draw: counts and bounds (campaigns/random.yml `random:`)."""

    seed: int
    faults: int
    at_once: int = 1
    hold_min_s: float = 15.0
    hold_max_s: float = 30.0
    settle_s: float = 45.0
    quiet: int = 4
    quiet_s: float = 12.0
    warmup_s: float = 20.0
    families: tuple[str, ...] = FAMILIES

    @property
    def worst_case_s(self) -> float:
        """The longest a plan can take: what the run's duration must cover."""
        slot = self.hold_max_s + self.settle_s
        return self.warmup_s + self.faults * slot + self.quiet * (self.quiet_s + self.settle_s)


@dataclass(frozen=True)
class Workers:
    placement: str = "clients"  # twin: one worker per <city>-client namespace
    per_client: int = 1
    local: int = 2  # --local: workers in the root namespace


@dataclass(frozen=True)
class AlertSources:
    prometheus: str | None = None
    alertmanager: str | None = None
    ignore: tuple[str, ...] = ()
    severities: tuple[str, ...] = ()


@dataclass(frozen=True)
class Scoring:
    grace_s: float = 20.0  # an alert may start this long after the repair and still detect
    settle_s: float = 60.0  # quiet windows start at least this long after a repair
    unavailable_failure_ratio: float = 0.5


@dataclass(frozen=True)
class Campaign:
    name: str
    source: str
    description: str
    runs: int
    min_requests: int
    duration_s: float
    target: str  # the inventory service whose virtual address takes the load
    load: Load
    workers: Workers
    faults: tuple[FaultSpec, ...]
    quiet: tuple[tuple[float, float], ...]  # no-fault windows [start, end) in run seconds
    alerts: AlertSources
    scoring: Scoring
    random: Draw | None = None  # faults drawn from the twin's catalogue per run instead

    def matchers_for(self, fault: Fault) -> list[Matcher]:
        """The default matcher plus those declared for the scheduled fault on that target
        (a health fault is logged by what it touches, `cpu`, with its name as detail)."""
        names = {fault.kind, dict(fault.detail).get("fault")}
        declared = [
            m
            for spec in self.faults
            if spec.kind in names and spec.target == fault.target
            for m in spec.detected_by
        ]
        return [*default_matchers(fault), *declared]

    def settle_of(self, spec: FaultSpec) -> float:
        return spec.settle_s if spec.settle_s is not None else self.scoring.settle_s

    @property
    def pause_between_runs_s(self) -> float:
        """How long after a run its last fault still needs to settle (0 when the run's
        own last quiet window already waits for that)."""
        busy = [f.repair_at_s + self.settle_of(f) - self.duration_s for f in self.faults]
        return max([0.0, *busy])


def _load(r: Reader, raw: dict) -> Load:
    data = r.mapping(raw, "load", known=("stages", "wait", "guard", "customers"))
    stages = []
    for i, item in enumerate(r.sequence(data.get("stages"), "load.stages")):
        f = f"load.stages[{i}]"
        s = r.mapping(item, f, known=("until", "users", "spawn_rate"))
        stages.append(
            Stage(
                r.time(s, "until", f"{f}.until"),
                int(r.number(s, "users", f"{f}.users", None, 0, whole=True)),
                float(r.number(s, "spawn_rate", f"{f}.spawn_rate", 1, 0.01)),
            )
        )
    if not stages:
        r.problem(
            "load.stages",
            "needs at least one stage",
            "- {until: 60s, users: 10, spawn_rate: 5}",
            category=Category.MISSING,
        )
    for i in range(1, len(stages)):
        if stages[i].until_s <= stages[i - 1].until_s:
            r.problem(
                f"load.stages[{i}].until",
                "must be later than the stage before",
                "stages are in time order",
                category=Category.CONSISTENCY,
            )
    wait = r.mapping(data.get("wait"), "load.wait", known=("min", "max"))
    guard = r.mapping(data.get("guard"), "load.guard", known=("max_failure_ratio", "after"))
    load = Load(
        tuple(stages),
        r.time(wait, "min", "load.wait.min", 0.5, zero=True),
        r.time(wait, "max", "load.wait.max", 1.5, zero=True),
        float(r.number(guard, "max_failure_ratio", "load.guard.max_failure_ratio", 0.5, 0.0, 1.0)),
        r.time(guard, "after", "load.guard.after", 10.0, zero=True),
        int(r.number(data, "customers", "load.customers", 2000, 1, whole=True)),
    )
    if load.wait_max_s < load.wait_min_s:
        r.problem("load.wait.max", "is less than load.wait.min", category=Category.CONSISTENCY)
    return load


def _matchers(r: Reader, raw: object, field: str) -> tuple[Matcher, ...]:
    found = []
    for j, item in enumerate(r.sequence(raw, field)):
        m = r.mapping(item, f"{field}[{j}]", known=("alert", "labels"))
        labels = r.mapping(m.get("labels"), f"{field}[{j}].labels")
        if not m.get("alert") and not labels:
            r.problem(
                f"{field}[{j}]", "matches every alert", "give alert: NAME and/or labels: {...}"
            )
        found.append(
            Matcher(m.get("alert"), tuple(sorted((str(k), str(v)) for k, v in labels.items())))
        )
    return tuple(found)


def _faults(r: Reader, raw: object) -> tuple[FaultSpec, ...]:
    faults = []
    known = ("name", "at", "hold", "kind", "target", "daemon", "member", "detected_by", "settle")
    for i, item in enumerate(r.sequence(raw, "faults")):
        f = f"faults[{i}]"
        d = r.mapping(item, f, known=known)
        kind = r.text(d, "kind", f"{f}.kind")
        if kind and kind not in FAULT_KINDS:
            r.problem(
                f"{f}.kind",
                f"{kind!r} is not a fault kind",
                f"use one of: {', '.join(FAULT_KINDS)}",
            )
        daemon = d.get("daemon")
        if kind == "daemon" and not daemon:
            r.problem(
                f"{f}.daemon",
                "is required for a daemon fault",
                "the service name, e.g. postgresql",
                category=Category.MISSING,
            )
        if kind != "daemon" and daemon:
            r.problem(
                f"{f}.daemon",
                f"only daemon faults name a daemon, this one is a {kind} fault",
                category=Category.CONSISTENCY,
            )
        member = d.get("member")
        if member is not None and (kind != "link" or not isinstance(member, int) or member < 0):
            r.problem(f"{f}.member", "is a bundle member index (from 0) of a link fault")
        faults.append(
            FaultSpec(
                name=r.text(d, "name", f"{f}.name"),
                at_s=r.time(d, "at", f"{f}.at", zero=True),
                hold_s=r.time(d, "hold", f"{f}.hold"),
                kind=kind,
                target=r.text(d, "target", f"{f}.target"),
                daemon=str(daemon) if daemon else None,
                member=member if isinstance(member, int) else None,
                detected_by=_matchers(r, d.get("detected_by"), f"{f}.detected_by"),
                settle_s=r.time(d, "settle", f"{f}.settle", zero=True) if "settle" in d else None,
            )
        )
    names = [f.name for f in faults]
    for i, name in enumerate(names):
        if name and name in names[:i]:
            r.problem(
                f"faults[{i}].name",
                f"{name!r} is used twice",
                "fault names are unique",
                category=Category.CONSISTENCY,
            )
    return tuple(faults)


def _windows(r: Reader, raw: object) -> tuple[tuple[float, float], ...]:
    windows = []
    for i, item in enumerate(r.sequence(raw, "no_fault_windows")):
        f = f"no_fault_windows[{i}]"
        d = r.mapping(item, f, known=("at", "until"))
        start, end = r.time(d, "at", f"{f}.at", zero=True), r.time(d, "until", f"{f}.until")
        if end <= start:
            r.problem(f"{f}.until", "must be later than at", category=Category.CONSISTENCY)
        windows.append((start, end))
    return tuple(windows)


def _draw(r: Reader, data: dict) -> Draw | None:
    """`random:`: faults drawn per run from the twin's catalogue (loadtest/fault_catalogue.py)."""
    if "random" not in data:
        return None
    known = ("seed", "faults", "at_once", "hold", "settle", "quiet", "warmup", "families")
    d = r.mapping(data["random"], "random", known=known)
    for key in ("faults", "no_fault_windows"):
        if key in data:
            r.problem(
                key,
                "is drawn by `random:`",
                "remove it, or remove `random:` for a fixed schedule",
                category=Category.CONSISTENCY,
            )
    hold = r.mapping(d.get("hold"), "random.hold", known=("min", "max"))
    quiet = r.mapping(d.get("quiet"), "random.quiet", known=("count", "length"))
    families = tuple(str(f) for f in r.sequence(d.get("families"), "random.families"))
    for i, family in enumerate(families):
        if family not in FAMILIES:
            r.problem(f"random.families[{i}]", f"{family!r} is not a family", f"one of {FAMILIES}")
    spec = Draw(
        seed=int(r.number(d, "seed", "random.seed", None, 0, 2**31, whole=True)),
        faults=int(r.number(d, "faults", "random.faults", None, 1, 1000, whole=True)),
        at_once=int(r.number(d, "at_once", "random.at_once", 1, 1, 5, whole=True)),
        hold_min_s=r.time(hold, "min", "random.hold.min", 15.0),
        hold_max_s=r.time(hold, "max", "random.hold.max", 30.0),
        settle_s=r.time(d, "settle", "random.settle", 45.0, zero=True),
        quiet=int(r.number(quiet, "count", "random.quiet.count", 4, 0, 1000, whole=True)),
        quiet_s=r.time(quiet, "length", "random.quiet.length", 12.0),
        warmup_s=r.time(d, "warmup", "random.warmup", 20.0, zero=True),
        families=families or FAMILIES,
    )
    if spec.hold_min_s > spec.hold_max_s:
        r.problem("random.hold", "min is above max", "e.g. {min: 15s, max: 30s}")
    return spec


def _check_timeline(r: Reader, c: Campaign) -> None:
    """Everything happens inside the run, and quiet windows keep clear of faults."""
    if c.random is not None and c.random.worst_case_s + c.scoring.grace_s > c.duration_s:
        r.problem(
            "duration",
            f"{c.duration_s:g}s is shorter than the random plan's worst case "
            f"{c.random.worst_case_s + c.scoring.grace_s:g}s (with the scoring grace)",
            "lengthen duration, or draw fewer or shorter faults",
            category=Category.CONSISTENCY,
        )
    if c.load.stages and c.load.stages[-1].until_s > c.duration_s:
        last = f"load.stages[{len(c.load.stages) - 1}].until"
        r.problem(last, "ends after the run's duration", category=Category.CONSISTENCY)
    for i, fs in enumerate(c.faults):
        if fs.repair_at_s + c.scoring.grace_s > c.duration_s:
            r.problem(
                f"faults[{i}].hold",
                f"repair at {fs.repair_at_s:g}s + grace {c.scoring.grace_s:g}s is after the end",
                "hold it shorter, start it earlier, or lengthen duration",
                category=Category.CONSISTENCY,
            )
    for i, (start, end) in enumerate(c.quiet):
        if end > c.duration_s:
            r.problem(
                f"no_fault_windows[{i}].until",
                "is after the run's end",
                category=Category.CONSISTENCY,
            )
        for fs in c.faults:
            busy_until = fs.repair_at_s + c.settle_of(fs)
            if start < busy_until and end > fs.at_s:
                r.problem(
                    f"no_fault_windows[{i}]",
                    f"overlaps fault {fs.name} ({fs.at_s:g}s to {busy_until:g}s with settle)",
                    "quiet windows start after a repair plus the fault's settle",
                    category=Category.CONSISTENCY,
                )


def parse_campaign(raw: object, source: str, positions: Positions | None = None) -> Campaign:
    """A Campaign from parsed YAML, or EmopsError listing every problem (at the line
    `positions` knows for it, else at `source`). The timeline is checked only once
    every field has read well (a checkpoint), so a bad time is one problem, not also
    a fault that ends after the run."""
    r = Reader(source, positions)
    top = (
        "name", "description", "runs", "min_requests", "duration", "target", "load",
        "workers", "faults", "no_fault_windows", "alerts", "scoring", "random",
    )  # fmt: skip
    data = r.mapping(raw, "", known=top)
    if raw is None or not data:
        raise EmopsError.of("campaign", "is empty", "see campaigns/smoke.yml", where=source)
    w = r.mapping(data.get("workers"), "workers", known=("placement", "per_client", "local"))
    placement = w.get("placement", "clients")
    if placement not in PLACEMENTS:
        r.problem(
            "workers.placement",
            f"{placement!r} is not a placement",
            f"use one of: {', '.join(PLACEMENTS)}",
        )
    a = r.mapping(
        data.get("alerts"), "alerts", known=("prometheus", "alertmanager", "ignore", "severities")
    )
    s = r.mapping(
        data.get("scoring"), "scoring", known=("grace", "settle", "unavailable_failure_ratio")
    )
    campaign = Campaign(
        name=r.text(data, "name", "name"),
        source=source,
        description=str(data.get("description", "")),
        runs=int(r.number(data, "runs", "runs", None, 1, 100, whole=True)),
        min_requests=int(r.number(data, "min_requests", "min_requests", 0, 0, whole=True)),
        duration_s=r.time(data, "duration", "duration"),
        target=r.text(data, "target", "target", "marketing"),
        load=_load(r, data.get("load")),
        workers=Workers(
            str(placement),
            int(r.number(w, "per_client", "workers.per_client", 1, 1, 8, whole=True)),
            int(r.number(w, "local", "workers.local", 2, 0, 16, whole=True)),
        ),
        faults=_faults(r, data.get("faults")),
        quiet=_windows(r, data.get("no_fault_windows")),
        alerts=AlertSources(
            a.get("prometheus"),
            a.get("alertmanager"),
            tuple(str(x) for x in r.sequence(a.get("ignore"), "alerts.ignore")),
            tuple(str(x) for x in r.sequence(a.get("severities"), "alerts.severities")),
        ),
        scoring=Scoring(
            r.time(s, "grace", "scoring.grace", 20.0, zero=True),
            r.time(s, "settle", "scoring.settle", 60.0, zero=True),
            float(
                r.number(
                    s,
                    "unavailable_failure_ratio",
                    "scoring.unavailable_failure_ratio",
                    0.5,
                    0.0,
                    1.0,
                )
            ),
        ),
        random=_draw(r, data),
    )
    r.checkpoint()
    _check_timeline(r, campaign)
    r.checkpoint()
    return campaign


def campaign_path(name: str) -> Path:
    """A campaign by file path, or by name in campaigns/."""
    path = Path(name)
    if path.suffix in (".yml", ".yaml") or path.exists():
        return path
    return CAMPAIGN_DIR / f"{name}.yml"


def load_campaign(name: str) -> Campaign:
    path = campaign_path(name)
    if not path.is_file():
        known = ", ".join(sorted(p.stem for p in CAMPAIGN_DIR.glob("*.yml"))) or "none"
        raise EmopsError.of(
            "campaign", f"no campaign {name!r} ({path})", f"known campaigns: {known}"
        )
    raw, marks = read_marked_yaml(path, "campaign")
    return parse_campaign(raw, str(path), marks)
