"""A Huawei VRP or Cisco IOS face for a twin device's snmpd (net-snmp `pass_persist`).

The twin's devices are Linux namespaces; production runs Huawei and Cisco gear whose
health lives in vendor MIBs. This script, started by the device's own snmpd, serves
those tables so the collectors' vendor profiles read the twin exactly as they read a
real chassis, and the faults (`emops lab fault cpu-high|overheat|optics-degrade|
psu-fail`) have something to break. Standard library only: snmpd starts it with the
system python, inside the device.

Wiring (the twin's snmpd.conf template), per device whose inventory host has
`emops_snmp_face`, with PY = /usr/bin/python3, AGENT = <repo>/lab/vendor_agent.py and
STATE = $EMOPS_LAB_DIR/devices/<device>/vendor-state.json (EMOPS_LAB_DIR defaults to
/var/lib/emops-lab; the lab directory is the real one inside every device, so the
faults on the host and the agent in the device see the same file). One pass_persist
line per subtree, same arguments:

    # emops_snmp_face: huawei_vrp
    sysObjectID .1.3.6.1.4.1.2011.2.23.306
    pass_persist .1.3.6.1.2.1.47.1.1.1 PY AGENT --face huawei_vrp --state STATE
    pass_persist .1.3.6.1.4.1.2011.5.25.31.1.1 PY AGENT --face huawei_vrp --state STATE

    # emops_snmp_face: cisco_ios
    sysObjectID .1.3.6.1.4.1.9.1.1208
    pass_persist .1.3.6.1.2.1.47.1.1.1 PY AGENT --face cisco_ios --state STATE
    pass_persist .1.3.6.1.4.1.9.9 PY AGENT --face cisco_ios --state STATE

(`SYS_OBJECT_IDS` and `ROOTS` hold the same values for the template.) The state file
need not exist: absent means nominal. The agent never answers outside the subtree a
request came in, so the two processes never shadow each other or snmpd's own MIBs.

What is served (OIDs, syntaxes and units from the vendors' public MIBs):
- both: ENTITY-MIB entPhysicalTable (descr .2, containedIn .4, class .5, name .7);
- huawei_vrp (sysObjectID S5720-52X-EI-AC): HUAWEI-ENTITY-EXTENT-MIB hwEntityStateTable
  (hwEntityCpuUsage .5 %, hwEntityMemUsage .7 %, hwEntityMemSize .9 bytes,
  hwEntityTemperature .11 and hwEntityTemperatureThreshold .12 Celsius, hwEntityVoltage
  .13 mV, hwEntityMemSizeMega .19; one row per physical entity, 0 where the entity
  has none, as VRP does), hwOpticalModuleInfoTable
  (rx/tx power .8/.9 and their low/high thresholds .13-.16, dBm x 100),
  hwFanStatusTable (hwEntityFanState .7: normal 1, abnormal 2) and hwPwrStatusTable
  (hwEntityPwrState .6: supply 1, notSupply 2);
- cisco_ios (sysObjectID Catalyst WS-C2960X): CISCO-PROCESS-MIB cpmCPUTotalTable (busy %
  .3-.8, cpmCPUMemoryUsed/Free .12/.13 in KB), CISCO-MEMORY-POOL-MIB ciscoMemoryPoolTable
  (name .2, valid .4, used .5 / free .6 / largest free .7 bytes), CISCO-ENVMON-MIB
  temperature (value .3/.7, shutdown threshold .4, state .6), fan and supply tables
  (CiscoEnvMonState: normal 1, critical 3, notPresent 5).

Values. CPU and memory are the device's real ones: the summed CPU time (utime+stime)
and resident set of every process in this agent's network namespace - the device's
daemons, since snmpd runs inside the device - or of `--pids`. CPU busy % is the CPU
time used per wall second since the last sample, the device being sized as one CPU
(so one busy daemon reads 100 %). Sampling walks /proc once (one stat per pid to
compare network namespaces, one read per matching pid) at most every `--refresh` s
(5 s), not per request: snmpd asks once per OID, and a walk costs one /proc pass at
most. Measured: 3 ms of CPU with 155 processes on the host, well under 0.1 % of a
core per device (the twin shares one PID namespace, so each agent scans every
process; snmpd runs as root there, so every /proc/PID/ns/net is readable). The first
sample has no interval yet and reads 0 %. Memory used is the RSS sum against a
nominal board size. Temperature, fans, power supplies and optics are nominal.

Each request looks at the state file's stat (one syscall) and re-reads it when it
changed; its keys (`OVERRIDES`), written by the faults through `write_state`,
override the main board's CPU and temperature, fan 1, power supply 1 and the first
optical port's rx power. A state file that cannot be read or is not valid gives
nominal values and one stderr line per version of the file, never a dead agent.
Answering a getnext is a bisect in a prebuilt sorted view: 6-11 us of Python
measured, the first request of each 5 s adding the sample.
"""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import sys
import time
from bisect import bisect_right
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

FACES = ("huawei_vrp", "cisco_ios")
# Real product OIDs: Huawei S5720-52X-EI-AC (HUAWEI-MIB, under huaweiProducts S-series
# 2011.2.23) and Cisco Catalyst WS-C2960X (CISCO-PRODUCTS-MIB ciscoProducts 1208).
SYS_OBJECT_IDS = {
    "huawei_vrp": ".1.3.6.1.4.1.2011.2.23.306",
    "cisco_ios": ".1.3.6.1.4.1.9.1.1208",
}
ENT_PHYSICAL = ".1.3.6.1.2.1.47.1.1.1"  # ENTITY-MIB entPhysicalTable
HW_ENTITY_STATE = ".1.3.6.1.4.1.2011.5.25.31.1.1"  # HUAWEI-ENTITY-EXTENT-MIB hwEntityState
CISCO_MGMT = ".1.3.6.1.4.1.9.9"  # ciscoMgmt: PROCESS (109), MEMORY-POOL (48), ENVMON (13)
ROOTS = {"huawei_vrp": (ENT_PHYSICAL, HW_ENTITY_STATE), "cisco_ios": (ENT_PHYSICAL, CISCO_MGMT)}
STATE_NAME = "vendor-state.json"  # in the device's lab directory (lab.paths.device_dir)

# State file keys -> the check each value must pass; what the faults write.
OVERRIDES: dict[str, Callable[[object], bool]] = {
    "cpu_percent": lambda v: type(v) is int and 0 <= v <= 100,
    "temperature_celsius": lambda v: type(v) is int and -40 <= v <= 200,
    "fan_failed": lambda v: type(v) is bool,
    "power_failed": lambda v: type(v) is bool,
    "rx_power_dbm": lambda v: type(v) in (int, float) and -50 <= v <= 10,
}


@dataclass(frozen=True)
class Fault:
    """What `emops lab fault NAME DEVICE` writes to the state file, and the ground truth's
    kind for it (the profile group its alert reads: cpu, temperature, optics, power)."""

    kind: str
    key: str
    value: object


FAULTS = {
    "cpu-high": Fault("cpu", "cpu_percent", 97),
    "overheat": Fault("temperature", "temperature_celsius", 88),  # threshold 75 / 66
    "optics-degrade": Fault("optics", "rx_power_dbm", -22.5),  # low threshold -14.4
    "psu-fail": Fault("power", "power_failed", True),  # the second supply keeps it up
}
FACE_FAULTS = {
    "huawei_vrp": ("cpu-high", "overheat", "optics-degrade", "psu-fail"),
    "cisco_ios": ("cpu-high", "overheat", "psu-fail"),  # the Cisco face serves no optics
}

Oid = tuple[int, ...]
Row = tuple[Oid, str, object]  # oid, net-snmp pass type, value


def oid(text: str) -> Oid:
    return tuple(int(part) for part in text.strip().strip(".").split("."))


# --- state file -------------------------------------------------------------------


def read_state(path: Path) -> dict[str, object]:
    """The overrides in `path` ({} when absent); ValueError naming what is wrong."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise ValueError(f"cannot read it: {exc.strerror}") from None
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise ValueError(f"not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise ValueError("not a JSON object")
    for key, value in data.items():
        check = OVERRIDES.get(key)
        if check is None:
            raise ValueError(f"unknown key {key!r} (known: {', '.join(OVERRIDES)})")
        if not check(value):
            raise ValueError(f"{key}: {value!r} is out of range")
    return data


def write_state(path: Path, changes: dict[str, object]) -> dict[str, object]:
    """Merge `changes` into the state file (a None value removes the key), atomically:
    the agent reads either the old file or the new one, never half of one; two faults
    at once (a lock beside the file) never lose each other's key."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_name(f".{path.name}.lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        state = {k: v for k, v in {**read_state(path), **changes}.items() if v is not None}
        tmp = path.with_name(f".{path.name}.{os.getpid()}")
        tmp.write_text(json.dumps(state, sort_keys=True) + "\n", encoding="utf-8")
        os.replace(tmp, path)
    return state


# --- the device's real usage ------------------------------------------------------


def netns_pids() -> list[int]:
    """Pids sharing this process's network namespace (the device's processes)."""
    own = os.stat("/proc/self/ns/net").st_ino
    pids = []
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                if os.stat(f"/proc/{name}/ns/net").st_ino == own:
                    pids.append(int(name))
            except OSError:  # gone, or not ours to look at
                continue
    return pids


def cpu_ticks_and_rss(pids: Iterable[int]) -> tuple[int, int]:
    """Summed utime+stime (clock ticks) and resident pages of `pids` (gone ones skipped)."""
    ticks = pages = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat", "rb") as f:
                stat = f.read()
        except OSError:
            continue
        fields = stat[stat.rfind(b")") + 2 :].split()  # after "pid (comm) "
        ticks += int(fields[11]) + int(fields[12])  # utime, stime (fields 14, 15)
        pages += int(fields[21])  # rss (field 24)
    return ticks, pages


@dataclass
class Usage:
    """CPU busy % and resident bytes of the device, re-sampled at most every `refresh` s."""

    pids: tuple[int, ...] | None = None  # None: every process in this network namespace
    refresh: float = 5.0
    cpu_percent: int = 0
    rss_bytes: int = 0
    _last: tuple[float, int] | None = None
    _due: float = 0.0
    _tick_hz: int = field(default_factory=lambda: os.sysconf("SC_CLK_TCK"))
    _page: int = field(default_factory=lambda: os.sysconf("SC_PAGE_SIZE"))

    def due(self, now: float) -> bool:
        return now >= self._due

    def sample(self, now: float) -> None:
        ticks, pages = cpu_ticks_and_rss(self.pids if self.pids is not None else netns_pids())
        if self._last is not None and now > self._last[0]:
            busy = (ticks - self._last[1]) / self._tick_hz / (now - self._last[0])
            self.cpu_percent = max(0, min(100, round(busy * 100)))
        self._last = (now, ticks)
        self.rss_bytes = pages * self._page
        self._due = now + self.refresh


# --- the faces --------------------------------------------------------------------

KIB, MIB = 1024, 1024 * 1024


@dataclass(frozen=True)
class Entity:
    index: int
    name: str
    cls: int  # PhysicalClass: chassis 3, powerSupply 6, fan 7, module 9, port 10
    descr: str
    parent: int = 0


def entity_rows(entities: Iterable[Entity]) -> list[Row]:
    base = (*oid(ENT_PHYSICAL), 1)
    rows: list[Row] = []
    for e in entities:
        rows += [
            ((*base, 2, e.index), "string", e.descr),
            ((*base, 4, e.index), "integer", e.parent),
            ((*base, 5, e.index), "integer", e.cls),
            ((*base, 7, e.index), "string", e.name),
        ]
    return rows


HW_CHASSIS, HW_MPU, HW_LPU = 16777216, 67108867, 67108868
HW_FANS = (68157441, 68157442)
HW_PSUS = (68157449, 68157450)
HW_OPTICS = (67633153, 67633154, 67698689, 67698690)
HW_ENTITIES = (
    Entity(HW_CHASSIS, "S5720-52X-EI-AC", 3, "S5720-52X-EI-AC chassis"),
    Entity(HW_MPU, "MPU Board 0", 9, "Main processing unit", HW_CHASSIS),
    Entity(HW_LPU, "LPU Board 1", 9, "4x10GE SFP+ line processing unit", HW_CHASSIS),
    Entity(HW_FANS[0], "FAN 1", 7, "Fan module", HW_CHASSIS),
    Entity(HW_FANS[1], "FAN 2", 7, "Fan module", HW_CHASSIS),
    Entity(HW_PSUS[0], "PWR1", 6, "150W AC power module", HW_CHASSIS),
    Entity(HW_PSUS[1], "PWR2", 6, "150W AC power module", HW_CHASSIS),
    Entity(HW_OPTICS[0], "XGigabitEthernet0/0/1", 10, "10GBASE-LR SFP+", HW_MPU),
    Entity(HW_OPTICS[1], "XGigabitEthernet0/0/2", 10, "10GBASE-LR SFP+", HW_MPU),
    Entity(HW_OPTICS[2], "XGigabitEthernet1/0/1", 10, "10GBASE-LR SFP+", HW_LPU),
    Entity(HW_OPTICS[3], "XGigabitEthernet1/0/2", 10, "10GBASE-LR SFP+", HW_LPU),
)
HW_MPU_MEMORY = 1024 * MIB  # hwEntityMemSize is an Integer32: 2 GiB would not fit
HW_TEMP_THRESHOLD = 75
# 10GBASE-LR: rx -5.2 dBm, tx -2.1 dBm; alarm thresholds rx -14.4..0.5, tx -8.2..0.5
HW_OPTIC_NOMINAL = {8: -520, 9: -210, 13: -1440, 14: 50, 15: -820, 16: 50}


def huawei_rows(usage: Usage, state: dict[str, object]) -> list[Row]:
    """entPhysicalTable plus the hwEntityState tables of one S5720 with an MPU and an LPU."""
    cpu = state.get("cpu_percent", usage.cpu_percent)
    mem = max(1, min(100, round(usage.rss_bytes * 100 / HW_MPU_MEMORY)))
    temp = state.get("temperature_celsius", 41)
    # per entity (0 where it has none, as VRP): hwEntityCpuUsage %, hwEntityMemUsage %,
    # hwEntityMemSize bytes, hwEntityTemperature and its threshold (Celsius),
    # hwEntityVoltage (mV, as VRP answers), hwEntityMemSizeMega (MiB)
    boards = {
        HW_MPU: (cpu, mem, HW_MPU_MEMORY, temp, HW_TEMP_THRESHOLD, 12000, HW_MPU_MEMORY // MIB),
        HW_LPU: (4, 23, 512 * MIB, 38, HW_TEMP_THRESHOLD, 12000, 512),
    }
    state_base = (*oid(HW_ENTITY_STATE), 1, 1)
    rows = entity_rows(HW_ENTITIES)
    for e in HW_ENTITIES:
        values = boards.get(e.index, (0,) * 7)
        rows += [
            ((*state_base, col, e.index), "integer", v)
            for col, v in zip((5, 7, 9, 11, 12, 13, 19), values, strict=True)
        ]
    optic_base = (*oid(HW_ENTITY_STATE), 3, 1)
    for i, port in enumerate(HW_OPTICS):
        for col, nominal in HW_OPTIC_NOMINAL.items():
            value = nominal
            if col == 8 and i == 0 and "rx_power_dbm" in state:
                value = round(float(state["rx_power_dbm"]) * 100)  # type: ignore[arg-type]
            rows.append(((*optic_base, col, port), "integer", value))
    fan_base = (*oid(HW_ENTITY_STATE), 10, 1)  # INDEX hwEntityFanSlot, hwEntityFanSn
    for sn in range(len(HW_FANS)):
        failed = sn == 0 and state.get("fan_failed") is True
        cells = {1: 0, 2: sn, 3: 1, 4: 1, 5: 0 if failed else 45, 6: 1, 7: 2 if failed else 1}
        rows += [((*fan_base, c, 0, sn), "integer", v) for c, v in cells.items()]
        rows.append(((*fan_base, 8, 0, sn), "string", f"FAN {sn + 1}"))
    pwr_base = (*oid(HW_ENTITY_STATE), 18, 1)  # INDEX hwEntityPwrSlot, hwEntityPwrSn
    for sn in range(len(HW_PSUS)):
        failed = sn == 0 and state.get("power_failed") is True
        cells = {1: 0, 2: sn, 3: 1, 4: 3, 5: 1, 6: 2 if failed else 1}
        cells |= {7: 0 if failed else 2100, 8: 0 if failed else 12000}  # mA, mV
        rows += [((*pwr_base, c, 0, sn), "integer", v) for c, v in cells.items()]
        rows.append(((*pwr_base, 9, 0, sn), "string", f"PWR{sn + 1}"))
    return rows


CISCO_ENTITIES = (
    Entity(1, "Switch 1", 3, "WS-C2960X-48TS-L"),
    Entity(2, "Switch 1 - Power Supply A", 6, "FRU Power Supply", 1),
    Entity(3, "Switch 1 - Power Supply B", 6, "FRU Power Supply", 1),
    Entity(4, "Switch 1 - FAN 1", 7, "Fan", 1),
    Entity(1049, "GigabitEthernet1/0/49", 10, "1000BaseLX SFP", 1),
    Entity(1050, "GigabitEthernet1/0/50", 10, "1000BaseLX SFP", 1),
)
CISCO_PROCESSOR_POOL = 512 * MIB
CISCO_IO_POOL, CISCO_IO_USED = 64 * MIB, 11 * MIB
CISCO_TEMP_THRESHOLD = 66


def cisco_rows(usage: Usage, state: dict[str, object]) -> list[Row]:
    """entPhysicalTable plus CPU, memory pools and ENVMON of one Catalyst 2960-X."""
    mgmt = oid(CISCO_MGMT)
    cpu = state.get("cpu_percent", usage.cpu_percent)
    used = min(usage.rss_bytes, CISCO_PROCESSOR_POOL)
    free = CISCO_PROCESSOR_POOL - used
    rows = entity_rows(CISCO_ENTITIES)
    cpm = (*mgmt, 109, 1, 1, 1, 1)  # cpmCPUTotalEntry, INDEX cpmCPUTotalIndex
    rows.append(((*cpm, 2, 1), "integer", 1))  # cpmCPUTotalPhysicalIndex -> Switch 1
    rows += [((*cpm, col, 1), "gauge", max(1, cpu)) for col in (3, 4, 5)]  # (1..100)
    rows += [((*cpm, col, 1), "gauge", cpu) for col in (6, 7, 8)]  # the Rev columns: 0..100
    rows += [((*cpm, 12, 1), "gauge", used // KIB), ((*cpm, 13, 1), "gauge", free // KIB)]
    pool = (*mgmt, 48, 1, 1, 1)  # ciscoMemoryPoolEntry, INDEX ciscoMemoryPoolType
    for index, name, p_used, p_free in (
        (1, "Processor", used, free),
        (2, "I/O", CISCO_IO_USED, CISCO_IO_POOL - CISCO_IO_USED),
    ):
        rows += [
            ((*pool, 2, index), "string", name),
            ((*pool, 3, index), "integer", 0),
            ((*pool, 4, index), "integer", 1),  # TruthValue true
            ((*pool, 5, index), "gauge", p_used),
            ((*pool, 6, index), "gauge", p_free),
            ((*pool, 7, index), "gauge", p_free * 9 // 10),
        ]
    env = (*mgmt, 13, 1)  # ciscoEnvMonObjects
    temp = state.get("temperature_celsius", 34)
    hot = isinstance(temp, int) and temp >= CISCO_TEMP_THRESHOLD
    rows += [
        ((*env, 3, 1, 2, 1008), "string", "SW#1, Sensor#1, Inlet"),
        ((*env, 3, 1, 3, 1008), "gauge", max(0, temp)),  # type: ignore[call-overload]
        ((*env, 3, 1, 4, 1008), "integer", CISCO_TEMP_THRESHOLD),
        ((*env, 3, 1, 6, 1008), "integer", 3 if hot else 1),
        ((*env, 3, 1, 7, 1008), "integer", temp),
    ]
    fan_failed = state.get("fan_failed") is True
    rows += [
        ((*env, 4, 1, 2, 1004), "string", "Switch 1 - FAN 1"),
        ((*env, 4, 1, 3, 1004), "integer", 3 if fan_failed else 1),
    ]
    for index, letter in ((1002, "A"), (1003, "B")):
        failed = letter == "A" and state.get("power_failed") is True
        rows += [
            ((*env, 5, 1, 2, index), "string", f"Switch 1 - Power Supply {letter}"),
            ((*env, 5, 1, 3, index), "integer", 3 if failed else 1),
            ((*env, 5, 1, 4, index), "integer", 2),  # ac
        ]
    return rows


BUILDERS: dict[str, Callable[[Usage, dict[str, object]], list[Row]]] = {
    "huawei_vrp": huawei_rows,
    "cisco_ios": cisco_rows,
}


# --- serving ----------------------------------------------------------------------


@dataclass
class Agent:
    """One face's view, rebuilt when usage is re-sampled or the state file changes."""

    face: str
    state_path: Path
    usage: Usage
    err: IO[str] = sys.stderr
    _oids: list[Oid] = field(default_factory=list)
    _cells: dict[Oid, tuple[str, object]] = field(default_factory=dict)
    _roots: tuple[Oid, ...] = ()
    _seen: tuple[int, int, int] | None = None
    _state: dict[str, object] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._roots = tuple(oid(r) for r in ROOTS[self.face])

    def _refresh(self) -> None:
        now = time.monotonic()
        try:
            st = os.stat(self.state_path)
            seen = (st.st_mtime_ns, st.st_size, st.st_ino)
        except OSError:
            seen = (0, 0, 0)
        if seen == self._seen and not self.usage.due(now):
            return
        if seen != self._seen:
            self._seen = seen
            try:
                self._state = read_state(self.state_path)
            except ValueError as exc:
                self._state = {}
                print(
                    f"vendor_agent: {self.state_path}: {exc}; serving nominal values",
                    file=self.err,
                    flush=True,
                )
        if self.usage.due(now):
            self.usage.sample(now)
        rows = BUILDERS[self.face](self.usage, self._state)
        self._cells = {o: (t, v) for o, t, v in rows}
        self._oids = sorted(self._cells)

    def _root_of(self, target: Oid) -> Oid | None:
        for root in self._roots:
            if target[: len(root)] == root or root[: len(target)] == target:
                return root
        return None

    def get(self, text: str) -> str:
        self._refresh()
        target = oid(text)
        cell = self._cells.get(target)
        return "NONE\n" if cell is None else _reply(target, cell)

    def getnext(self, text: str) -> str:
        self._refresh()
        target = oid(text)
        root = self._root_of(target)
        if root is None:
            return "NONE\n"
        i = bisect_right(self._oids, target)
        if i == len(self._oids) or self._oids[i][: len(root)] != root:
            return "NONE\n"
        return _reply(self._oids[i], self._cells[self._oids[i]])


def _reply(target: Oid, cell: tuple[str, object]) -> str:
    kind, value = cell
    return f".{'.'.join(map(str, target))}\n{kind}\n{value}\n"


def serve(agent: Agent, inp: IO[str], out: IO[str]) -> None:
    """The pass_persist loop: PING/PONG, get, getnext; set is refused; ends at EOF."""
    while True:
        line = inp.readline()
        if not line:
            return
        command = line.strip()
        if command == "PING":
            reply = "PONG\n"
        elif command in ("get", "getnext"):
            target = inp.readline()
            try:
                reply = agent.get(target) if command == "get" else agent.getnext(target)
            except Exception as exc:
                print(
                    f"vendor_agent: {command} {target.strip()}: {exc!r}", file=agent.err, flush=True
                )
                reply = "NONE\n"
        elif command == "set":
            inp.readline(), inp.readline()  # the OID, then "type value"
            reply = "not-writable\n"
        else:
            continue
        out.write(reply)
        out.flush()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--face", choices=FACES, required=True)
    parser.add_argument("--state", type=Path, required=True, help="the device's state file")
    parser.add_argument("--pids", help="comma-separated pids (default: this network namespace)")
    parser.add_argument("--refresh", type=float, default=5.0, help="seconds between samples")
    args = parser.parse_args(argv)
    pids = tuple(int(p) for p in args.pids.split(",")) if args.pids else None
    agent = Agent(args.face, args.state, Usage(pids, max(0.05, args.refresh)))
    serve(agent, sys.stdin, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
