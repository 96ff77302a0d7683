"""The vendor face (lab/vendor_agent.py) as the collectors see it: through a real snmpd.

Each face runs behind its own net-snmp snmpd on 127.0.0.1 (a free port, v2c on loopback
only), wired with the same pass_persist and sysObjectID lines the twin's template uses.
The tests walk the vendor tables with net-snmp's snmpwalk, write the state file as each
fault does, and check what a monitoring system would see change, and come back; then the
same through emops' own poller and the vendor profiles, as the metrics the alerts read.
"""

from __future__ import annotations

import asyncio
import io
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry
from testkit import ROOT, require_tool

from collectors.exposition import SnmpCollector
from collectors.snmp import agents
from collectors.snmp.poller import Poller, Target
from emops.topology.model import SNMP_FACES
from lab import vendor_agent as va

AGENT = ROOT / "lab" / "vendor_agent.py"
ENT_NAME = ".1.3.6.1.2.1.47.1.1.1.1.7"
HW = ".1.3.6.1.4.1.2011.5.25.31.1.1"
HW_STATE, HW_OPTICS, HW_FAN, HW_PWR = f"{HW}.1.1", f"{HW}.3.1", f"{HW}.10.1", f"{HW}.18.1"
MPU, FIRST_OPTIC = va.HW_MPU, va.HW_OPTICS[0]
CPM = ".1.3.6.1.4.1.9.9.109.1.1.1.1"
ENV = ".1.3.6.1.4.1.9.9.13.1"
POOL = ".1.3.6.1.4.1.9.9.48.1.1.1"


@pytest.fixture(scope="module")
def idle_pid() -> Iterator[int]:
    """A process that uses no CPU: the device whose real counters the faces read."""
    proc = subprocess.Popen(["sleep", "600"])
    yield proc.pid
    proc.kill()
    proc.wait()


class Face:
    """One snmpd serving a face, and its state file."""

    def __init__(self, agent: agents.Agent, state: Path) -> None:
        self.agent, self.state = agent, state

    def walk(self, *roots: str) -> dict[str, str]:
        """OID -> value as net-snmp prints it (numeric OIDs, no MIB files, quotes dropped)."""
        found: dict[str, str] = {}
        for root in roots:
            out = subprocess.run(
                ["snmpwalk", "-v2c", "-c", agents.COMMUNITY, "-On", "-Oq", "-t", "2", "-r", "2",
                 f"127.0.0.1:{self.agent.port}", root],
                capture_output=True, text=True, check=True, timeout=30,
                env=dict(os.environ, MIBS=""),
            ).stdout  # fmt: skip
            for line in out.splitlines():
                oid, _, value = line.partition(" ")
                found[oid] = value.strip('"')
        return found

    def fault(self, name: str, on: bool = True) -> None:
        """Write the state file exactly as `emops lab fault NAME DEVICE [--restore]` does."""
        f = va.FAULTS[name]
        va.write_state(self.state, {f.key: f.value if on else None})


def start_face(root: Path, face: str, pids: str) -> tuple[agents.Agent, Path]:
    state = root / va.STATE_NAME
    lines = [f"sysObjectID {va.SYS_OBJECT_IDS[face]}"]
    for subtree in va.ROOTS[face]:
        lines.append(
            f"pass_persist {subtree} {sys.executable} {AGENT} --face {face} --state {state}"
            f" --pids {pids} --refresh 0.2"
        )
    agent = agents.start_agent(root / "snmpd", extra_config="\n".join(lines))
    return agent, state


@pytest.fixture(scope="module")
def faces(tmp_path_factory: pytest.TempPathFactory, idle_pid: int) -> Iterator[dict[str, Face]]:
    require_tool("snmpd")
    require_tool("snmpget")
    started: dict[str, Face] = {}
    try:
        for face in va.FACES:
            agent, state = start_face(tmp_path_factory.mktemp(face), face, str(idle_pid))
            started[face] = Face(agent, state)
        agents.wait_ready([f.agent for f in started.values()])
        yield started
    finally:
        for f in started.values():
            f.agent.stop()


@pytest.fixture(autouse=True)
def nominal_after(request: pytest.FixtureRequest) -> Iterator[None]:
    """Each test leaves the shared faces nominal, even when it fails half way."""
    yield
    if "faces" in request.fixturenames:
        for face in request.getfixturevalue("faces").values():
            face.state.unlink(missing_ok=True)


def test_faces_are_the_topology_faces():
    assert set(va.FACES) == set(SNMP_FACES) == set(va.ROOTS) == set(va.SYS_OBJECT_IDS)


@pytest.mark.parametrize("face", va.FACES)
def test_snmpd_announces_the_face_sysobjectid(faces, face):
    sys_object_id = faces[face].walk(".1.3.6.1.2.1.1.2")[".1.3.6.1.2.1.1.2.0"]
    assert sys_object_id == va.SYS_OBJECT_IDS[face]


def test_huawei_tables_nominal(faces):
    got = faces["huawei_vrp"].walk(".1.3.6.1.2.1.47.1.1.1", HW)
    names = {oid.rsplit(".", 1)[1]: v for oid, v in got.items() if oid.startswith(ENT_NAME)}
    assert names[str(MPU)] == "MPU Board 0" and names[str(FIRST_OPTIC)] == "XGigabitEthernet0/0/1"
    assert {"FAN 1", "FAN 2", "PWR1", "PWR2", "LPU Board 1"} <= set(names.values())
    # one hwEntityStateTable row per entity; 0 where it has no CPU, memory or sensor
    assert sum(1 for oid in got if oid.startswith(f"{HW_STATE}.9.")) == len(names)
    assert int(got[f"{HW_STATE}.9.{MPU}"]) == 1024 * 1024 * 1024  # hwEntityMemSize, bytes
    assert int(got[f"{HW_STATE}.9.{va.HW_CHASSIS}"]) == 0
    assert 0 <= int(got[f"{HW_STATE}.5.{MPU}"]) <= 5  # the idle device's real CPU
    assert 1 <= int(got[f"{HW_STATE}.7.{MPU}"]) <= 100
    assert int(got[f"{HW_STATE}.11.{MPU}"]) < int(got[f"{HW_STATE}.12.{MPU}"])  # below threshold
    assert got[f"{HW_STATE}.13.{MPU}"] == "12000"  # hwEntityVoltage, mV
    assert got[f"{HW_STATE}.19.{MPU}"] == "1024"  # hwEntityMemSizeMega
    assert got[f"{HW_FAN}.7.0.0"] == got[f"{HW_FAN}.7.0.1"] == "1"  # hwEntityFanState normal
    assert got[f"{HW_FAN}.8.0.0"] == "FAN 1"
    assert got[f"{HW_PWR}.6.0.0"] == got[f"{HW_PWR}.6.0.1"] == "1"  # hwEntityPwrState supply
    for port in va.HW_OPTICS:  # rx/tx power between the module's own thresholds, dBm x 100
        rx, tx = int(got[f"{HW_OPTICS}.8.{port}"]), int(got[f"{HW_OPTICS}.9.{port}"])
        assert int(got[f"{HW_OPTICS}.13.{port}"]) < rx < int(got[f"{HW_OPTICS}.14.{port}"])
        assert int(got[f"{HW_OPTICS}.15.{port}"]) < tx < int(got[f"{HW_OPTICS}.16.{port}"])


def _steady(walk: dict[str, str], face: str) -> dict[str, str]:
    """The walk without the columns fed by the device's live counters."""
    live = {
        "huawei_vrp": (f"{HW_STATE}.5.{MPU}", f"{HW_STATE}.7.{MPU}"),
        "cisco_ios": (CPM, f"{POOL}.5.1", f"{POOL}.6.1", f"{POOL}.7.1"),
    }[face]
    return {oid: v for oid, v in walk.items() if not oid.startswith(live)}


def test_huawei_faults_change_what_is_served_and_restore_nominal(faces):
    face = faces["huawei_vrp"]
    before = face.walk(HW)
    for name in va.FACE_FAULTS["huawei_vrp"]:
        face.fault(name)
    va.write_state(face.state, {"fan_failed": True})
    got = face.walk(HW)
    assert got[f"{HW_STATE}.5.{MPU}"] == "97"  # cpu-high
    assert int(got[f"{HW_STATE}.11.{MPU}"]) > int(got[f"{HW_STATE}.12.{MPU}"])  # overheat
    rx, low = int(got[f"{HW_OPTICS}.8.{FIRST_OPTIC}"]), int(got[f"{HW_OPTICS}.13.{FIRST_OPTIC}"])
    assert rx < low  # optics-degrade: below the module's own low alarm threshold
    assert got[f"{HW_PWR}.6.0.0"] == "2" and got[f"{HW_PWR}.6.0.1"] == "1"  # psu-fail: PWR1 only
    assert got[f"{HW_FAN}.7.0.0"] == "2" and got[f"{HW_FAN}.7.0.1"] == "1"  # abnormal
    assert got[f"{HW_STATE}.11.{va.HW_LPU}"] == before[f"{HW_STATE}.11.{va.HW_LPU}"]
    for name in va.FACE_FAULTS["huawei_vrp"]:
        face.fault(name, on=False)
    va.write_state(face.state, {"fan_failed": None})
    after = face.walk(HW)
    assert _steady(after, "huawei_vrp") == _steady(before, "huawei_vrp")
    assert int(after[f"{HW_STATE}.5.{MPU}"]) <= 5  # the real CPU again


def test_cisco_tables_nominal_faults_and_restore(faces):
    face = faces["cisco_ios"]
    before = face.walk(".1.3.6.1.4.1.9.9")
    assert before[f"{CPM}.2.1"] == "1"  # cpmCPUTotalPhysicalIndex -> entPhysicalName "Switch 1"
    assert face.walk(f"{ENT_NAME}.1")[f"{ENT_NAME}.1"] == "Switch 1"
    assert int(before[f"{CPM}.8.1"]) <= 5  # cpmCPUTotal5minRev, the idle device's real CPU
    assert before[f"{POOL}.2.1"] == "Processor" and before[f"{POOL}.2.2"] == "I/O"
    used, free = int(before[f"{POOL}.5.1"]), int(before[f"{POOL}.6.1"])
    assert used > 0 and used + free == va.CISCO_PROCESSOR_POOL
    assert int(before[f"{ENV}.3.1.7.1008"]) < int(before[f"{ENV}.3.1.4.1008"])
    assert before[f"{ENV}.3.1.6.1008"] == before[f"{ENV}.4.1.3.1004"] == "1"  # normal
    assert before[f"{ENV}.5.1.3.1002"] == before[f"{ENV}.5.1.3.1003"] == "1"
    for name in va.FACE_FAULTS["cisco_ios"]:
        face.fault(name)
    va.write_state(face.state, {"fan_failed": True})
    got = face.walk(".1.3.6.1.4.1.9.9")
    assert got[f"{CPM}.8.1"] == got[f"{CPM}.6.1"] == "97"
    assert int(got[f"{ENV}.3.1.7.1008"]) > int(got[f"{ENV}.3.1.4.1008"])
    assert got[f"{ENV}.3.1.6.1008"] == "3"  # critical
    assert got[f"{ENV}.5.1.3.1002"] == "3" and got[f"{ENV}.5.1.3.1003"] == "1"
    assert got[f"{ENV}.4.1.3.1004"] == "3"
    for name in va.FACE_FAULTS["cisco_ios"]:
        face.fault(name, on=False)
    va.write_state(face.state, {"fan_failed": None})
    after = face.walk(".1.3.6.1.4.1.9.9")
    assert _steady(after, "cisco_ios") == _steady(before, "cisco_ios")


# --- what the collectors' vendor profiles make of it -----------------------------------------


def collected(face: Face) -> Callable[..., float | None]:
    """Poll the face with emops' own SNMP poller (twice: the first poll picks the profile)
    and return `get(metric, **labels)` over what the exporter would expose."""

    async def run() -> Poller:
        target = Target("sw1", "127.0.0.1", face.agent.port, "2c", agents.COMMUNITY,
                        site="hq", role="core_switch")  # fmt: skip
        poller = Poller([target], timeout=2.0, retries=1)
        try:
            for _ in range(2):
                await poller.poll_all()
        finally:
            poller.close()
        return poller

    poller = asyncio.run(run())
    registry = CollectorRegistry()
    registry.register(SnmpCollector(lambda: poller.results))
    device = {"device": "sw1", "site": "hq", "role": "core_switch"}
    return lambda name, **labels: registry.get_sample_value(name, device | labels)


# face -> the entity each fault changes: main board (CPU, temperature), supply 1, first port
WATCHED = {
    "huawei_vrp": ("MPU Board 0", "MPU Board 0", "PWR1", "XGigabitEthernet0/0/1"),
    "cisco_ios": ("Switch 1", "SW#1, Sensor#1, Inlet", "Switch 1 - Power Supply A", None),
}


@pytest.mark.parametrize("face_name", va.FACES)
def test_the_vendor_profile_sees_each_fault_and_its_restore(faces, face_name):
    face = faces[face_name]
    cpu, sensor, psu, port = WATCHED[face_name]
    get = collected(face)
    assert get("emops_snmp_profile_info", profile=face_name,
               sysobjectid=va.SYS_OBJECT_IDS[face_name].lstrip(".")) == 1  # fmt: skip
    for group in ("cpu", "memory", "temperature", "fans", "power"):
        assert get("emops_snmp_profile_missing", profile=face_name, group=group) in (0, None)
    assert get("emops_cpu_utilization_ratio", entity=cpu) <= 0.05
    assert get("emops_sensor_temperature_celsius", entity=sensor) < get(
        "emops_sensor_temperature_high_celsius", entity=sensor
    )
    assert get("emops_power_supply_ok", entity=psu) == 1
    if face_name == "huawei_vrp":
        assert get("emops_sensor_voltage_volts", entity=cpu) == pytest.approx(12.0)
        assert get("emops_memory_size_bytes", entity=cpu) == 1024**3
    if port:
        assert get("emops_optics_rx_power_dbm", entity=port) > get(
            "emops_optics_rx_power_low_dbm", entity=port
        )
    for name in va.FACE_FAULTS[face_name]:
        face.fault(name)
    get = collected(face)
    assert get("emops_cpu_utilization_ratio", entity=cpu) == pytest.approx(0.97)
    assert get("emops_sensor_temperature_celsius", entity=sensor) > get(
        "emops_sensor_temperature_high_celsius", entity=sensor
    )
    assert get("emops_power_supply_ok", entity=psu) == 0
    if port:
        assert get("emops_optics_rx_power_dbm", entity=port) == pytest.approx(-22.5)
        assert get("emops_optics_rx_power_dbm", entity=port) < get(
            "emops_optics_rx_power_low_dbm", entity=port
        )
    for name in va.FACE_FAULTS[face_name]:
        face.fault(name, on=False)
    get = collected(face)
    assert get("emops_cpu_utilization_ratio", entity=cpu) <= 0.05
    assert get("emops_sensor_temperature_celsius", entity=sensor) < get(
        "emops_sensor_temperature_high_celsius", entity=sensor
    )
    assert get("emops_power_supply_ok", entity=psu) == 1


def test_cisco_face_has_no_optics_fault():
    assert "optics-degrade" not in va.FACE_FAULTS["cisco_ios"]
    assert set(va.FACE_FAULTS["huawei_vrp"]) == set(va.FAULTS)


# --- the agent alone: protocol, robustness, speed -----------------------------------------


def converse(state: Path, lines: list[str], face: str = "huawei_vrp") -> tuple[list[str], str]:
    """Run the agent as snmpd does (stdin/stdout pipes); its replies and its stderr."""
    proc = subprocess.run(
        [sys.executable, str(AGENT), "--face", face, "--state", str(state), "--pids",
         str(os.getpid())],
        input="".join(f"{line}\n" for line in lines), capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.splitlines(), proc.stderr


MPU_TEMP = f"{HW_STATE}.11.{MPU}"


@pytest.mark.parametrize(
    "content",
    ["{not json", "[1, 2]", '{"temperature_celsius": "hot"}', '{"cpu_percent": 900}',
     '{"fan_broken": true}', "\x00\xff"],
)  # fmt: skip
def test_bad_state_file_serves_nominal_with_one_stderr_line(tmp_path, content):
    state = tmp_path / va.STATE_NAME
    state.write_text(content, errors="surrogateescape")
    out, err = converse(state, ["PING", "get", MPU_TEMP, "get", MPU_TEMP, "PING"])
    assert out == ["PONG", MPU_TEMP, "integer", "41", MPU_TEMP, "integer", "41", "PONG"]
    assert len(err.splitlines()) == 1 and "serving nominal values" in err


def test_protocol_edges(tmp_path):
    state = tmp_path / va.STATE_NAME  # absent: nominal, no complaint
    last_name = f"{ENT_NAME}.{va.HW_PSUS[1]}"
    out, err = converse(
        state,
        ["get", ".1.3.6.1.2.1.47.1.1.1.1.7.999", "getnext", last_name,  # end of the subtree
         "getnext", ".1.3.6.1.2.1.2.2", "get", "not.an.oid", "getnext", ".1.3.6.1.2.1.47",
         "set", MPU_TEMP, "integer 20", "PING"],
    )  # fmt: skip
    assert out == ["NONE", "NONE", "NONE", "NONE", f".1.3.6.1.2.1.47.1.1.1.1.2.{va.HW_CHASSIS}",
                   "string", "S5720-52X-EI-AC chassis", "not-writable", "PONG"]  # fmt: skip
    assert err.count("\n") == 1 and "not.an.oid" in err  # the bad request, and the agent lived


BUSY = """
import select, sys, time
while True:  # busy; on each stdin line, print this process's own CPU time
    if select.select([sys.stdin], [], [], 0)[0]:
        sys.stdin.readline()
        print(time.process_time(), flush=True)
"""


def test_real_cpu_and_memory_of_given_pids():
    """A busy process reads as busy as its own CPU clock says (however loaded the machine
    is), and its resident memory is counted."""
    busy = subprocess.Popen(
        [sys.executable, "-c", BUSY], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )

    def own_cpu_s() -> float:
        busy.stdin.write("\n")
        busy.stdin.flush()
        return float(busy.stdout.readline())

    try:
        usage = va.Usage((busy.pid,), refresh=0.0)
        usage.sample(t0 := time.monotonic())
        c0 = own_cpu_s()
        time.sleep(1.0)
        usage.sample(t1 := time.monotonic())
        c1 = own_cpu_s()
        expected = (c1 - c0) / (t1 - t0) * 100
        print(f"busy process: {usage.cpu_percent} % read, {expected:.1f} % by its own clock")
        assert usage.cpu_percent > 0
        assert abs(usage.cpu_percent - expected) <= 10
        assert usage.rss_bytes > 1024 * 1024
    finally:
        busy.kill()
        busy.wait()


def test_faults_written_at_once_keep_each_other(tmp_path):
    state = tmp_path / va.STATE_NAME
    changes = [{f.key: f.value} for f in va.FAULTS.values()] * 10
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda change: va.write_state(state, change), changes))
    assert va.read_state(state) == {f.key: f.value for f in va.FAULTS.values()}


def test_own_namespace_processes_are_found():
    assert os.getpid() in va.netns_pids()


def test_one_getnext_costs_well_under_a_millisecond(tmp_path):
    agent = va.Agent(
        "huawei_vrp", tmp_path / va.STATE_NAME, va.Usage((os.getpid(),)), io.StringIO()
    )
    walk = [".1.3.6.1.2.1.47.1.1.1"]
    while True:  # one full walk of the Huawei entity table, as snmpd would ask it
        reply = agent.getnext(walk[-1])
        if reply == "NONE\n":
            break
        walk.append(reply.split("\n", 1)[0])
    assert len(walk) > 40
    rounds = 200
    start = time.process_time()  # the Python work, not the wait for a loaded machine's CPU
    for _ in range(rounds):
        for text in walk:
            agent.getnext(text)
    per_call = (time.process_time() - start) / (rounds * len(walk))
    print(f"getnext: {per_call * 1e6:.1f} us per call")
    assert per_call < 200e-6
