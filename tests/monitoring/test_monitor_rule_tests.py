"""promtool runs the rule unit tests; every alert is shown both firing and quiet.

Also the drift checks: monitoring/generated/ and monitoring/tests/ must be
exactly what the generators write today (CI fails when someone edits a
generated file or forgets to regenerate after changing the inventory or rules).
"""

from __future__ import annotations

import subprocess

import pytest
import yaml
from monitor_helpers import GENERATED, NETWORKS, ROOT, RULE_TESTS, tool
from monitor_rule_tests import lab_topology, render_files

from emops.monitoring import render_all, settings_for
from emops.monitoring.rules import alert_names, rule_groups
from emops.topology import load_topology

LOCATION_LABELS = {"service", "site", "link", "device"}


def _test_files() -> list:
    return sorted(RULE_TESTS.glob("*.yml"))


def _checks() -> list[dict]:
    found = []
    for path in _test_files():
        for case in yaml.safe_load(path.read_text())["tests"]:
            found += case["alert_rule_test"]
    return found


def _lab_alerts() -> list[str]:
    topo = load_topology(ROOT / "inventory" / "lab")
    return alert_names(rule_groups(topo, settings_for(topo)))


@pytest.mark.parametrize("network", NETWORKS)
def test_generated_config_has_not_drifted(network):
    topo = load_topology(ROOT / "inventory" / network)
    expected = render_all(topo, settings_for(topo)).files
    for relative, text in expected.items():
        committed = GENERATED / network / relative
        assert committed.is_file(), f"run: emops monitor config -i inventory/{network}"
        assert committed.read_text() == text, (
            f"{committed} differs from the generator: run "
            f"`emops monitor config -i inventory/{network}` (never edit it by hand)"
        )
    on_disk = {
        p.relative_to(GENERATED / network).as_posix()
        for p in (GENERATED / network).rglob("*")
        if p.is_file()
    }
    assert on_disk == set(expected), "stale files in the generated directory"


def test_rule_tests_have_not_drifted():
    expected = render_files(lab_topology())
    assert {p.name for p in _test_files()} == set(expected)
    for name, text in expected.items():
        assert (RULE_TESTS / name).read_text() == text, (
            f"monitoring/tests/{name} differs: run .venv/bin/python "
            "tests/monitoring/monitor_rule_tests.py"
        )


def test_promtool_runs_every_rule_test():
    promtool = tool("promtool")
    files = [str(p.relative_to(RULE_TESTS)) for p in _test_files()]
    done = subprocess.run(
        [promtool, "test", "rules", *files],
        cwd=RULE_TESTS,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout[-20000:] + done.stderr[-5000:]
    assert done.stdout.count("SUCCESS") == len(files)


def test_every_alert_is_tested_firing_and_quiet():
    checks = _checks()
    for name in _lab_alerts():
        mine = [c for c in checks if c["alertname"] == name]
        assert any(c["exp_alerts"] for c in mine), f"{name} is never shown firing"
        assert any(not c["exp_alerts"] for c in mine), f"{name} is never shown quiet"


def test_every_fired_alert_names_where_it_is():
    for check in _checks():
        for alert in check["exp_alerts"]:
            labels = alert["exp_labels"]
            assert labels["severity"] in ("page", "info")
            assert LOCATION_LABELS & set(labels), (check["alertname"], labels)
            assert alert["exp_annotations"]["summary"]
            assert alert["exp_annotations"]["description"]


def test_fused_alerts_have_single_sensor_negatives():
    """Each sensor alone must not fire a fused (paging) verdict: a case shows it quiet."""
    names = {}
    for path in _test_files():
        for case in yaml.safe_load(path.read_text())["tests"]:
            for check in case["alert_rule_test"]:
                if not check["exp_alerts"]:
                    names.setdefault(check["alertname"], []).append(case["name"])
    service = names["MarketingServiceDown"]
    for alone in (
        "every probe fails",
        "no healthy backend",
        "no VRRP master",
        "primary database down",
    ):
        assert any(n.startswith(alone) for n in service), alone
    isolated = names["WanSiteIsolated"]
    for alone in (
        "private link cut (SNMP poll)",
        "private link down by trap only",
        "the backup bundle cut alone",
    ):
        assert any(n.startswith(alone) for n in isolated), alone


def test_docs_explain_every_alert():
    docs = (ROOT / "docs" / "monitoring.md").read_text()
    for name in _lab_alerts():
        assert f"`{name}`" in docs, f"docs/monitoring.md does not mention {name}"
