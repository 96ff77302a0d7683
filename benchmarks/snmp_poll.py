"""Benchmark: poll N real snmpd agents with three pollers, in one run.

Starts N (default 200) net-snmp agents on distinct loopback ports (each sees
the host's own interfaces), then polls all of them with the same columns:
IF-MIB ifTable/ifXTable (14 columns, the 32-bit ifIn/OutOctets and ifSpeed
among them), sysUpTime, hrStorage (4), hrProcessorLoad:

  (a) emops' poller (collectors.snmp), in this process;
  (b) prometheus-snmp-exporter with a numeric-OID module written to a temp
      config, driven by fetching /snmp?target=...&module=... for every agent
      at once (its CPU read from /proc/PID/stat);
  (c) net-snmp snmpbulkwalk, one process per column walk (a subset of agents:
      process start-up dominates, so OIDs per CPU-second do not depend on N).

Prints OIDs, wall time, poller CPU seconds, OIDs per CPU-second, UDP receive
buffer drops (/proc/net/snmp RcvbufErrors delta) and CPU-per-OID ratios against
snmp_exporter. Stops every process it started, by PID. Asserts nothing.

emops walks the 32-bit octet columns only while a device has a row without
64-bit ones (none on Linux), so it reads fewer OIDs per device than
snmp_exporter, whose module walks all 14; compare CPU per OID, and CPU per poll.

The vendor profile case (`--vendor-agents`, v2c) starts agents that answer as a
Huawei switch: sysObjectID under huaweiProducts, and `--entities` rows of
entPhysicalName, hwEntityStateTable and hwOpticalModuleInfoTable (snmpd `override`
lines; one entity in 12 a board with CPU, memory and sensors, the others ports
answering 0 there and carrying optical readings, as VRP does). emops picks the
huawei_vrp profile and walks its tables beside the built-in ones; snmp_exporter
walks the same columns, read from the same profile.

    .venv/bin/python benchmarks/snmp_poll.py [--agents 200] [--rounds 3] [--version 2c|3|both]
        [--vendor-agents 20] [--entities 48]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import yaml
from prometheus_client import CollectorRegistry, generate_latest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from collectors.exposition import SnmpCollector
from collectors.snmp import agents
from collectors.snmp.agents import AgentFarm, free_udp_port
from collectors.snmp.oids import Syntax
from collectors.snmp.poller import Poller, Target
from collectors.snmp.profiles import Profile, load_profiles, oid_text
from collectors.snmp.session import UsmCredentials

IF, IFX, HR = "1.3.6.1.2.1.2.2.1", "1.3.6.1.2.1.31.1.1.1", "1.3.6.1.2.1.25"
# (column, snmp_exporter metric name, type); hrStorageType (an OID value) is walked, not exported
COLUMNS = [
    (f"{IF}.2", "ifDescr", "DisplayString"),
    (f"{IF}.5", "ifSpeed", "gauge"),
    (f"{IF}.7", "ifAdminStatus", "gauge"),
    (f"{IF}.8", "ifOperStatus", "gauge"),
    (f"{IF}.10", "ifInOctets", "counter"),
    (f"{IF}.13", "ifInDiscards", "counter"),
    (f"{IF}.14", "ifInErrors", "counter"),
    (f"{IF}.16", "ifOutOctets", "counter"),
    (f"{IF}.19", "ifOutDiscards", "counter"),
    (f"{IF}.20", "ifOutErrors", "counter"),
    (f"{IFX}.1", "ifName", "DisplayString"),
    (f"{IFX}.6", "ifHCInOctets", "counter"),
    (f"{IFX}.10", "ifHCOutOctets", "counter"),
    (f"{IFX}.15", "ifHighSpeed", "gauge"),
    (f"{HR}.2.3.1.2", None, None),
    (f"{HR}.2.3.1.4", "hrStorageAllocationUnits", "gauge"),
    (f"{HR}.2.3.1.5", "hrStorageSize", "gauge"),
    (f"{HR}.2.3.1.6", "hrStorageUsed", "gauge"),
    (f"{HR}.3.3.1.2", "hrProcessorLoad", "gauge"),
]
SYS_UPTIME = "1.3.6.1.2.1.1.3"
USM = UsmCredentials(agents.USER, "SHA", agents.AUTH_PASSWORD, "AES", agents.PRIV_PASSWORD)
TICKS = os.sysconf("SC_CLK_TCK")


@dataclass
class Figures:
    name: str
    oids: int
    wall_s: float
    cpu_s: float
    drops: int
    failed: int = 0

    @property
    def per_cpu_second(self) -> float:
        return self.oids / self.cpu_s if self.cpu_s else float("inf")


def rcvbuf_errors() -> int:
    """System-wide UDP datagrams dropped for a full receive buffer."""
    lines = [ln.split() for ln in Path("/proc/net/snmp").read_text().splitlines()]
    header, values = [ln for ln in lines if ln[0] == "Udp:"][:2]
    return int(values[header.index("RcvbufErrors")])


def process_cpu(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime + stime


# --- (a) emops' poller -------------------------------------------------------------


def bench_emops(farm: AgentFarm, version: str, rounds: int, in_flight: int) -> list[Figures]:
    targets = [
        Target(f"d{i}", "127.0.0.1", a.port, version, agents.COMMUNITY, USM)  # type: ignore[arg-type]
        for i, a in enumerate(farm.agents)
    ]
    registry = CollectorRegistry()

    async def run() -> list[Figures]:
        poller = Poller(targets, timeout=5.0, retries=3, deadline=60.0, max_in_flight=in_flight)
        registry.register(SnmpCollector(lambda: poller.results))
        try:
            await poller.poll_all()  # warm-up: sockets, v3 discovery, row counts
            drops0, cpu0, wall0 = rcvbuf_errors(), time.process_time(), time.perf_counter()
            oids = failed = 0
            for _ in range(rounds):
                results = await poller.poll_all()
                oids += sum(r.oids for r in results)
                failed += sum(not r.up for r in results)
            poll = Figures(
                f"emops poller v{version}",
                oids,
                time.perf_counter() - wall0,
                time.process_time() - cpu0,
                rcvbuf_errors() - drops0,
                failed,
            )
            cpu1 = time.process_time()
            for _ in range(rounds):
                generate_latest(registry)
            exposition = time.process_time() - cpu1
            with_text = Figures(
                f"emops poller v{version} + /metrics text",
                oids,
                poll.wall_s,
                poll.cpu_s + exposition,
                poll.drops,
                failed,
            )
            return [poll, with_text]
        finally:
            poller.close()

    return asyncio.run(run())


# --- (b) prometheus-snmp-exporter ------------------------------------------------


def exporter_config(version: str, columns: list[tuple[str, str | None, str | None]]) -> dict:
    auth: dict[str, str] = {"community": agents.COMMUNITY}
    if version == "3":
        auth = {
            "username": USM.user,
            "security_level": "authPriv",
            "password": USM.auth_password,
            "auth_protocol": "SHA",
            "priv_protocol": "AES",
            "priv_password": USM.priv_password,
        }
    metrics = [
        {
            "name": name,
            "oid": oid,
            "type": kind,
            "help": name,
            "indexes": [{"labelname": "index", "type": "gauge"}],
        }
        for oid, name, kind in columns
        if name
    ]
    metrics.append({"name": "sysUpTime", "oid": SYS_UPTIME, "type": "gauge", "help": "uptime"})
    module = {
        "walk": list(dict.fromkeys(oid for oid, _, _ in columns)),
        "get": [f"{SYS_UPTIME}.0"],
        "metrics": metrics,
        "version": int(version[0]),
        "max_repetitions": 25,
        "retries": 3,
        "timeout": "5s",
        "auth": auth,
    }
    return {"emops": module}


async def _scrape_all(port: int, farm: AgentFarm) -> tuple[int, int]:
    """Fetch every agent through the exporter at once: (OIDs returned, failed scrapes)."""
    url = f"http://127.0.0.1:{port}/snmp"
    timeout = aiohttp.ClientTimeout(total=120)
    async with aiohttp.ClientSession(timeout=timeout) as http:

        async def one(agent_port: int) -> tuple[int, int]:
            params = {"target": f"127.0.0.1:{agent_port}", "module": "emops"}
            async with http.get(url, params=params) as response:
                text = await response.text()
            for line in text.splitlines():
                if line.startswith("snmp_scrape_pdus_returned "):
                    return int(float(line.split()[1])), 0
            return 0, 1

        results = await asyncio.gather(*(one(a.port) for a in farm.agents))
    return sum(r[0] for r in results), sum(r[1] for r in results)


def bench_snmp_exporter(
    farm: AgentFarm, version: str, rounds: int, root: Path, columns: list | None = None
) -> Figures:
    config = root / f"snmp-{version}.yml"
    config.write_text(yaml.safe_dump(exporter_config(version, columns or COLUMNS)))
    port = free_udp_port()  # a free number; TCP and UDP share none of its state
    process = subprocess.Popen(
        [
            "prometheus-snmp-exporter",
            f"--config.file={config}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--log.level=error",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        _wait_http(port, process)
        asyncio.run(_scrape_all(port, farm))  # warm-up, as for the others
        drops0, cpu0, wall0 = rcvbuf_errors(), process_cpu(process.pid), time.perf_counter()
        oids = failed = 0
        for _ in range(rounds):
            got, bad = asyncio.run(_scrape_all(port, farm))
            oids += got
            failed += bad
        return Figures(
            f"snmp_exporter v{version}",
            oids,
            time.perf_counter() - wall0,
            process_cpu(process.pid) - cpu0,
            rcvbuf_errors() - drops0,
            failed,
        )
    finally:
        process.terminate()
        process.wait(timeout=10)


def _wait_http(port: int, process: subprocess.Popen[bytes]) -> None:
    import urllib.request

    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if process.poll() is not None:
            err = process.stderr.read().decode() if process.stderr else ""
            raise RuntimeError(f"snmp_exporter exited: {err[-500:]}")
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError("snmp_exporter did not start")


# --- the vendor profile case -------------------------------------------------------

VENDOR_PROFILE = "huawei_vrp"
VENDOR_SYS_OBJECT_ID = "1.3.6.1.4.1.2011.2.23.412"  # under huaweiProducts (an S5720)
ENT_NAME = "1.3.6.1.2.1.47.1.1.1.1.7"  # ENTITY-MIB entPhysicalName
HW_STATE = "1.3.6.1.4.1.2011.5.25.31.1.1.1.1"  # HUAWEI-ENTITY-EXTENT-MIB hwEntityStateTable
HW_OPTICS = "1.3.6.1.4.1.2011.5.25.31.1.1.3.1"  # hwOpticalModuleInfoTable
SERVED = (ENT_NAME, HW_STATE, HW_OPTICS)
BOARD_EVERY = 12  # entity 1, 13, 25...: a board; the others ports, as on a 48-port switch
OVERRIDE_TYPES = {"Integer32": "integer", "Gauge32": "unsigned", "Counter32": "counter"}


def profile_columns(profile: Profile) -> list[tuple[str, str, Syntax]]:
    """(dotted column OID, our name, Syntax) of every column the profile walks."""
    return [
        (oid_text(oid), f"{table_name}_{name}", table.syntax[name])
        for table_name, table in profile.tables.items()
        for name, oid in table.columns.items()
    ]


def _under(oid: str, prefix: str) -> bool:
    return oid == prefix or oid.startswith(prefix + ".")


def _served(oid: str) -> bool:
    return any(_under(oid, prefix) for prefix in SERVED)


def _cell(oid: str, row: int, numbers: range | None) -> str | None:
    """What a VRP switch answers for entity `row`: every entity has a name and a state
    row, where only boards have CPU, memory and sensors (ports answer 0); ports have
    the optical readings."""
    board = row % BOARD_EVERY == 1
    if numbers is None:
        return f'"slot {row}"' if board else f'"GigabitEthernet0/0/{row}"'
    if _under(oid, HW_OPTICS):
        return None if board else str(-300 - row)  # 0.01 dBm
    value = 10 + row % 50 if board else 0  # a CPU %, a temperature, a size
    return str(value if value in numbers else numbers.start)


def vendor_config(profile: Profile, entities: int) -> str:
    """snmpd.conf lines: the vendor's sysObjectID, and the served columns' cells."""
    lines = [f"sysobjectid {VENDOR_SYS_OBJECT_ID}"]
    for oid, _, syntax in profile_columns(profile):
        numbers = syntax.values
        kind = OVERRIDE_TYPES.get(syntax.name.split()[0], "" if numbers else "octet_str")
        if not _served(oid) or not kind:
            continue
        for row in range(1, entities + 1):
            value = _cell(oid, row, numbers)
            if value is not None:
                lines.append(f"override {oid}.{row} {kind} {value}")
    return "\n".join(lines) + "\n"


def vendor_columns(profile: Profile) -> list[tuple[str, str | None, str | None]]:
    """snmp_exporter's columns for the vendor case: the built-in ones and every column
    the profile walks (exported where the agents fill it)."""
    extra: list[tuple[str, str | None, str | None]] = [
        (oid, name if _served(oid) else None, "gauge" if syntax.values else "DisplayString")
        for oid, name, syntax in profile_columns(profile)
    ]
    return COLUMNS + extra


def bench_vendor(root: Path, count: int, entities: int, rounds: int, in_flight: int) -> None:
    profile = load_profiles().profiles[VENDOR_PROFILE]
    started = time.perf_counter()
    farm = agents.start_farm(root / "vendor", count, extra_config=vendor_config(profile, entities))
    try:
        print(
            f"vendor profile case: {count} snmpd agents answering as {VENDOR_PROFILE} with "
            f"{entities} entity rows, ready in {time.perf_counter() - started:.1f} s"
        )
        rows = bench_emops(farm, "2c", rounds, in_flight)
        reference = bench_snmp_exporter(farm, "2c", rounds, root, vendor_columns(profile))
        report([*rows, reference], reference)
        print()
    finally:
        farm.stop()


# --- (c) snmpbulkwalk, one process per walk ----------------------------------------


def bench_bulkwalk(farm: AgentFarm, version: str, count: int, parallel: int) -> Figures:
    auth = ["-v2c", "-c", agents.COMMUNITY]
    if version == "3":
        auth = ["-v3", "-l", "authPriv", "-u", USM.user, "-a", "SHA", "-A", USM.auth_password]
        auth += ["-x", "AES", "-X", USM.priv_password]
    jobs = [
        ["snmpbulkwalk", "-On", "-Cr25", *auth, f"127.0.0.1:{a.port}", oid]
        for a in farm.agents[:count]
        for oid in [SYS_UPTIME] + [oid for oid, _, _ in COLUMNS]
    ]
    env = dict(os.environ, MIBS="")
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    drops0, wall0 = rcvbuf_errors(), time.perf_counter()
    oids = failed = 0
    running: list[subprocess.Popen[bytes]] = []

    def reap(process: subprocess.Popen[bytes]) -> None:
        nonlocal oids, failed
        out, _ = process.communicate()
        lines = out.count(b"\n")
        oids += lines
        failed += process.returncode != 0

    try:
        for cmd in jobs:
            while len(running) >= parallel:
                reap(running.pop(0))
            running.append(
                subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env)
            )
        while running:
            reap(running.pop(0))
    finally:
        for process in running:
            process.kill()
            process.wait()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return Figures(
        f"snmpbulkwalk v{version} ({count} agents)",
        oids,
        time.perf_counter() - wall0,
        cpu,
        rcvbuf_errors() - drops0,
        failed,
    )


# --- report ------------------------------------------------------------------------------


def report(rows: list[Figures], reference: Figures | None) -> None:
    print(
        f"{'poller':44} {'OIDs':>8} {'wall s':>7} {'CPU s':>7} {'OIDs/CPU-s':>11} "
        f"{'us/OID':>7} {'drops':>6} {'failed':>6} {'CPU/OID vs exporter':>20}"
    )
    for r in rows:
        ratio = ""
        if reference and reference.oids and r.oids and reference.cpu_s:
            ratio = f"{(r.cpu_s / r.oids) / (reference.cpu_s / reference.oids):.2f}x"
        per_oid = 1e6 * r.cpu_s / r.oids if r.oids else float("nan")
        print(
            f"{r.name:44} {r.oids:8d} {r.wall_s:7.2f} {r.cpu_s:7.2f} "
            f"{r.per_cpu_second:11,.0f} {per_oid:7.2f} {r.drops:6d} {r.failed:6d} {ratio:>20}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--agents", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3, help="measured rounds per poller")
    parser.add_argument("--version", choices=["2c", "3", "both"], default="both")
    parser.add_argument("--in-flight", type=int, default=200, help="emops poller bound")
    parser.add_argument("--bulkwalk-agents", type=int, default=20)
    parser.add_argument("--vendor-agents", type=int, default=20, help="0: no vendor case")
    parser.add_argument("--entities", type=int, default=48, help="entity rows per vendor agent")
    args = parser.parse_args()
    versions = ["2c", "3"] if args.version == "both" else [args.version]
    with tempfile.TemporaryDirectory(prefix="emops-snmp-bench-") as tmp:
        root = Path(tmp)
        if args.agents:
            bench_base(root, args, versions)
        if args.vendor_agents:
            bench_vendor(root, args.vendor_agents, args.entities, args.rounds, args.in_flight)


def bench_base(root: Path, args: argparse.Namespace, versions: list[str]) -> None:
    """The built-in columns on agents that see the host's interfaces: every poller."""
    started = time.perf_counter()
    farm = agents.start_farm(root / "agents", args.agents)
    try:
        print(
            f"{args.agents} snmpd agents on loopback, ready in "
            f"{time.perf_counter() - started:.1f} s; {args.rounds} measured rounds each\n"
        )
        for version in versions:
            rows = bench_emops(farm, version, args.rounds, args.in_flight)
            reference = bench_snmp_exporter(farm, version, args.rounds, root)
            rows.append(reference)
            count = min(args.bulkwalk_agents, args.agents)
            rows.append(bench_bulkwalk(farm, version, count, 2 * (os.cpu_count() or 1)))
            report(rows, reference)
            print()
    finally:
        farm.stop()


if __name__ == "__main__":
    main()
