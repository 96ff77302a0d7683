"""The short load-and-fault campaign on the monitored twin, end to end (the CI version of
`emops campaign run paper`).

Locust workers run in every city's client namespace, a web server is frozen
mid-run, the alerts are read back from the real Prometheus and Alertmanager,
and every run is scored. What a tester relies on: the load crossed every
city, every answer was checked, the fault was detected by the right alert in
time, the healthy windows raised nothing, and the report agrees with the runs.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from loadtest.campaign import load_campaign

pytestmark = [pytest.mark.root, pytest.mark.slow]


def runs(out: Path) -> list[dict]:
    return [json.loads(p.read_text()) for p in sorted(out.glob("run-*/score.json"))]


def test_every_run_loads_every_city_and_checks_every_answer(smoke_campaign, twin):
    campaign = load_campaign("smoke")
    scored = runs(smoke_campaign)
    assert len(scored) == campaign.runs
    cities = {s for s in twin["sites"] if s != "hq"}
    for run in scored:
        assert not run["problems"] and not run["worker_deaths"], run["problems"]
        m = run["metrics"]
        assert m["requests"] >= campaign.min_requests
        assert m["checks"] >= m["requests"] - m["failures"], "every answer's checksum verified"
        assert m["data_precision"] == 1.0
        workers = {
            p.name.split("-")[1]
            for p in (smoke_campaign / f"run-{run['run']:02d}").glob("requests-*.csv")
        }
        assert workers == cities, "one worker inside each city's client namespace"


def test_the_fault_is_detected_and_the_quiet_windows_stay_quiet(smoke_campaign):
    for run in runs(smoke_campaign):
        alarms = run["alarms"]
        assert (alarms["tp"], alarms["fn"]) == (1, 0), alarms
        assert alarms["fp"] == 0, alarms["false_alarms"]
        (detection,) = alarms["detections"]
        assert detection["fault"] == "device hq-web1"
        assert detection["alert"] in {"LoadBalancerBackendDown", "SnmpTargetDown"}
        assert detection["detected_s"] < 15, "within the fault's hold"


def test_the_report_agrees_with_the_runs(smoke_campaign):
    summary = json.loads((smoke_campaign / "campaign.json").read_text())["summary"]
    scored = runs(smoke_campaign)
    mean = sum(r["metrics"]["requests"] for r in scored) / len(scored)
    assert summary["requests"]["mean"] == pytest.approx(mean)
    report = smoke_campaign / "report"
    assert (report / "index.html").stat().st_size > 1000
    with open(report / "runs.csv") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == len(scored)


def test_a_short_random_campaign_detects_every_drawn_fault(random_campaign):
    """Three faults drawn from the twin's catalogue (fixed seed): each named by an alert
    the model says must name it, the quiet window quiet, the per-kind table written."""
    (run,) = runs(random_campaign)
    assert not run["problems"], run["problems"]
    alarms = run["alarms"]
    drawn = [d["fault"] for d in alarms["detections"]]
    assert len(drawn) == 3, drawn
    missed = [(d["fault"], [a["name"] for a in d["instead"]]) for d in alarms["detections"]
              if d["detected_s"] is None]  # fmt: skip
    assert not missed, f"drawn {drawn}; missed (what fired instead): {missed}"
    assert alarms["fp"] == 0, alarms["false_alarms"]
    results = json.loads((random_campaign / "campaign.json").read_text())
    assert sum(k["faults"] for k in results["kinds"]) == 3
    assert results["pooled"]["detection_rate"]["k"] == 3
    assert "uncovered" in results
