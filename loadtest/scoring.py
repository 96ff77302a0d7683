"""Score one campaign run the way the paper's section 4 does: pure functions, no I/O.

Two inputs are scored separately.

Alarms (Figures 4 and 5). The samples are windows of the run's timeline:
- a positive sample is a fault that really happened (ground truth): its window
  runs from the fault to its repair plus `grace` (the run's end if never repaired);
- a negative sample is a no-fault window the campaign declared (the campaign
  keeps them clear of every fault window and its settling time).
A fault window is a TP when an alert whose subject maps to the faulted target
(a matcher: alert name and/or label values) *starts* inside it, else an FN; an
alert that was already firing before the fault did not detect it, and one that
starts after the grace is late (FN, and usually an FP where it lands). A
no-fault window is an FP when any alert is active at any moment inside it (a
new alarm, or one that never cleared), else a TN. Counting windows, not
alerts, keeps P = TP + FN and N = FP + TN as sample counts, so the false alarm
rate FP / (FP + TN) is a proper ratio; duplicate alerts (the same alert seen
twice, or from Prometheus and Alertmanager) therefore count once. One alert
may detect two overlapping faults if it matches both.

Requests (Figures 2, 3 and 4). From per-request records: delay percentiles of
successful requests, downtime as failed / all requests and as unavailable
seconds, and data precision from the CHECK pseudo-requests that verify every
answer's checksum.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

CHECK = "CHECK"  # request_type of the checksum verifications the locustfile reports


@dataclass(frozen=True)
class Fault:
    """One injected fault, paired with its repair (end None: never repaired)."""

    kind: str  # link | device | daemon
    target: str
    start: float
    end: float | None
    detail: tuple[tuple[str, str], ...] = ()  # daemon / member, as in the ground truth

    @property
    def label(self) -> str:
        extra = "".join(f" {k}={v}" for k, v in self.detail)
        return f"{self.kind} {self.target}{extra}"


@dataclass(frozen=True)
class Alert:
    """One firing interval of an alert (ends_at None: still firing when last looked)."""

    name: str
    labels: tuple[tuple[str, str], ...]
    starts_at: float
    ends_at: float | None = None

    @classmethod
    def of(
        cls, name: str, labels: Mapping[str, str], starts_at: float, ends_at: float | None = None
    ) -> Alert:
        clean = {k: str(v) for k, v in labels.items() if k != "alertname"}
        return cls(name, tuple(sorted(clean.items())), starts_at, ends_at)

    @property
    def label_map(self) -> dict[str, str]:
        return dict(self.labels)

    def active_in(self, start: float, end: float) -> bool:
        """True if the alert fires at some moment of [start, end)."""
        return self.starts_at < end and (self.ends_at is None or self.ends_at > start)


@dataclass(frozen=True)
class Matcher:
    """Which alerts detect a fault: alert name (None: any) and label values that must equal."""

    alertname: str | None = None
    labels: tuple[tuple[str, str], ...] = ()

    @classmethod
    def of(cls, alertname: str | None = None, **labels: str) -> Matcher:
        return cls(alertname, tuple(sorted(labels.items())))

    def matches(self, alert: Alert) -> bool:
        if self.alertname is not None and alert.name != self.alertname:
            return False
        have = alert.label_map
        return all(have.get(k) == v for k, v in self.labels)


@dataclass(frozen=True)
class Window:
    """A declared no-fault window [start, end)."""

    start: float
    end: float


def default_matchers(fault: Fault) -> list[Matcher]:
    """An alert about the faulted thing itself: `link=<target>` or `device=<target>`."""
    return [
        Matcher.of(link=fault.target) if fault.kind == "link" else Matcher.of(device=fault.target)
    ]


# --- ground truth and alerts --------------------------------------------------


def _fault_key(entry: Mapping[str, object]) -> tuple:
    keys = ("member", "daemon", "fault")  # fault: a health fault's name (cpu-high, ...)
    detail = tuple(sorted((k, str(entry[k])) for k in keys if k in entry))
    return (entry["kind"], entry["target"], detail)


def faults_from_ground_truth(entries: Iterable[Mapping[str, object]]) -> list[Fault]:
    """Pair each fault line of the ground truth with the next repair of the same thing.

    A repair with no open fault is ignored (it repairs something from before the
    run); a fault never repaired keeps end None.
    """
    open_faults: dict[tuple, list[Mapping[str, object]]] = {}
    faults: list[Fault] = []
    for entry in sorted(entries, key=lambda e: float(e["time"])):  # type: ignore[arg-type]
        key = _fault_key(entry)
        if entry["event"] == "fault":
            open_faults.setdefault(key, []).append(entry)
        elif entry["event"] == "repair" and open_faults.get(key):
            began = open_faults[key].pop(0)
            faults.append(Fault(key[0], key[1], float(began["time"]), float(entry["time"]), key[2]))  # type: ignore[arg-type]
    for key, pending in open_faults.items():
        for began in pending:
            faults.append(Fault(key[0], key[1], float(began["time"]), None, key[2]))  # type: ignore[arg-type]
    return sorted(faults, key=lambda f: f.start)


def merge_duplicates(alerts: Iterable[Alert]) -> list[Alert]:
    """One interval per alert identity (name + labels) where reports overlap or touch."""
    by_identity: dict[tuple, list[Alert]] = {}
    for a in alerts:
        by_identity.setdefault((a.name, a.labels), []).append(a)
    merged: list[Alert] = []
    for group in by_identity.values():
        group.sort(key=lambda a: a.starts_at)
        current = group[0]
        for nxt in group[1:]:
            if current.ends_at is None or nxt.starts_at <= current.ends_at:
                end = (
                    None
                    if None in (current.ends_at, nxt.ends_at)
                    else max(current.ends_at, nxt.ends_at)
                )  # type: ignore[type-var]
                current = Alert(current.name, current.labels, current.starts_at, end)
            else:
                merged.append(current)
                current = nxt
        merged.append(current)
    return sorted(merged, key=lambda a: (a.starts_at, a.name, a.labels))


def select_alerts(
    alerts: Iterable[Alert], ignore: Sequence[str] = (), severities: Sequence[str] = ()
) -> list[Alert]:
    """Drop alerts the campaign does not score (by name, or severity not listed)."""
    keep = []
    for a in alerts:
        if a.name in ignore:
            continue
        if severities and a.label_map.get("severity") not in severities:
            continue
        keep.append(a)
    return keep


# --- alarm scoring ------------------------------------------------------------


@dataclass(frozen=True)
class Detection:
    fault: Fault
    alert: Alert | None  # the first matching alert that started in the window
    instead: tuple[Alert, ...] = ()  # undetected, but these started in its window

    @property
    def seconds(self) -> float | None:
        return None if self.alert is None else self.alert.starts_at - self.fault.start

    @property
    def misattributed(self) -> bool:
        """Something fired, but it names another thing: the operator is sent elsewhere."""
        return self.alert is None and bool(self.instead)


def fault_kind(fault: Fault) -> str:
    """The row a fault is scored in: its kind, with the daemon for daemon faults
    (a stopped ospfd and a stopped nginx are detected by different rules)."""
    detail = dict(fault.detail)
    if "fault" in detail:
        return detail["fault"]
    if "daemon" in detail:
        return f"{fault.kind} {detail['daemon']}"
    if "member" in detail:
        return f"{fault.kind} member"
    return fault.kind


@dataclass
class AlarmScore:
    tp: int = 0
    fn: int = 0
    fp: int = 0
    tn: int = 0
    detections: list[Detection] = field(default_factory=list)
    false_alarms: list[tuple[Window, list[Alert]]] = field(default_factory=list)
    uncleared: list[Alert] = field(default_factory=list)  # still firing at the end
    unscored: list[Alert] = field(default_factory=list)  # started outside every window
    unmatched_in_faults: list[Alert] = field(default_factory=list)  # neither TP nor FP

    @property
    def alarm_precision(self) -> float | None:
        return _ratio(self.tp, self.tp + self.fp)

    @property
    def false_alarm_rate(self) -> float | None:
        return _ratio(self.fp, self.fp + self.tn)

    @property
    def detection_rate(self) -> float | None:
        return _ratio(self.tp, self.tp + self.fn)

    @property
    def detection_seconds(self) -> list[float]:
        return [d.seconds for d in self.detections if d.seconds is not None]


def _ratio(num: float, den: float) -> float | None:
    return None if den == 0 else num / den


def score_alarms(
    faults: Sequence[Fault],
    alerts: Sequence[Alert],
    windows: Sequence[Window],
    grace: float,
    matchers: Callable[[Fault], Sequence[Matcher]] = default_matchers,
    run_end: float | None = None,
) -> AlarmScore:
    """TP/FN per fault window, FP/TN per no-fault window (see the module docstring)."""
    alerts = merge_duplicates(alerts)
    if run_end is None:  # an unrepaired fault's window closes at the last thing seen
        run_end = max([0.0, *(a.starts_at for a in alerts), *(f.start for f in faults)])
    score = AlarmScore()
    fault_spans: list[tuple[float, float]] = []
    matched: set[Alert] = set()
    for fault in faults:
        close = (fault.end if fault.end is not None else run_end) + grace
        fault_spans.append((fault.start, close))
        wanted = matchers(fault)
        found = [
            a
            for a in alerts
            if fault.start <= a.starts_at <= close and any(m.matches(a) for m in wanted)
        ]
        first = min(found, key=lambda a: a.starts_at) if found else None
        instead = () if found else tuple(a for a in alerts if fault.start <= a.starts_at <= close)
        score.detections.append(Detection(fault, first, instead))
        matched.update(found)
        if first is None:
            score.fn += 1
        else:
            score.tp += 1
    for window in windows:
        active = [a for a in alerts if a.active_in(window.start, window.end)]
        if active:
            score.fp += 1
            score.false_alarms.append((window, active))
        else:
            score.tn += 1
    spans = [*fault_spans, *((w.start, w.end) for w in windows)]
    score.uncleared = [a for a in alerts if a.ends_at is None]
    score.unscored = [a for a in alerts if not any(s <= a.starts_at < e for s, e in spans)]
    score.unmatched_in_faults = [
        a for a in alerts if a not in matched and any(s <= a.starts_at <= e for s, e in fault_spans)
    ]
    return score


# --- request metrics ----------------------------------------------------------


@dataclass(frozen=True)
class Request:
    """One per-request record: start time, type (GET, POST, CHECK), outcome, delay."""

    time: float
    request_type: str
    name: str
    response_time_ms: float
    success: bool
    length: int = 0


def percentile(sorted_values: Sequence[float], q: float) -> float | None:
    """Linear interpolation between closest ranks (numpy's default) of sorted values."""
    if not sorted_values:
        return None
    pos = (len(sorted_values) - 1) * q
    lo = math.floor(pos)
    hi = min(lo + 1, len(sorted_values) - 1)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (pos - lo)


@dataclass(frozen=True)
class RequestMetrics:
    requests: int
    failures: int
    checks: int
    check_failures: int
    seconds: int  # seconds from the first to the last request start
    unavailable_seconds: int
    p50_ms: float | None
    p95_ms: float | None
    p99_ms: float | None
    mean_ms: float | None

    @property
    def downtime_rate(self) -> float | None:
        return _ratio(self.failures, self.requests)

    @property
    def unavailable_rate(self) -> float | None:
        return _ratio(self.unavailable_seconds, self.seconds)

    @property
    def data_precision(self) -> float | None:
        rate = _ratio(self.check_failures, self.checks)
        return None if rate is None else 1.0 - rate

    @property
    def requests_per_second(self) -> float | None:
        return _ratio(self.requests, self.seconds)


def request_metrics(records: Iterable[Request], unavailable_ratio: float = 0.5) -> RequestMetrics:
    """Delay, downtime and data precision of one run's records.

    A second (by request start) is unavailable when no request started in it
    succeeded, or more than `unavailable_ratio` of them failed; seconds between
    the first and the last request with no request at all count as unavailable
    too (every user was stuck waiting).
    """
    http: list[Request] = []
    checks = check_failures = 0
    for r in records:
        if r.request_type == CHECK:
            checks += 1
            check_failures += not r.success
        else:
            http.append(r)
    if not http:
        return RequestMetrics(0, 0, checks, check_failures, 0, 0, None, None, None, None)
    per_second: dict[int, list[int]] = {}
    for r in http:
        ok_fail = per_second.setdefault(math.floor(r.time), [0, 0])
        ok_fail[0 if r.success else 1] += 1
    first, last = min(per_second), max(per_second)
    seconds = last - first + 1
    unavailable = 0
    for sec in range(first, last + 1):
        ok, fail = per_second.get(sec, (0, 0))
        if ok == 0 or fail / (ok + fail) > unavailable_ratio:
            unavailable += 1
    delays = sorted(r.response_time_ms for r in http if r.success)
    failures = sum(not r.success for r in http)
    return RequestMetrics(
        requests=len(http),
        failures=failures,
        checks=checks,
        check_failures=check_failures,
        seconds=seconds,
        unavailable_seconds=unavailable,
        p50_ms=percentile(delays, 0.50),
        p95_ms=percentile(delays, 0.95),
        p99_ms=percentile(delays, 0.99),
        mean_ms=sum(delays) / len(delays) if delays else None,
    )
