"""The running twin, shared by every test in tests/twin/.

One twin per machine: the session takes an exclusive lock on
/run/emops-twin.lock (so two test runs, or a developer's session, never build
on each other's namespaces), brings up the default twin and tears it down at
the end unless EMOPS_KEEP_TWIN=1.
"""

from __future__ import annotations

import fcntl
import json
import os
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from testkit import require_namespaces

from lab.bringup import lab_down, lab_up, read_state

from .kit import MEASURED, ROOT, run_site, tail, wait_for_service

TWIN_LOCK = "/run/emops-twin.lock"
LAB_INVENTORY = str(Path(__file__).resolve().parents[2] / "inventory" / "lab")
SITES = int(os.environ.get("EMOPS_TWIN_SITES", "3"))


def pytest_terminal_summary(terminalreporter) -> None:
    """The figures the twin tests measured (for the docs), in the run's summary."""
    if MEASURED:
        terminalreporter.write_line(f"measured on the twin: {json.dumps(MEASURED)}")


@pytest.fixture(scope="session")
def twin_lock() -> Iterator[None]:
    require_namespaces("the twin", "tc", "nft", "unshare", "nsenter", "/usr/sbin/sshd")
    with open(TWIN_LOCK, "w") as handle:
        deadline = time.monotonic() + 1800
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    pytest.fail(f"{TWIN_LOCK} held for 30 minutes by another twin user")
                time.sleep(1)
        yield


@pytest.fixture(scope="session")
def twin(twin_lock) -> Iterator[dict]:
    """The default twin, up; yields its state (inventory, sites, devices)."""
    state = read_state()
    if state and len(state["sites"]) - 1 != SITES:  # a twin of another size is up
        lab_down(LAB_INVENTORY, echo=lambda _: None)
    lab_up(LAB_INVENTORY, SITES, echo=lambda _: None)
    yield read_state()
    if os.environ.get("EMOPS_KEEP_TWIN") != "1":
        lab_down(LAB_INVENTORY, echo=lambda _: None)


@pytest.fixture(scope="session")
def provisioned(twin) -> Iterator[dict]:
    """The twin after site.yml: from bare (failed=0, unreachable=0 everywhere), again
    (changed=0 everywhere), then --check --diff (no change, no failure)."""
    hosts = set(twin["devices"])
    recap, first, out = run_site()
    assert set(recap) == hosts, tail(out)
    bad = {h: r for h, r in recap.items() if r["failed"] or r["unreachable"]}
    assert not bad, f"{bad}\n{tail(out)}"
    recap, second, out = run_site()
    changed = {h: r["changed"] for h, r in recap.items() if r["changed"]}
    assert set(recap) == hosts and not changed, f"second run changed {changed}\n{tail(out)}"
    recap, check, out = run_site("--check", "--diff")
    bad = {h: r for h, r in recap.items() if r["failed"] or r["unreachable"] or r["changed"]}
    assert set(recap) == hosts and not bad, f"check mode: {bad}\n{tail(out)}"
    MEASURED.update(site_s=round(first, 1), rerun_s=round(second, 1), check_s=round(check, 1))
    wait_for_service()
    yield twin


@dataclass(frozen=True)
class Monitoring:
    """`emops monitor up` on the provisioned twin: where its pieces answer."""

    prometheus: str  # http://127.0.0.1:PORT
    alertmanager: str
    state: Path
    env: dict[str, str]


@pytest.fixture(scope="session")
def monitored(provisioned, tmp_path_factory) -> Iterator[Monitoring]:
    """Prometheus, Alertmanager, the alert sink and both collectors watching the twin,
    started as a user does (`emops monitor up`) and stopped by `emops monitor down`."""
    state = tmp_path_factory.mktemp("monitor")
    env = os.environ | {"EMOPS_MONITOR_DIR": str(state)}
    # the default addresses: the campaigns read their alerts there, as a tester's do
    prom, am = "127.0.0.1:9090", "127.0.0.1:9093"
    emops = [str(ROOT / ".venv" / "bin" / "emops"), "monitor"]
    up = [*emops, "up", "-i", "inventory/lab"]
    started = subprocess.run(up, cwd=ROOT, env=env, capture_output=True, text=True, timeout=180)
    try:
        assert started.returncode == 0, started.stdout + started.stderr
        yield Monitoring(f"http://{prom}", f"http://{am}", state, env)
    finally:
        subprocess.run([*emops, "down"], cwd=ROOT, env=env, capture_output=True, timeout=120)


@pytest.fixture(scope="session")
def smoke_campaign(monitored, tmp_path_factory) -> Path:
    """`emops campaign run smoke` on the monitored twin, as a tester runs it; its results
    directory (campaign.json, run-NN/score.json, report/)."""
    out = tmp_path_factory.mktemp("campaigns") / "smoke-twin"
    argv = [str(ROOT / ".venv" / "bin" / "emops"), "campaign", "run", "smoke", "--out", str(out)]
    done = subprocess.run(
        argv, cwd=ROOT, env=monitored.env, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, tail(done.stdout + done.stderr)
    return out


# A short random campaign: three faults drawn (fixed seed) from the running twin's whole
# catalogue, one quiet window among them; the full one is campaigns/random.yml.
SHORT_RANDOM = {
    "runs": 1,
    "min_requests": 100,
    "duration": "215s",  # the plan's worst case 199 s plus the scoring grace
    "random": {
        "seed": 11,
        "faults": 3,
        "hold": {"min": "15s", "max": "18s"},
        "settle": "30s",
        "quiet": {"count": 1, "length": "10s"},
        "warmup": "15s",
    },
}


@pytest.fixture(scope="session")
def random_campaign(monitored, tmp_path_factory) -> Path:
    """`emops campaign run FILE` of a short random campaign on the monitored twin."""
    import yaml

    base = yaml.safe_load((ROOT / "campaigns" / "random.yml").read_text())
    base.update(SHORT_RANDOM)
    base["load"]["stages"][-1]["until"] = SHORT_RANDOM["duration"]
    folder = tmp_path_factory.mktemp("campaigns")
    path = folder / "random-short.yml"
    path.write_text(yaml.safe_dump(base))
    out = folder / "random-twin"
    argv = [str(ROOT / ".venv" / "bin" / "emops"), "campaign", "run", str(path), "--out", str(out)]
    done = subprocess.run(
        argv, cwd=ROOT, env=monitored.env, capture_output=True, text=True, timeout=900
    )
    assert done.returncode == 0, tail(done.stdout + done.stderr)
    return out
