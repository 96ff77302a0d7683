"""Random campaigns: the catalogue of faults the twin can take, what each must raise,
and a draw that is reproducible, balanced over kinds and keeps quiet windows clear."""

from __future__ import annotations

import subprocess
from dataclasses import replace
from pathlib import Path

import pytest

from emops.errors import EmopsError
from emops.topology import load_topology
from lab.vendor_agent import FAULTS
from loadtest.campaign import Draw, load_campaign, parse_campaign
from loadtest.fault_catalogue import DAEMON_ALERTS, HEALTH_ALERTS, catalogue, draw, with_plan
from loadtest.scoring import Alert, Fault

ROOT = Path(__file__).resolve().parents[2]
LAB = load_topology(ROOT / "inventory" / "lab")
# what the twin's service manager lists on a few devices (lab.services.list_services)
SERVICES = {
    "hq-web1": ["nginx", "snmpd", "sshd"],
    "hq-app1": ["marketing", "snmpd"],
    "hq-cti1": ["cti", "snmpd"],
    "hq-core1": ["keepalived", "ospfd", "snmpd", "zebra"],
    "hq-wan-private": ["ospfd", "snmpd", "zebra"],
    "hq-wan-backup": ["ospfd", "snmpd", "zebra"],
    "anping-wan": ["ospfd", "snmpd", "zebra"],
    "anping-client": ["sshd"],
}


def matches(candidate, name: str, **labels: str) -> bool:
    alert = Alert.of(name, labels, 0.0)
    return any(m.matches(alert) for m in candidate.expected)


def test_every_candidate_names_what_it_breaks() -> None:
    cat = catalogue(LAB, SERVICES)
    by = {c.label: c for c in cat.candidates}
    assert matches(by["link anping-private"], "LinkDown", link="anping-private")
    members = [c for c in cat.candidates if c.family == "member" and c.target == "anping-backup"]
    assert len(members) == 4 and matches(members[0], "BundleDegraded", link="anping-backup")
    web = by["device hq-web1"]
    assert matches(web, "SnmpTargetDown", device="hq-web1")
    assert matches(web, "LoadBalancerBackendDown", server="hq-web1", device="hq-lb1")
    assert matches(by["daemon hq-web1 nginx"], "LoadBalancerBackendDown", server="hq-web1")
    assert matches(by["daemon hq-app1 marketing"], "ServerServiceDown", device="hq-app1")
    assert matches(by["daemon hq-cti1 cti"], "ServiceGroupDown", service="cti")
    ospf = by["daemon anping-wan ospfd"]
    assert matches(ospf, "OspfNeighborLost", device="hq-wan-private", neighbor_device="anping-wan")
    assert not matches(ospf, "OspfNeighborLost", neighbor_device="baishan-wan")
    assert matches(by["overheat hq-core1"], "TemperatureHigh", device="hq-core1")
    assert matches(by["psu-fail anping-wan"], "PowerSupplyFailed", device="anping-wan")
    assert "device anping-client" not in by  # the users' machines are not faulted
    # daemons no alert names are reported, never drawn
    assert "hq-core1 zebra" in cat.uncovered and "hq-web1 sshd" in cat.uncovered
    assert all(c.daemon in DAEMON_ALERTS for c in cat.candidates if c.daemon)


def test_a_draw_is_reproducible_balanced_and_keeps_quiet_windows_clear() -> None:
    cat = catalogue(LAB, SERVICES)
    spec = Draw(seed=7, faults=40, hold_min_s=10, hold_max_s=20, settle_s=30, quiet=10)
    plan = draw(spec, cat.candidates, run=1)
    assert plan == draw(spec, cat.candidates, run=1)
    assert plan != draw(spec, cat.candidates, run=2)  # each run its own faults
    assert len(plan.faults) == 40 and len(plan.quiet) == 10
    families = {f.kind if f.kind in ("link", "device", "daemon") else "health" for f in plan.faults}
    assert families == {"link", "device", "daemon", "health"}
    assert plan.end_s <= spec.worst_case_s
    for start, end in plan.quiet:
        for f in plan.faults:
            assert end <= f.at_s or start >= f.repair_at_s + spec.settle_s - 1e-6, (start, f)
    for f in plan.faults:
        assert spec.hold_min_s <= f.hold_s <= spec.hold_max_s and f.detected_by


def test_several_faults_at_once_hit_different_targets() -> None:
    cat = catalogue(LAB, SERVICES)
    plan = draw(Draw(seed=3, faults=30, at_once=3, quiet=0), cat.candidates)
    by_time: dict[float, list[str]] = {}
    for f in plan.faults:
        by_time.setdefault(f.at_s, []).append(f.target)
    assert any(len(targets) > 1 for targets in by_time.values())
    assert all(len(targets) == len(set(targets)) for targets in by_time.values())


def test_the_shipped_random_campaign_covers_its_plan_and_scores_health_faults() -> None:
    c = load_campaign("random")
    assert c.random is not None and not c.faults
    assert c.duration_s >= c.random.worst_case_s + c.scoring.grace_s
    only_health = replace(c.random, families=("health",))
    drawn = with_plan(c, draw(only_health, catalogue(LAB, SERVICES).candidates))
    spec = drawn.faults[0]
    # the ground truth logs a health fault by what it touches (cpu, temperature ...)
    # with its name as detail: the drawn alert must still be the one that detects it
    logged = FAULTS[spec.kind].kind
    fault = Fault(logged, spec.target, 0, 1, (("fault", spec.kind),))
    names = {m.alertname for m in drawn.matchers_for(fault)}
    assert HEALTH_ALERTS[spec.kind] in names


@pytest.mark.parametrize(
    ("extra", "words"),
    [
        ("faults: []\n", "faults: is drawn by `random:`"),
        ("", "duration: 60s is shorter than the random plan's worst case"),
    ],
)
def test_a_random_campaign_says_what_does_not_fit(extra: str, words: str) -> None:
    text = (
        "name: r\nruns: 1\nduration: 60s\nload: {stages: [{until: 60s, users: 2}]}\n"
        "random: {seed: 1, faults: 5}\n" + extra
    )
    import yaml

    with pytest.raises(EmopsError) as caught:
        parse_campaign(yaml.safe_load(text), "r.yml")
    assert words in str(caught.value)


def emops(*args: str) -> subprocess.CompletedProcess:
    argv = [str(ROOT / ".venv" / "bin" / "emops"), *args]
    return subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=120)


def test_the_random_campaign_as_a_user_types_it() -> None:
    checked = emops("campaign", "check", "random")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    refused = emops("campaign", "run", "random", "--local")
    assert refused.returncode == 2
    (line,) = refused.stderr.strip().splitlines()
    assert "draws its faults from the twin" in line and "without --local" in line
