"""Run scores from raw material, and a report whose HTML says exactly what its CSVs say."""

from __future__ import annotations

import csv
import json
from html.parser import HTMLParser
from pathlib import Path

import pytest

from emops.errors import EmopsError
from loadtest.campaign import load_campaign
from loadtest.intervals import wilson
from loadtest.report import latest_results, write_report
from loadtest.results import METRICS, dashboard_summary, score_run, summarize
from loadtest.scoring import Alert, Request

T0 = 1_000_000.0


def make_run(index: int, slow_ms: float, with_alerts: bool = True) -> dict:
    """A paper-campaign run: steady load, one check failure, the link fault detected."""
    c = load_campaign("paper")
    records = []
    for i in range(600):
        t = T0 + i
        records.append(Request(t, "GET", "/customers/[id]", 2.0 + (i % 10) * slow_ms, i % 200 != 0))
        records.append(Request(t, "CHECK", "/customers/[id]", 0.0, i != 300))
    link = next(f for f in c.faults if f.kind == "link")
    quiet = c.quiet[0][0]
    gt = [
        {"time": T0 + link.at_s, "event": "fault", "kind": "link", "target": link.target},
        {"time": T0 + link.repair_at_s, "event": "repair", "kind": "link", "target": link.target},
    ]
    alerts = [
        Alert.of(
            "LinkDown",
            {"link": link.target, "severity": "info"},
            T0 + link.at_s + 12,
            T0 + link.repair_at_s + 5,
        ),
        Alert.of(  # inside the first quiet window: a false alarm
            "SnmpTargetDown",
            {"device": "hq-fw", "severity": "info"},
            T0 + quiet + 1,
            T0 + quiet + 4,
        ),
    ]
    scored = score_run(c, records, gt, alerts if with_alerts else None, T0, T0 + 600)
    return {"run": index, "campaign": "paper", "problems": [], "worker_deaths": [], **scored}


def test_score_run_numbers() -> None:
    run = make_run(1, 1.0)
    m = run["metrics"]
    assert m["requests"] == 600 and m["failures"] == 3 and m["check_failures"] == 1
    assert m["downtime_rate"] == pytest.approx(3 / 600)
    assert m["data_precision"] == pytest.approx(1 - 1 / 600)
    assert (m["tp"], m["fn"], m["fp"], m["tn"]) == (1, 0, 1, 2)  # 3 quiet windows, 1 alarmed
    assert m["alarm_precision"] == 0.5 and m["false_alarm_rate"] == pytest.approx(1 / 3)
    assert m["detection_s_mean"] == 12
    assert run["alarms"]["detections"][0]["alert"] == "LinkDown"


def test_no_alert_source_leaves_alarm_metrics_undefined() -> None:
    m = make_run(1, 1.0, with_alerts=False)["metrics"]
    assert m["alarm_precision"] is None and m["tp"] is None and m["requests"] == 600


class Cells(HTMLParser):
    """Collects <td data-table data-row data-key> cell texts."""

    def __init__(self) -> None:
        super().__init__()
        self.cells: dict[tuple[str, int, str], str] = {}
        self._at: tuple[str, int, str] | None = None

    def handle_starttag(self, tag: str, attrs: list) -> None:
        a = dict(attrs)
        if tag == "td" and "data-key" in a:
            self._at = (a["data-table"], int(a["data-row"]), a["data-key"])
            self.cells[self._at] = ""

    def handle_data(self, data: str) -> None:
        if self._at is not None:
            self.cells[self._at] += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "td":
            self._at = None


def read_csv(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def test_report_html_equals_its_csvs(tmp_path: Path) -> None:
    runs = [make_run(i, slow, with_alerts=i != 3) for i, slow in ((1, 1.0), (2, 2.0), (3, 1.5))]
    runs[1]["problems"] = ["worker anping (pid 7) died 3.0 s into the run (exit -9)"]
    runs[1]["worker_deaths"] = [{"worker": "anping"}]
    results = {
        "campaign": "paper",
        "mode": "twin",
        "description": "d",
        "created": "now",
        "runs": runs,
    }
    (tmp_path / "campaign.json").write_text(json.dumps(results))
    table1 = {
        "rows": [
            {"mode": "bulk", "scenario": "F=1MB R=2s", "estimate_bps": 4.2e6, "shaped_bps": 4.2e6,
             "required_s": 2.0, "measured_s": 2.05, "measured_bps": 4.1e6, "error": 0.025},
        ]
    }  # fmt: skip
    (tmp_path / "table1.json").write_text(json.dumps(table1))
    page = write_report(tmp_path)
    out = tmp_path / "report"
    for name in (
        "fig2-delay.png",
        "fig3-downtime.png",
        "fig4-precision.png",
        "fig5-false-alarm.png",
        "table1.png",
    ):
        assert (out / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", name
    parser = Cells()
    parser.feed(page.read_text())
    for table, path in (("runs", "runs.csv"), ("summary", "summary.csv"), ("table1", "table1.csv")):
        rows = read_csv(out / path)
        assert rows, path
        for i, row in enumerate(rows):
            for key, value in row.items():
                assert parser.cells[(table, i, key)] == value, (table, i, key)
    summary = {r["metric"]: r for r in read_csv(out / "summary.csv")}
    expected = summarize(runs)
    assert [r for r in summary] == [k for k, _, _ in METRICS]
    assert float(summary["p95_ms"]["mean"]) == pytest.approx(expected["p95_ms"]["mean"], rel=1e-5)
    assert summary["alarm_precision"]["n"] == "2"  # run 3 had no alert source
    assert float(summary["false_alarm_rate"]["mean"]) == pytest.approx(1 / 3)
    runs_csv = read_csv(out / "runs.csv")
    assert runs_csv[1]["worker_deaths"] == "1" and "died" in runs_csv[1]["problems"]
    assert runs_csv[2]["alarm_precision"] == ""


def test_report_pools_samples_with_wilson_and_lists_misses_by_kind(tmp_path: Path) -> None:
    runs = [make_run(i, 1.0) for i in (1, 2)]
    missed = runs[1]["alarms"]["detections"][0]
    missed.update(detected_s=None, alert=None)
    missed["instead"] = [{"name": "SnmpTargetDown", "labels": {}, "starts_at": 0, "ends_at": 1}]
    runs[1]["metrics"].update(tp=0, fn=1)
    results = {"campaign": "paper", "mode": "twin", "description": "d", "created": "now"}
    (tmp_path / "campaign.json").write_text(json.dumps({**results, "runs": runs}))
    page = write_report(tmp_path)
    out = tmp_path / "report"
    parser = Cells()
    parser.feed(page.read_text())
    for table in ("pooled", "kinds", "misses"):
        rows = read_csv(out / f"{table}.csv")
        assert rows, table
        for i, row in enumerate(rows):
            for key, value in row.items():
                assert parser.cells[(table, i, key)] == value, (table, i, key)
    pooled = {r["metric"]: r for r in read_csv(out / "pooled.csv")}
    detection = pooled["detection_rate"]
    assert (detection["k"], detection["n"]) == ("1", "2")
    assert float(detection["low"]) == pytest.approx(wilson(1, 2).low, rel=1e-3)
    assert (pooled["false_alarm_rate"]["k"], pooled["false_alarm_rate"]["n"]) == ("2", "6")
    (kind,) = read_csv(out / "kinds.csv")
    assert (kind["kind"], kind["faults"], kind["detected"], kind["misattributed"]) == (
        "link",
        "2",
        "1",
        "1",
    )
    (miss,) = read_csv(out / "misses.csv")
    assert miss["run"] == "2" and miss["instead"] == "SnmpTargetDown"


def test_report_finds_the_newest_results(tmp_path: Path) -> None:
    with pytest.raises(EmopsError, match="no campaign results"):
        latest_results(tmp_path)
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "campaign.json").write_text("{}")
    assert latest_results(tmp_path).name == "b"
    with pytest.raises(EmopsError, match=r"has no campaign\.json"):
        write_report(tmp_path)


def test_dashboard_summary_is_flat_per_run() -> None:
    runs = [{**make_run(1, 1.0), "t0": T0, "t_end": T0 + 600}, make_run(2, 2.0, with_alerts=False)]
    board = dashboard_summary({"campaign": "paper", "description": "d", "runs": runs})
    assert board["campaign"] == "paper" and board["started"].startswith("1970-01-12")
    first, second = board["runs"]
    assert first["tests"] == 600 and first["failed"] == 3 and first["tp"] == 1
    assert first["delay_p50_s"] == pytest.approx(runs[0]["metrics"]["p50_ms"] / 1000)
    assert first["false_alarm_rate"] == pytest.approx(1 / 3) and second["alarm_precision"] is None
    json.dumps(board)  # plain JSON


def test_summary_interval_is_clipped_to_the_metric_range() -> None:
    runs = [{"metrics": {"p95_ms": v, "data_precision": p}} for v, p in ((1.0, 1.0), (100.0, 0.9))]
    s = summarize(runs)
    assert s["p95_ms"]["low"] == 0.0 and s["p95_ms"]["high"] > 100
    assert s["data_precision"]["high"] == 1.0 and 0 <= s["data_precision"]["low"] < 0.9
    assert s["requests"] == {"n": 0, "mean": None, "low": None, "high": None}
