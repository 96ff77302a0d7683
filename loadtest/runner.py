"""Run a campaign: Locust master and workers, faults on schedule, alerts read back, runs scored.

One run, as a flat list of stages:
1. start the Locust master (host namespace, loopback or the management
   address) and one worker per placement spot (in the twin: inside each
   `<city>-client` namespace via `ip netns exec`), all on loadtest/locustfile.py;
2. wait for the master's `test_start` event: the run's time origin t0;
3. every 0.2 s: inject or repair the faults due (lab.faults, which logs the
   ground truth), and notice any worker process that exited while the master
   still runs - a dead worker is reported in the results, never ignored;
4. when the master ends (the shape's last stage, the failure guard, or the
   deadline), repair whatever is still broken, stop the workers;
5. read the alerts of [t0, end] back, score, write run-NN/score.json.
Every wait has a deadline and every loop a bound; the faults are repaired in a
`finally`, so an interrupted campaign never leaves the twin broken.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from emops.errors import EmopsError
from emops.files import make_output_dir, write_atomic
from lab.bringup import read_state
from lab.faults import Lab
from lab.services import list_services
from loadtest import alerts as alert_sources
from loadtest import safety, stages
from loadtest.campaign import HEALTH_FAULTS, Campaign, FaultSpec
from loadtest.fault_catalogue import Catalogue, catalogue, draw, with_plan
from loadtest.local import local_system, stop_process
from loadtest.placement import (
    LOOPBACK,
    WorkerSpot,
    local_workers,
    master_host,
    service_url,
    twin_workers,
    worker_command,
)
from loadtest.records import append_event, read_events, read_records
from loadtest.results import dashboard_summary, kind_table, pooled, score_run, summarize
from loadtest.scoring import Alert

LOCUSTFILE = Path(__file__).with_name("locustfile.py")
STARTUP_S = 60.0  # for workers to connect and the master to start the test
STOP_S = 30.0  # after the last stage, for the master to stop and write its stats
TICK_S = 0.2
Echo = Callable[[str], None]


class FaultInjector(Protocol):
    def inject(self, spec: FaultSpec) -> dict: ...
    def repair(self, spec: FaultSpec) -> dict: ...


class LabInjector:
    """Faults through the twin's fault API (lab.faults), which logs the ground truth."""

    def __init__(self, lab: Any) -> None:
        self.lab = lab

    def inject(self, spec: FaultSpec) -> dict:
        if spec.kind == "link":
            return self.lab.link_down(spec.target, spec.member)
        if spec.kind == "device":
            return self.lab.device_down(spec.target)
        if spec.kind in HEALTH_FAULTS:
            return self.lab.health_fault(spec.target, spec.kind)
        return self.lab.daemon_stop(spec.target, spec.daemon)

    def repair(self, spec: FaultSpec) -> dict:
        if spec.kind == "link":
            return self.lab.link_up(spec.target, spec.member)
        if spec.kind == "device":
            return self.lab.device_up(spec.target)
        if spec.kind in HEALTH_FAULTS:
            return self.lab.health_restore(spec.target, spec.kind)
        return self.lab.daemon_start(spec.target, spec.daemon)


@dataclass
class RunSetup:
    """Everything a run needs that does not change between runs."""

    campaign: Campaign
    target_url: str  # already checked by loadtest/safety.py
    workers: list[WorkerSpot]
    master_host: str
    injector: FaultInjector | None  # None: no twin, faults skipped
    customers: int
    production: bool = False
    alerts_enabled: bool = True
    run_hook: Callable[[Path], None] | None = None  # tests: called once the processes are up
    catalogue: Catalogue | None = None  # a random campaign draws each run's faults from it


@dataclass
class Proc:
    label: str
    popen: subprocess.Popen
    netns: str | None = None
    ended_at: float | None = None


@dataclass
class RunState:
    t0: float | None = None
    injected: list[FaultSpec] = field(default_factory=list)
    repaired: list[FaultSpec] = field(default_factory=list)
    ground_truth: list[dict] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    deaths: list[dict] = field(default_factory=list)


def free_port(host: str) -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def locust_env(setup: RunSetup, run_dir: Path) -> dict[str, str]:
    """The locustfile's settings (see its docstring) for this campaign."""
    load = setup.campaign.load
    env = {
        **os.environ,
        "EMOPS_STAGES": stages.to_env(load.stages),
        "EMOPS_WAIT": f"{load.wait_min_s},{load.wait_max_s}",
        "EMOPS_CUSTOMERS": str(setup.customers),
        "EMOPS_MAX_FAILURE_RATIO": str(load.max_failure_ratio),
        "EMOPS_GUARD_AFTER": str(load.guard_after_s),
        "EMOPS_RECORDS_DIR": str(run_dir.resolve()),
        "PYTHONUNBUFFERED": "1",
    }
    env.pop("EMOPS_PRODUCTION", None)
    if setup.production:
        env["EMOPS_PRODUCTION"] = "1"
    return env


def master_argv(setup: RunSetup, run_dir: Path, port: int) -> list[str]:
    run_time = setup.campaign.duration_s + STOP_S
    argv = [
        sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--headless",
        "--host", setup.target_url, "--run-time", f"{run_time:.0f}s",
        "--csv", str(run_dir / "locust"), "--only-summary", "--exit-code-on-error", "0",
        "--logfile", str(run_dir / "master.log"),
    ]  # fmt: skip
    if setup.workers:
        argv += [
            "--master", "--master-bind-host", setup.master_host,
            "--master-bind-port", str(port), "--expect-workers", str(len(setup.workers)),
            "--expect-workers-max-wait", f"{STARTUP_S:.0f}",
        ]  # fmt: skip
    return argv


def worker_argv(setup: RunSetup, spot: WorkerSpot, port: int, run_dir: Path) -> list[str]:
    base = [
        sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--worker",
        "--master-host", setup.master_host, "--master-port", str(port),
        "--logfile", str(run_dir / f"worker-{spot.label}.log"),
    ]  # fmt: skip
    return worker_command(spot, base)


def _spawn(argv: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    with open(log, "ab") as out:
        return subprocess.Popen(argv, env=env, stdout=out, stderr=out, stdin=subprocess.DEVNULL)


def _start_processes(setup: RunSetup, run_dir: Path) -> tuple[Proc, list[Proc]]:
    port = free_port(setup.master_host)
    env = locust_env(setup, run_dir)
    master = Proc("master", _spawn(master_argv(setup, run_dir, port), env, run_dir / "master.out"))
    workers = []
    for spot in setup.workers:
        wenv = {**env, "EMOPS_WORKER": spot.label}
        argv = worker_argv(setup, spot, port, run_dir)
        out = run_dir / f"worker-{spot.label}.out"
        workers.append(Proc(spot.label, _spawn(argv, wenv, out), spot.netns))
    listing = {
        "master": master.popen.pid,
        "port": port,
        "workers": [{"label": w.label, "pid": w.popen.pid, "netns": w.netns} for w in workers],
    }
    (run_dir / "processes.json").write_text(json.dumps(listing, indent=2) + "\n")
    return master, workers


def _step_faults(setup: RunSetup, state: RunState, now: float, echo: Echo) -> None:
    """Inject and repair what is due at `now` (seconds since t0)."""
    assert state.t0 is not None
    for spec in setup.campaign.faults:
        if setup.injector is None:
            continue
        if spec not in state.injected and now >= spec.at_s:
            state.injected.append(spec)
            try:
                state.ground_truth.append(setup.injector.inject(spec))
                echo(f"  {now:6.1f}s fault  {spec.name}: {spec.kind} {spec.target}")
            except EmopsError as exc:
                state.problems.append(f"fault {spec.name} not injected: {exc}")
                state.repaired.append(spec)
        if spec in state.injected and spec not in state.repaired and now >= spec.repair_at_s:
            _repair(setup, state, spec, echo, now)


def _repair(setup: RunSetup, state: RunState, spec: FaultSpec, echo: Echo, now: float) -> None:
    state.repaired.append(spec)
    assert setup.injector is not None
    try:
        state.ground_truth.append(setup.injector.repair(spec))
        echo(f"  {now:6.1f}s repair {spec.name}")
    except EmopsError as exc:
        state.problems.append(f"fault {spec.name} not repaired: {exc}")


def _has_event(run_dir: Path, name: str) -> bool:
    return any(e.get("event") == name for e in read_events(run_dir))


def _check_workers(workers: list[Proc], state: RunState, run_dir: Path, echo: Echo) -> None:
    """A worker that exits before the test has stopped has died: record it.

    Workers quit by themselves once the master stops the test; the master's
    test_stop event is written before it tells them to, so any exit seen
    without it is a death.
    """
    for w in workers:
        code = w.popen.poll()
        if code is None or w.ended_at is not None:
            continue
        w.ended_at = time.time()
        if _has_event(run_dir, "test_stop"):
            continue
        into = w.ended_at - state.t0 if state.t0 is not None else None
        death = {"worker": w.label, "pid": w.popen.pid, "returncode": code, "time": w.ended_at}
        death["run_seconds"] = into
        state.deaths.append(death)
        append_event(run_dir, "worker_died", **{k: v for k, v in death.items() if k != "time"})
        when = f"{into:.1f} s into the run" if into is not None else "before the run started"
        message = f"worker {w.label} (pid {w.popen.pid}) died {when} (exit {code})"
        state.problems.append(message)
        echo(f"  {message}")


def _test_start(run_dir: Path) -> float | None:
    for event in read_events(run_dir):
        if event.get("event") == "test_start":
            return float(event["time"])
    return None


def _drive(
    setup: RunSetup, run_dir: Path, master: Proc, workers: list[Proc], echo: Echo
) -> RunState:
    state = RunState()
    started = time.monotonic()
    deadline = started + STARTUP_S + setup.campaign.duration_s + 2 * STOP_S
    hooked = False
    try:
        for _ in range(int((deadline - started) / TICK_S) + 1):
            if state.t0 is None:
                state.t0 = _test_start(run_dir)
            if state.t0 is not None:
                _step_faults(setup, state, time.time() - state.t0, echo)
                if not hooked and setup.run_hook is not None:
                    hooked = True
                    setup.run_hook(run_dir)
            _check_workers(workers, state, run_dir, echo)
            if master.popen.poll() is not None:
                break
            if state.t0 is None and time.monotonic() > started + STARTUP_S:
                state.problems.append(f"the test did not start within {STARTUP_S:.0f} s")
                break
            if time.monotonic() > deadline:
                state.problems.append("the run passed its deadline; the master was stopped")
                break
            time.sleep(TICK_S)
    finally:
        for spec in setup.campaign.faults:  # never leave the twin broken
            if spec in state.injected and spec not in state.repaired:
                _repair(setup, state, spec, echo, -1.0)
        stop_process(master.popen, STOP_S)
        for w in workers:  # they quit with the master; give them a moment, then stop them
            try:
                w.popen.wait(10)
            except subprocess.TimeoutExpired:
                stop_process(w.popen)
    return state


def _collect_alerts(
    setup: RunSetup, t0: float, t_end: float, poller: Any
) -> tuple[list[Alert] | None, list[str]]:
    """Alerts of [t0, t_end] from every configured source; None if no source answered."""
    if not setup.alerts_enabled:
        return None, []
    found: list[Alert] = []
    answered = False
    problems = []
    sources = setup.campaign.alerts
    if sources.prometheus:
        try:
            found += alert_sources.prometheus_alerts(sources.prometheus, t0, t_end)
            answered = True
        except (OSError, ValueError, EmopsError) as exc:
            problems.append(f"alerts from Prometheus unavailable: {exc}")
    if poller is not None:
        found += poller.stop()
        answered = answered or not poller.errors
        problems += [f"Alertmanager: {e}" for e in poller.errors[:3]]
    return (found if answered else None), problems


def run_once(setup: RunSetup, index: int, run_dir: Path, echo: Echo = print) -> dict[str, Any]:
    """One run of the campaign; returns (and writes) its score."""
    run_dir.mkdir(parents=True, exist_ok=True)
    poller = None
    if setup.alerts_enabled and setup.campaign.alerts.alertmanager:
        poller = alert_sources.AlertmanagerPoller(setup.campaign.alerts.alertmanager).start()
    master, workers = _start_processes(setup, run_dir)
    state = _drive(setup, run_dir, master, workers, echo)
    t_end = time.time()
    for event in read_events(run_dir):
        if event.get("event") == "test_stop":
            t_end = min(t_end, float(event["time"]))
        if event.get("event") == "guard_stop":
            state.problems.append(f"stopped by the failure guard (ratio {event['ratio']:.2f})")
        if event.get("event") == "worker_missing":
            state.problems.append(f"the master lost worker {event['worker']} (no heartbeat)")
    t0 = state.t0 if state.t0 is not None else t_end
    alerts, alert_problems = _collect_alerts(
        setup, t0, t_end + setup.campaign.scoring.grace_s, poller
    )
    state.problems += alert_problems
    records = [r for r in read_records(run_dir) if r.time >= t0 - 1]
    with open(run_dir / "ground-truth.jsonl", "w", encoding="utf-8") as gt:
        gt.writelines(json.dumps(e) + "\n" for e in state.ground_truth)
    if alerts is not None:
        (run_dir / "alerts.json").write_text(
            json.dumps([a.__dict__ for a in alerts], indent=1, default=list) + "\n"
        )
    scored = score_run(setup.campaign, records, state.ground_truth, alerts, t0, t_end)
    count, wanted = scored["metrics"]["requests"], setup.campaign.min_requests
    if count < wanted:
        state.problems.append(f"only {count} requests (the campaign asks for {wanted})")
    skipped = [] if setup.injector is not None else [f.name for f in setup.campaign.faults]
    result = {
        "run": index,
        "campaign": setup.campaign.name,
        "target": setup.target_url,
        "t0": t0,
        "t_end": t_end,
        "master_returncode": master.popen.returncode,
        "workers": [
            {
                "label": w.label,
                "netns": w.netns,
                "pid": w.popen.pid,
                "returncode": w.popen.returncode,
            }
            for w in workers
        ],
        "worker_deaths": state.deaths,
        "faults_skipped": skipped,
        "problems": state.problems,
        **scored,
    }
    (run_dir / "score.json").write_text(json.dumps(result, indent=2) + "\n")
    return result


def check_target(url: str, production: bool) -> str:
    """The URL pinned to the checked address (safety.check_target)."""
    return safety.check_target(url, production=production, field="target").pinned_url


# --- a whole campaign -----------------------------------------------------------


def check_fault_targets(campaign: Campaign, plan: Any) -> None:
    """Every scheduled fault names a device or link the running twin has (before any load)."""
    problems = []
    for i, spec in enumerate(campaign.faults):
        if spec.kind == "link":
            ok = bool(plan.veths_of(spec.target))
        else:
            ok = spec.target in plan.namespaces
        if not ok:
            problems.append(
                EmopsError.of(
                    f"faults[{i}].target",
                    f"the twin has no {'link' if spec.kind == 'link' else 'device'} {spec.target}",
                    "bring up more sites (`emops lab up --sites N`) or fix the campaign",
                    where=campaign.source,
                ).problems[0]
            )
    if problems:
        raise EmopsError(problems)


def twin_setup(campaign: Campaign, target: str | None, production: bool) -> RunSetup:
    """Workers in the client namespaces, load to the service VIP, faults through the lab."""
    lab = Lab.attach()
    check_fault_targets(campaign, lab.plan)
    url = check_target(target or service_url(lab.topo, campaign.target), production)
    if campaign.workers.placement == "local":
        workers, master = local_workers(campaign.workers), "127.0.0.1"
    else:
        workers = twin_workers(campaign.workers, lab.topo, read_state() or {})
        master = master_host(lab.topo)
    setup = RunSetup(
        campaign, url, workers, master, LabInjector(lab), campaign.load.customers, production
    )
    if campaign.random is not None:
        running = sorted(lab.plan.namespaces)
        setup.catalogue = catalogue(lab.topo, {d: list_services(d) for d in running})
    return setup


def for_run(setup: RunSetup, run: int, echo: Echo) -> RunSetup:
    """The setup of run `run`: a random campaign's faults drawn for it (seed and run
    number make the draw reproducible), a fixed campaign as it is."""
    c = setup.campaign
    if c.random is None or setup.catalogue is None:
        return setup
    plan = draw(c.random, setup.catalogue.candidates, run)
    for f in plan.faults:
        echo(f"run {run}: {f.at_s:6.1f}s {f.name} (hold {f.hold_s:g}s)")
    return replace(setup, campaign=with_plan(c, plan))


def run_all(setup: RunSetup, runs: int, out_dir: Path, pause_s: float, echo: Echo) -> list[dict]:
    results = []
    for i in range(1, runs + 1):
        if i > 1 and pause_s:
            time.sleep(pause_s)  # let the last run's alerts clear
        echo(f"run {i}/{runs}: {len(setup.workers) or 'no'} workers -> {setup.target_url}")
        result = run_once(for_run(setup, i, echo), i, out_dir / f"run-{i:02d}", echo)
        m = result["metrics"]
        echo(
            f"run {i}/{runs}: {m['requests']} requests, {m['failures']} failed, "
            f"p95 {m['p95_ms'] if m['p95_ms'] is None else round(m['p95_ms'], 1)} ms, "
            f"data precision {m['data_precision']}"
        )
        for problem in result["problems"]:
            echo(f"run {i}/{runs}: problem: {problem}")
        results.append(result)
    return results


def run_campaign(
    campaign: Campaign,
    out_dir: Path,
    runs: int | None = None,
    *,
    local: bool = False,
    production: bool = False,
    target: str | None = None,
    customers: int | None = None,
    echo: Echo = print,
    run_hook: Callable[[Path], None] | None = None,
) -> dict[str, Any]:
    """Every run of the campaign, then campaign.json (runs and mean with 95% interval)."""
    runs = runs or campaign.runs
    if local and campaign.random is not None:
        raise EmopsError.of(
            "--local",
            f"campaign {campaign.name} draws its faults from the twin",
            "run it on the twin (without --local)",
        )
    setup = None if local else twin_setup(campaign, target, production)  # checks, no changes
    if local and target is not None:
        check_target(target, production)  # refused before anything starts
    make_output_dir(out_dir)
    write_atomic(out_dir / "campaign.yml", Path(campaign.source).read_text(encoding="utf-8"))
    if setup is None:
        count = customers or campaign.load.customers
        with local_system(count, out_dir, echo) as url:
            setup = RunSetup(
                campaign, check_target(target or url, production), local_workers(campaign.workers),
                LOOPBACK, None, count, production, alerts_enabled=False, run_hook=run_hook,
            )  # fmt: skip
            results = run_all(setup, runs, out_dir, 0.0, echo)
    else:
        setup.run_hook = run_hook
        results = run_all(setup, runs, out_dir, campaign.pause_between_runs_s, echo)
    summary = {
        "campaign": campaign.name,
        "description": campaign.description,
        "source": campaign.source,
        "mode": "local" if local else "twin",
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "runs": results,
        "summary": summarize(results),
        "pooled": pooled(results),
        "kinds": kind_table(results),
        "uncovered": list(setup.catalogue.uncovered) if setup and setup.catalogue else [],
    }
    write_atomic(out_dir / "campaign.json", json.dumps(summary, indent=2) + "\n")
    board = dashboard_summary(summary)  # what the KPI dashboard reads
    write_atomic(out_dir / "summary.json", json.dumps(board, indent=2) + "\n")
    return summary
