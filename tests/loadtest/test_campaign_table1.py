"""Table 1 reproduction: scenario rows (pure) and real measurements on a shaped veth pair (root)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from testkit import require_namespaces

from capacity.formulas import bulk_bps
from emops.errors import EmopsError
from loadtest.table1 import (
    SHAPER_OVERHEAD,
    BulkScenario,
    PingPongScenario,
    bulk_row,
    load_plan,
    measure_bulk,
    measure_pingpong,
    pingpong_estimates,
    pingpong_row,
    shaped_pair,
    tbf_line,
    write_table1,
)


def test_shipped_scenarios_meet_the_brief() -> None:
    plan = load_plan()
    assert len(plan.bulk) >= 8 and len(plan.pingpong) >= 4
    assert any(s.quick for s in plan.bulk) and any(s.quick for s in plan.pingpong)
    assert plan.bulk[1] == BulkScenario(1e6, 1.0)


def test_bad_scenarios_are_one_line_each(tmp_path: Path) -> None:
    bad = tmp_path / "t.yml"
    bad.write_text(
        "bulk:\n  - {size: 1 parsec, time: 1s}\n  - {time: 2s}\npingpong:\n  - {users: 0}\n"
    )
    with pytest.raises(EmopsError) as err:
        load_plan(bad)
    text = str(err.value)
    assert "bulk[0].size: unknown size unit 'parsec'" in text
    assert "bulk[1].size: is required" in text
    assert "pingpong[0].users: 0 is not a positive whole number" in text
    assert "pingpong[0].think_time: is required" in text


def test_a_typo_in_a_scenario_is_named_with_its_line(tmp_path: Path) -> None:
    bad = tmp_path / "t.yml"
    bad.write_text("bulk:\n  - {size: 1MB, time: 1s}\n  - {size: 1MB, tme: 2s}\nmeasure: 8s\n")
    with pytest.raises(EmopsError) as err:
        load_plan(bad)
    assert [str(p) for p in err.value.problems] == [
        f"{bad}:3: bulk[1].tme: unknown field (did you mean time?)",
        f"{bad}:3: bulk[1].time: is required",
    ]


def test_overhead_is_what_tbf_counts() -> None:
    assert abs(SHAPER_OVERHEAD - 1514 / 1448) < 1e-12


def test_bulk_row_compares_time_with_r() -> None:
    row = bulk_row(BulkScenario(2e6, 2.0), measured_s=2.1)
    assert row["estimate_bps"] == pytest.approx(bulk_bps(2e6, 2.0, 1514 / 1448))
    assert row["shaped_bps"] == row["estimate_bps"]
    assert row["error"] == pytest.approx(0.05)
    assert row["measured_bps"] == pytest.approx(row["estimate_bps"] * 2.0 / 2.1)


def test_pingpong_row_against_both_forms() -> None:
    s = PingPongScenario(20, 1.0, 6, 700, 0.003)
    paper, refined = pingpong_estimates(s)
    assert paper == pytest.approx(8 * 20 * 6 * 700 / (1.0 + 6 * 0.003))
    assert refined < paper
    row = pingpong_row(s, measured_bps=refined)
    assert row["refined_error"] == pytest.approx(0.0) and row["error"] < 0


def test_tbf_matches_the_twins_shaping() -> None:
    shaper = ["tbf", "rate", "2000000bit", "burst", "3200", "latency", "100ms"]
    assert tbf_line("x", 2e6) == ["qdisc", "replace", "dev", "x", "root", *shaper]
    assert "125000" in tbf_line("x", 100e6)  # 10 ms of 100 Mbit/s


def test_write_table1(tmp_path: Path) -> None:
    path = write_table1(tmp_path / "t1", [bulk_row(BulkScenario(1e6, 1.0), 1.0)])
    data = json.loads(path.read_text())
    assert data["rows"][0]["error"] == 0 and data["overhead"] == SHAPER_OVERHEAD


@pytest.fixture
def namespaces() -> None:
    """Root, ip and tc: a shaped pair is two namespaces and a qdisc (fails under CI)."""
    require_namespaces("the shaped-link tests", "tc")


def _pairs() -> list[str]:
    out = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    return [line.split()[0] for line in out.splitlines() if line.startswith("emops-t-cap")]


@pytest.mark.root
@pytest.mark.usefixtures("namespaces")
def test_shaped_link_measures_close_to_the_estimates() -> None:
    with shaped_pair("T1") as pair:
        assert {pair.ns_a, pair.ns_b} <= set(_pairs())
        for s in (BulkScenario(256e3, 1.0), BulkScenario(2e6, 2.0)):
            row = bulk_row(s, measure_bulk(pair, s))
            assert abs(row["error"]) < 0.10, row
        s = PingPongScenario(20, 1.0, 6, 700, 0.003)
        row = pingpong_row(s, measure_pingpong(pair, s, 5.0))
        assert abs(row["error"]) < 0.20 and abs(row["refined_error"]) < 0.20, row
    assert not [n for n in _pairs() if n.startswith("emops-t-capT1")]


@pytest.mark.root
@pytest.mark.usefixtures("namespaces")
def test_pair_is_removed_even_when_a_measurement_fails() -> None:
    with pytest.raises(RuntimeError), shaped_pair("T2") as pair:
        pair.shape(1e6)
        raise RuntimeError("boom")
    assert not [n for n in _pairs() if n.startswith("emops-t-capT2")]
