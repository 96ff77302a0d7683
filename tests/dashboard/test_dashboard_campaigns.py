"""Campaign results: the documented files, derived ratios, intervals, and tolerance."""

from __future__ import annotations

import json

import pytest
from campaignfixture import CAMPAIGN_RUNS, write_campaigns

from dashboard import campaigns


def test_reads_json_and_csv_campaigns_oldest_first(tmp_path):
    found = campaigns.read_campaigns(write_campaigns(tmp_path))
    assert [c.name for c in found] == ["2026-01-10-baseline", "faults-8x1200"]
    newest = found[-1]
    assert len(newest.runs) == 8 and newest.scenario.startswith("web, lb")
    assert [f.name for f in newest.figures] == ["figure-delay.png"]
    assert campaigns.latest(tmp_path).name == "faults-8x1200"


def test_ratios_are_derived_from_counts_when_absent():
    run = campaigns.normalise_run({"run": "1", "tests": "1000", "failed": "4", "tp": "9",
                                   "fp": "1", "tn": "39", "fn": "0"})  # fmt: skip
    assert run["alarm_precision"] == pytest.approx(0.9)
    assert run["false_alarm_rate"] == pytest.approx(1 / 40)
    assert run["downtime_rate"] == pytest.approx(0.004)


def test_given_ratios_win_over_counts():
    run = campaigns.normalise_run({"tp": 1, "fp": 1, "alarm_precision": 0.75})
    assert run["alarm_precision"] == 0.75


def test_interval_uses_student_t_for_eight_runs(tmp_path):
    campaign = campaigns.latest(write_campaigns(tmp_path))
    est = campaign.estimate("delay_p50_s")
    values = [r["delay_p50_s"] for r in CAMPAIGN_RUNS]
    assert est.mean == pytest.approx(sum(values) / 8)
    from statistics import stdev

    assert est.half_width == pytest.approx(2.365 * stdev(values) / 8**0.5)
    assert campaigns.estimate([0.5]).half_width is None


@pytest.mark.parametrize(
    "content",
    ["", "{not json", json.dumps({"runs": "nope"}), json.dumps([1, 2])],
)
def test_broken_files_become_notes_not_errors(tmp_path, content):
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "summary.json").write_text(content)
    found = campaigns.read_campaigns(tmp_path)
    assert all(not c.runs for c in found)
    assert not found or found[0].notes


def test_no_directory_means_no_campaign(tmp_path):
    assert campaigns.read_campaigns(tmp_path / "missing") == []
    assert campaigns.read_campaigns(None) == []
    (tmp_path / "empty").mkdir()
    assert campaigns.latest(tmp_path) is None


def test_unknown_columns_and_blank_cells_are_ignored(tmp_path):
    run_dir = tmp_path / "c"
    run_dir.mkdir()
    (run_dir / "runs.csv").write_text("run,colour,data_precision\n1,blue,\n2,red,0.99\n")
    campaign = campaigns.latest(tmp_path)
    assert campaign.runs == [{"run": 1.0}, {"run": 2.0, "data_precision": 0.99}]
    assert campaign.estimate("data_precision").mean == 0.99


def test_figures_of_the_campaign_report_are_found(tmp_path):
    campaign_dir = tmp_path / "smoke-20260201"
    (campaign_dir / "report").mkdir(parents=True)
    (campaign_dir / "summary.json").write_text(json.dumps({"runs": [{"run": 1, "tp": None}]}))
    (campaign_dir / "report" / "fig2-delay.png").write_bytes(b"png")
    campaign = campaigns.latest(tmp_path)
    assert [f.name for f in campaign.figures] == ["fig2-delay.png"]
    assert campaign.runs == [{"run": 1.0}]  # null values (undefined metrics) are left out
