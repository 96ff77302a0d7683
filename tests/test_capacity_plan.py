"""WAN link sizing on the tiny inventory, against hand-worked figures."""

from __future__ import annotations

import pytest
from testkit import PROVINCE, TINY, edit_yaml

from capacity.plan import plan_links, recommend
from control.emops_cli import main
from emops.topology import load_topology

# alpha: 100 users of `lookup` (K=8, M=900B, T=30s) over P=10ms:
#   8*100*8*900 / (30 + 8*0.010) = 5,760,000 / 30.08 = 191,489.36 bit/s
# county alpha-east: 50 users of `ticket` (K=10, M=1000B, T=60s), same link:
#   8*50*10*1000 / (60 + 10*0.010) = 4,000,000 / 60.1 = 66,555.74 bit/s
# bulk `report`: 8 * 20,000,000 * 1.05 / 120 = 1,400,000 bit/s
ALPHA_LOOKUP = 191_489.36
ALPHA_EAST_TICKET = 66_555.74
REPORT = 1_400_000.0


def rows_by_link(path=TINY):
    return {r.link: r for r in plan_links(load_topology(path))}


def test_private_link_carries_the_site_and_its_counties():
    row = rows_by_link()["alpha-private"]
    assert row.demand.pingpong_bps == pytest.approx(ALPHA_LOOKUP + ALPHA_EAST_TICKET, rel=1e-6)
    assert row.demand.bulk_bps == pytest.approx(REPORT)
    assert row.demand_bps == pytest.approx(ALPHA_LOOKUP + ALPHA_EAST_TICKET + REPORT, rel=1e-6)
    assert row.utilisation == pytest.approx(row.demand_bps / 155e6)
    assert row.required_bps == pytest.approx(row.demand_bps * 1.3)
    assert row.recommended == "34M"  # smallest primary circuit above 2.16M
    assert row.status == "ok"


def test_backup_bundle_is_checked_against_critical_traffic_only():
    row = rows_by_link()["alpha-backup"]
    # only `lookup` is critical: the county's tickets and the report wait
    assert row.demand_bps == pytest.approx(ALPHA_LOOKUP, rel=1e-6)
    assert row.capacity_bps == 2e6
    assert row.recommended == "1x2M"
    assert row.status == "ok"


def test_refined_form_is_never_above_the_published_one():
    for row in rows_by_link().values():
        assert row.demand.pingpong_refined_bps <= row.demand.pingpong_bps


def test_a_backup_too_small_for_critical_traffic_is_flagged(tiny):
    edit_yaml(
        tiny,
        "group_vars/alpha.yml",
        lambda d: d["site"]["traffic"]["pingpong"][0].update(users=1500),
    )
    row = rows_by_link(tiny)["alpha-backup"]
    # 15x the lookup users: 2.87M, 3.73M with headroom: needs two E1s
    assert row.demand_bps == pytest.approx(ALPHA_LOOKUP * 15, rel=1e-6)
    assert row.status == "upgrade"
    assert row.recommended == "2x2M"


def test_headroom_can_be_overridden():
    topo = load_topology(TINY)
    row = next(r for r in plan_links(topo, headroom=0.0) if r.link == "alpha-private")
    assert row.required_bps == pytest.approx(row.demand_bps)


def test_recommend_picks_the_smallest_circuit_for_the_role():
    circuits = load_topology(TINY).circuits
    assert recommend(1.5e6, circuits, "backup") == "1x2M"
    assert recommend(7.9e6, circuits, "backup") == "4x2M"
    assert recommend(9e6, circuits, "backup") == "none fits"
    assert recommend(9e6, circuits, "primary") == "34M"
    assert recommend(2e9, circuits, "primary") == "none fits"


def test_province_plan_covers_every_wan_link_and_flags_dongtai():
    rows = plan_links(load_topology(PROVINCE))
    assert len(rows) == 24  # 12 municipal companies x (private + backup)
    flagged = {(r.site, r.role) for r in rows if r.status != "ok"}
    assert flagged == {("dongtai", "backup")}


# --- the CLI: absurd inputs and bad output paths end before anything is written -----------

ARABIC_100 = "\u0661\u0660\u0660"  # int() reads it as 100
PINGPONG = ["capacity", "pingpong", "--think-time", "30s", "--packets", "8", "--packet-size"]


def error_line(capsys: pytest.CaptureFixture[str], argv: list[str]) -> str:
    assert main(argv) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and captured.out == "", captured
    return lines[0]


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["capacity", "bulk", "--size", "20MB", "--required-time", "1e-320s"],
         "--required-time: '1e-320s' is outside 1ns .. 366 days"),
        (["capacity", "bulk", "--size", "20MB", "--required-time", "1ns"],
         "--size/--required-time: the result, 168000Tbit/s, is above 1 Tbit/s"),
        ([*PINGPONG, "900B", "--users", "1" + "0" * 30], "--users: '1000000000000000000000000"),
        ([*PINGPONG, "900B", "--users", ARABIC_100], f"--users: '{ARABIC_100}' is not"),
        ([*PINGPONG, "9MB", "--users", "100"], "--packet-size: '9MB' is outside 1B .. 65535B"),
        (["capacity", "pingpong", "--think-time", "1us", "--packets", "1000000", "--packet-size",
          "65535B", "--users", "10000000"], "the result"),
        ([*PINGPONG, "900B", "--users", "100", "--link-rate", "2T"], "--link-rate: '2T' is"),
        (["capacity", "bulk", "--size", "20MB", "--required-time", "2min", "--overhead", "nan"],
         "--overhead: 'nan' is not a number"),
        (["capacity", "plan", "-i", str(TINY), "--headroom", "inf"], "--headroom: 'inf' is"),
    ],
)  # fmt: skip
def test_absurd_inputs_are_one_line(capsys, argv, words) -> None:
    assert words in error_line(capsys, argv)


def test_a_directory_as_output_writes_nothing(tmp_path, capsys) -> None:
    (tmp_path / "d").mkdir()
    ok = tmp_path / "ok.csv"
    argv = ["capacity", "plan", "-i", str(TINY), "--csv", str(ok), "--json", str(tmp_path / "d")]
    line = error_line(capsys, argv)
    assert line == f"emops: error: --json: {tmp_path / 'd'} is a directory (give a file name in it)"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d"]


def test_one_file_for_two_outputs_is_refused(tmp_path, capsys) -> None:
    same = str(tmp_path / "plan.out")
    line = error_line(capsys, ["capacity", "plan", "-i", str(TINY), "--csv", same, "--json", same])
    assert "two outputs name the same file" in line
    assert list(tmp_path.iterdir()) == []


def test_plan_files_replace_old_ones_whole(tmp_path, capsys) -> None:
    csv_path = tmp_path / "plan.csv"
    csv_path.write_text("an older, longer plan\n" * 1000)
    assert main(["capacity", "plan", "-i", str(TINY), "--csv", str(csv_path)]) == 0
    capsys.readouterr()
    assert csv_path.read_text().startswith("site,link,role,")
    assert [p.name for p in tmp_path.iterdir()] == ["plan.csv"]  # no temporary left behind
