"""Campaign files: the shipped ones load and fit the twin; mistakes are one line each."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from emops.errors import EmopsError
from emops.yamlread import Category
from loadtest.campaign import CAMPAIGN_DIR, load_campaign, parse_campaign
from loadtest.scoring import Alert, Fault

PAPER = yaml.safe_load((CAMPAIGN_DIR / "paper.yml").read_text())


def problems(raw: object) -> list[str]:
    with pytest.raises(EmopsError) as err:
        parse_campaign(raw, "c.yml")
    return [str(p) for p in err.value.problems]


def line_of(text: str, needle: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), 1) if needle in line)


def test_paper_campaign_is_the_papers_method() -> None:
    c = load_campaign("paper")
    assert c.runs == 8 and c.min_requests >= 1000
    assert sorted((f.kind, f.target) for f in c.faults) == [
        ("daemon", "hq-db2"),
        ("device", "hq-core1"),
        ("device", "hq-lb1"),
        ("device", "hq-web1"),
        ("link", "anping-private"),
    ]
    assert len(c.quiet) >= 3, "quiet before, between and after the fault batches"
    assert c.alerts.prometheus and c.alerts.alertmanager
    # at ~1 request per 1.5 user-seconds, the steady stage alone is well above 1000 requests
    assert c.load.stages[1].users * (c.load.stages[1].until_s - c.load.stages[0].until_s) > 4_000
    # 8 runs fit the 20 minutes the issue allows, with ~15 s per run to start workers
    assert c.runs * (c.duration_s + c.pause_between_runs_s + 15) <= 20 * 60


def test_a_fault_settles_for_its_own_time_and_a_late_one_delays_the_next_run() -> None:
    c = load_campaign("paper")
    link = next(f for f in c.faults if f.kind == "link")
    assert c.settle_of(link) == link.settle_s == 44
    assert c.pause_between_runs_s == 0, "the last quiet window already waits for every fault"
    raw = copy.deepcopy(PAPER)
    raw["faults"][3]["settle"] = "50s"  # repair at 87 s + 50 s: 13 s past the run's end
    raw["no_fault_windows"].pop()
    assert parse_campaign(raw, "c.yml").pause_between_runs_s == pytest.approx(13)


def test_smoke_campaign_is_short() -> None:
    c = load_campaign("smoke")
    assert c.duration_s * c.runs <= 120 and c.faults and c.quiet


@pytest.mark.parametrize("name", ["paper", "smoke"])
def test_campaign_targets_exist_in_the_lab_inventory(name: str) -> None:
    from emops.topology import load_topology

    topo = load_topology("inventory/lab")
    c = load_campaign(name)
    links = {link.name for link in topo.links}
    for f in c.faults:
        assert f.target in (links if f.kind == "link" else topo.devices), f.name
    assert any(v.name == c.target for s in topo.segments for v in s.vips)


def test_declared_matchers_apply_to_the_faulted_target() -> None:
    c = load_campaign("paper")
    web = Fault("device", "hq-web1", 0, 10)
    matchers = c.matchers_for(web)
    labels = {"device": "hq-lb1", "proxy": "marketing_web"}  # as HAProxy names its backend
    backend = Alert.of("LoadBalancerBackendDown", labels, 1)
    snmp = Alert.of("SnmpTargetDown", {"device": "hq-web1"}, 1)
    other = Alert.of("SnmpTargetDown", {"device": "hq-web2"}, 1)
    assert [any(m.matches(a) for m in matchers) for a in (backend, snmp, other)] == [
        True,
        True,
        False,
    ]


def test_each_mistake_is_one_line_naming_the_field() -> None:
    raw = copy.deepcopy(PAPER)
    raw["runs"] = 0
    raw["load"]["stages"][1]["users"] = "many"
    raw["faults"][1]["kind"] = "power"
    raw["faults"][2].pop("daemon")
    raw["faults"][3]["hold"] = "30 parsecs"
    raw["scoring"]["grase"] = "10s"
    assert problems(raw) == [
        "c.yml: scoring.grase: unknown field (did you mean grace?)",
        "c.yml: runs: 0 must be from 1 to 100",
        "c.yml: load.stages[1].users: 'many' is not a whole number",
        "c.yml: faults[1].kind: 'power' is not a fault kind (use one of: link, device, daemon, "
        "cpu-high, overheat, optics-degrade, psu-fail)",
        "c.yml: faults[2].daemon: is required for a daemon fault"
        " (the service name, e.g. postgresql)",
        "c.yml: faults[3].hold: unknown time unit 'parsecs' (use ns, us, ms, s, min or h)",
    ]


def test_timeline_is_checked_only_once_the_fields_read() -> None:
    """A checkpoint: a field that failed is one problem, not also the timeline it breaks."""
    raw = copy.deepcopy(PAPER)
    raw["no_fault_windows"][1]["at"] = "55s"  # inside city-link-cut's settle
    (overlap,) = problems(raw)
    assert overlap.startswith("c.yml: no_fault_windows[1]: overlaps fault city-link-cut (")
    raw["duration"] = "ten minutes"  # would also end every stage, fault and window late
    assert problems(raw) == [
        "c.yml: duration: 'ten minutes' is not a number with a unit (write it like 30s or 20ms)"
    ]


def test_a_typo_in_a_campaign_file_is_one_line_with_its_line_number(tmp_path: Path) -> None:
    text = (CAMPAIGN_DIR / "smoke.yml").read_text()
    typo = text.replace("  grace: 10s", "  grase: 10s").replace("hold: 15s", "hold: 15 parsecs")
    path = tmp_path / "typo.yml"
    path.write_text(typo)
    number = {word: line_of(typo, word) for word in ("grase", "parsecs")}
    with pytest.raises(EmopsError) as err:
        load_campaign(str(path))
    assert [str(p) for p in err.value.problems] == [
        f"{path}:{number['grase']}: scoring.grase: unknown field (did you mean grace?)",
        f"{path}:{number['parsecs']}: faults[0].hold: unknown time unit 'parsecs'"
        " (use ns, us, ms, s, min or h)",
    ]
    assert [p.category for p in err.value.problems] == [Category.UNKNOWN_KEY, Category.VALUE]


def test_timeline_must_fit_the_run() -> None:
    raw = copy.deepcopy(PAPER)
    raw["duration"] = "90s"
    text = "\n".join(problems(raw))
    assert "load.stages[2].until: ends after the run's duration" in text
    assert "faults[3].hold: repair at 87s + grace 15s is after the end" in text
    assert "no_fault_windows[2].until: is after the run's end" in text
    no_stages = "\n".join(problems({**raw, "duration": "645s", "load": {"stages": []}}))
    assert "load.stages: needs at least one stage" in no_stages


def test_stages_in_order_and_required_fields() -> None:
    raw = copy.deepcopy(PAPER)
    raw["load"]["stages"][1]["until"] = "2s"
    del raw["faults"][0]["target"]
    raw["faults"][3]["name"] = raw["faults"][0]["name"]
    text = "\n".join(problems(raw))
    assert "load.stages[1].until: must be later than the stage before" in text
    assert "faults[0].target: is required" in text
    assert "faults[3].name: 'city-link-cut' is used twice" in text


def test_empty_and_missing_campaigns(tmp_path: Path) -> None:
    (tmp_path / "empty.yml").write_text("")
    with pytest.raises(EmopsError, match="campaign: is empty"):
        load_campaign(str(tmp_path / "empty.yml"))
    with pytest.raises(EmopsError, match=r"no campaign 'nope'.*known campaigns: .*paper"):
        load_campaign("nope")
    (tmp_path / "bad.yml").write_text("name: [unclosed\n")
    with pytest.raises(EmopsError) as err:
        load_campaign(str(tmp_path / "bad.yml"))
    assert "bad.yml:" in str(err.value) and "not valid YAML" in str(err.value)
