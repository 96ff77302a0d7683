"""Health faults (cpu-high, overheat, optics-degrade, psu-fail) on devices with a vendor face.

The twin is not started: a lab directory in tmp holds a state file naming the lab
inventory, as `emops lab up` leaves it, which is all the fault API reads for these
faults (they change a device's vendor state file, not the kernel). What the vendor
agent serves from that file is tested through a real snmpd in test_vendor_agent.py.
"""

from __future__ import annotations

import itertools
import json
import os
import subprocess
from pathlib import Path

import pytest
from testkit import LAB, ROOT, edit_yaml, require_root

from emops.errors import EmopsError
from emops.topology import load_topology
from lab import vendor_agent as va
from lab.faults import Lab, ground_truth
from lab.paths import device_dir

EMOPS = ROOT / ".venv" / "bin" / "emops"


@pytest.fixture
def lab_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A lab directory whose state says: the lab inventory, HQ and three cities, is up."""
    root = tmp_path / "lab"
    root.mkdir()
    topo = load_topology(LAB)
    sites = list(topo.sites)[:4]
    (root / "state.json").write_text(json.dumps({"inventory": str(LAB), "sites": sites}))
    monkeypatch.setenv("EMOPS_LAB_DIR", str(root))
    return root


def state_of(device: str) -> dict:
    return va.read_state(device_dir(device) / va.STATE_NAME)


def test_lab_inventory_gives_faces_to_core_wan_and_one_city_router():
    faces = {n: d.snmp_face for n, d in load_topology(LAB).devices.items() if d.snmp_face}
    assert faces == {
        "hq-core1": "huawei_vrp",
        "hq-core2": "huawei_vrp",
        "hq-wan-private": "huawei_vrp",
        "anping-wan": "cisco_ios",
    }


def test_unknown_face_is_one_problem_naming_the_field(tiny):
    edit_yaml(tiny, "hosts.yml", lambda d: _set_face(d, "hq-core1", "juniper_junos"))
    with pytest.raises(EmopsError) as caught:
        load_topology(tiny)
    problems = [str(p) for p in caught.value.problems]
    assert len(problems) == 1, problems
    assert (
        "emops_snmp_face" in problems[0] and "'juniper_junos' is not a vendor face" in problems[0]
    )
    assert "huawei_vrp, cisco_ios" in problems[0] and "hq-core1" in problems[0]


def _set_face(data: dict, host: str, face: str) -> None:
    def visit(group: dict) -> None:
        hosts = group.get("hosts") or {}
        if host in hosts:
            hosts[host] = {**(hosts[host] or {}), "emops_snmp_face": face}
        for child in (group.get("children") or {}).values():
            visit(child or {})

    visit(data["all"])


def test_fault_and_restore_set_the_state_file_and_log_ground_truth(lab_dir):
    lab = Lab.attach()
    heat = lab.health_fault("hq-core1", "overheat")
    assert {k: heat[k] for k in ("event", "kind", "target", "fault", "face")} == {
        "event": "fault",
        "kind": "temperature",
        "target": "hq-core1",
        "fault": "overheat",
        "face": "huawei_vrp",
    }
    assert heat["temperature_celsius"] == va.FAULTS["overheat"].value
    psu = lab.health_fault("hq-core1", "psu-fail")
    assert (psu["kind"], psu["power_failed"]) == ("power", True)
    assert state_of("hq-core1") == {"temperature_celsius": 88, "power_failed": True}
    assert state_of("hq-core2") == {}  # only the named device
    cool = lab.health_restore("hq-core1", "overheat")
    assert {k: cool[k] for k in ("event", "kind", "target", "fault")} == {
        "event": "repair",
        "kind": "temperature",
        "target": "hq-core1",
        "fault": "overheat",
    }
    assert state_of("hq-core1") == {"power_failed": True}
    lab.health_restore("hq-core1", "psu-fail")
    assert state_of("hq-core1") == {}
    logged = ground_truth()
    assert [(e["event"], e["kind"]) for e in logged] == [
        ("fault", "temperature"),
        ("fault", "power"),
        ("repair", "temperature"),
        ("repair", "power"),
    ]
    assert logged[0] == heat and logged[2] == cool
    assert all(e["time"] <= f["time"] for e, f in itertools.pairwise(logged))


@pytest.mark.parametrize(
    ("fault", "kind", "key"),
    [(name, f.kind, f.key) for name, f in va.FAULTS.items()],
)
def test_each_fault_names_its_kind_and_state_key(lab_dir, fault, kind, key):
    record = Lab.attach().health_fault("hq-wan-private", fault)
    assert (record["kind"], record[key]) == (kind, va.FAULTS[fault].value)
    assert state_of("hq-wan-private") == {key: va.FAULTS[fault].value}


@pytest.mark.parametrize(
    ("device", "fault", "message"),
    [
        ("hq-fw", "cpu-high", "hq-fw has no vendor face (emops_snmp_face), so no cpu-high"),
        ("anping-wan", "optics-degrade", "the cisco_ios face of anping-wan serves nothing"),
        ("nowhere-sw", "overheat", "no device 'nowhere-sw' in the twin"),
        ("qinghe-wan", "psu-fail", "no device 'qinghe-wan' in the twin"),  # not in this cut
    ],
)
def test_refusals_write_nothing(lab_dir, device, fault, message):
    with pytest.raises(EmopsError) as caught:
        Lab.attach().health_fault(device, fault)
    assert len(caught.value.problems) == 1 and message in str(caught.value.problems[0])
    assert ground_truth() == []
    assert not (lab_dir / "devices").exists()


def test_a_broken_state_file_is_refused_not_merged(lab_dir):
    path = device_dir("hq-core2") / va.STATE_NAME
    path.parent.mkdir(parents=True)
    path.write_text("{broken")
    with pytest.raises(EmopsError) as caught:
        Lab.attach().health_fault("hq-core2", "cpu-high")
    assert "not JSON" in str(caught.value.problems[0])
    assert path.read_text() == "{broken" and ground_truth() == []


# --- as a user types it --------------------------------------------------------------------


def emops(*argv: str, lab_dir: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, EMOPS_LAB_DIR=str(lab_dir))
    return subprocess.run(
        [str(EMOPS), *argv], capture_output=True, text=True, timeout=60, env=env, cwd=ROOT
    )


@pytest.mark.parametrize("fault", sorted(va.FAULTS))
def test_cli_help(fault, tmp_path):
    done = emops("lab", "fault", fault, "--help", lab_dir=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "--restore" in done.stdout and "DEVICE" in done.stdout.upper()


def test_cli_fault_restore_and_refusals(lab_dir):
    require_root("emops lab fault")
    done = emops("lab", "fault", "cpu-high", "anping-wan", lab_dir=lab_dir)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["kind"] == "cpu"
    assert state_of("anping-wan") == {"cpu_percent": 97}
    done = emops("lab", "fault", "cpu-high", "anping-wan", "--restore", lab_dir=lab_dir)
    assert done.returncode == 0 and json.loads(done.stdout)["event"] == "repair"
    assert state_of("anping-wan") == {}
    for argv, message in (
        (("psu-fail", "no-such-device"), "no device 'no-such-device' in the twin"),
        (("overheat", "hq-db1"), "hq-db1 has no vendor face"),
        (("optics-degrade", "anping-wan"), "serves nothing optics-degrade could change"),
    ):
        done = emops("lab", "fault", *argv, lab_dir=lab_dir)
        assert done.returncode == 2, done
        assert done.stdout == "" and len(done.stderr.splitlines()) == 1, done.stderr
        assert done.stderr.startswith("emops: error: ") and message in done.stderr
    assert len(ground_truth()) == 2


def test_cli_without_a_twin(tmp_path):
    require_root("emops lab fault")
    done = emops("lab", "fault", "overheat", "hq-core1", lab_dir=tmp_path)
    assert done.returncode == 2 and "no twin is up" in done.stderr
    assert len(done.stderr.splitlines()) == 1
