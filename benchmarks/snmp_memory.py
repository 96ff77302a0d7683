"""Benchmark: the SNMP exporter's memory with hostile devices among good ones.

Starts the real exporter process (`python -m collectors.exporter`, as `emops
monitor up` does, default caps) on an inventory of `--devices` loopback devices:
`--hostile` of them are tests/collectors/hostile_agent.py agents (every mode
once, the rest `--fill`, by default `endless`: a table that never ends, the
memory threat), the others real net-snmp snmpd agents, `--per-snmpd` devices per
snmpd process (one listening address each). Watches `--polls` poll rounds and
prints the exporter's RSS (sampled every second; peak = the kernel's VmHWM)
against `--ceiling`, the good devices' poll intervals (the difference of the
sysUpTime two polls read; /metrics scraped every second) and each hostile
device's reasons. Stops every process it started, by PID. Exit status 1 if the
peak passes the ceiling.

    .venv/bin/python benchmarks/snmp_memory.py [--devices 200] [--hostile 20] [--polls 100]
        [--interval 2s] [--per-snmpd 10] [--fill endless] [--ceiling 200MB]
"""

from __future__ import annotations

import argparse
import math
import os
import re
import statistics
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from contextlib import ExitStack
from itertools import pairwise
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "collectors")]

from exporter_kit import Device, Exporter, exporter_among_hostile  # noqa: E402
from hostile_agent import MODES  # noqa: E402

from collectors.snmp import agents  # noqa: E402
from emops.units import format_size, parse_size, parse_time  # noqa: E402

UPTIME = re.compile(r'^emops_device_uptime_seconds\{[^}]*device="([^"]+)"[^}]*\} (\S+)$', re.M)
TICKS = os.sysconf("SC_CLK_TCK")


def good_address(i: int) -> str:
    """Loopback address of the i-th good device (127.0.10.0 and up; hostile ones use 127.0.1.x)."""
    return f"127.0.{10 + i // 250}.{1 + i % 250}"


def start_snmpds(root: Path, count: int, per: int) -> tuple[agents.AgentFarm, list[Device]]:
    """`count` good devices served by ceil(count / per) snmpd processes."""
    farm = agents.AgentFarm(root)
    devices: list[Device] = []
    try:
        for k in range(math.ceil(count / per)):
            port = agents.free_udp_port()
            hosts = [good_address(i) for i in range(k * per, min(count, (k + 1) * per))]
            listen = ",".join(f"udp:{h}:{port}" for h in hosts)
            agent = agents.start_agent(
                root / f"snmpd{k}", port, extra_config=f"agentaddress {listen}"
            )
            farm.agents.append(agent)
            devices += [
                Device(f"good-{good_address(i)}", h, port) for i, h in enumerate(hosts, k * per)
            ]
        agents.wait_ready(farm.agents, timeout=60)
    except BaseException:
        farm.stop()
        raise
    return farm, devices


def hostile_modes(count: int, fill: str) -> list[str]:
    """Every mode once, then `fill` for the rest."""
    return [MODES[i] if i < len(MODES) else fill for i in range(count)]


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def uptimes(exporter: Exporter) -> dict[str, float]:
    """Each device's sysUpTime as its last poll read it: a new value is a new poll, and
    the difference of two is the time between them on the agent's clock (10 ms steps)."""
    url = f"http://127.0.0.1:{exporter.port}/metrics"
    with urllib.request.urlopen(url, timeout=10) as response:
        text = response.read().decode()
    return {device: float(value) for device, value in UPTIME.findall(text)}


def watch(exporter: Exporter, good: list[str], polls: int, interval: float) -> dict[str, object]:
    """Scrape once a second (as the lab's Prometheus does) until the first good device has
    been polled `polls` more times (or 3x the time that needs)."""
    seen: dict[str, list[float]] = {d: [] for d in good}
    rss: list[int] = []
    first = good[0]
    cpu0, began = cpu_seconds(exporter.process.pid), time.monotonic()
    give_up = began + 3 * polls * interval + 30
    while len(seen[first]) <= polls and time.monotonic() < give_up:
        now = time.monotonic()
        rss.append(exporter.rss_bytes())
        for device, uptime in uptimes(exporter).items():
            if device in seen and (not seen[device] or seen[device][-1] != uptime):
                seen[device].append(uptime)
        time.sleep(max(0.0, 1.0 - (time.monotonic() - now)))
    gaps = [b - a for times in seen.values() for a, b in pairwise(times)]
    return {
        "polls": len(seen[first]) - 1,
        "wall_s": time.monotonic() - began,
        "cpu_s": cpu_seconds(exporter.process.pid) - cpu0,
        "load": os.getloadavg()[0],
        "rss": rss,
        "gaps": sorted(gaps),
        "silent": [d for d, times in seen.items() if len(times) < 2],
    }


def report(args: argparse.Namespace, seen: dict, exporter: Exporter, hostile: list[Device]) -> int:
    interval = parse_time(args.interval, "--interval")
    rss: list[int] = seen["rss"]  # type: ignore[assignment]
    gaps: list[float] = seen["gaps"]  # type: ignore[assignment]
    peak = exporter.peak_rss_bytes()
    ceiling = parse_size(args.ceiling, "--ceiling")
    print(
        f"{seen['polls']} polls in {seen['wall_s']:.0f} s, exporter CPU {seen['cpu_s']:.1f} s "
        f"({seen['cpu_s'] / max(1, seen['polls']):.2f} s per poll); load average {seen['load']:.1f}"
    )
    print(
        f"RSS: start {format_size(rss[0])}, peak {format_size(peak)} (VmHWM), "
        f"end {format_size(rss[-1])}; ceiling {format_size(ceiling)}: "
        f"{'OK' if peak <= ceiling else 'EXCEEDED'}"
    )
    quarters = [rss[min(len(rss) - 1, len(rss) * q // 4)] for q in (1, 2, 3)]
    print("RSS at 1/4, 1/2, 3/4 of the run:", ", ".join(format_size(r) for r in quarters))
    if gaps:
        p95 = gaps[min(len(gaps) - 1, int(0.95 * len(gaps)))]
        print(
            f"good devices' poll intervals (s): median {statistics.median(gaps):.2f}, "
            f"p95 {p95:.2f}, max {gaps[-1]:.2f} over {len(gaps)} intervals "
            f"(--interval {args.interval}); over 1.5x the interval: "
            f"{sum(g > 1.5 * interval for g in gaps)}; never re-polled: {len(seen['silent'])}"
        )
    final = exporter.scrape(timeout=10)
    reasons: Counter[str] = Counter()
    for device in hostile:
        for reason, count in final.errors(device.name).items():
            reasons[f"{device.name.split('-', 2)[2]}: {reason}"] += int(count)
    print("hostile devices' failures:", ", ".join(f"{k} x{v}" for k, v in sorted(reasons.items())))
    return 0 if peak <= ceiling else 1


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--devices", type=int, default=200)
    p.add_argument("--hostile", type=int, default=20)
    p.add_argument("--polls", type=int, default=100)
    p.add_argument("--interval", default="2s")
    p.add_argument("--per-snmpd", type=int, default=10, help="good devices per snmpd process")
    p.add_argument("--fill", choices=MODES, default="endless", help="mode of the extra hostile")
    p.add_argument("--ceiling", default="200MB", help="peak RSS allowed")
    args = p.parse_args()
    interval = parse_time(args.interval, "--interval")
    good_count = args.devices - args.hostile
    with tempfile.TemporaryDirectory(prefix="emops-snmp-memory-") as tmp, ExitStack() as stack:
        root = Path(tmp)
        started = time.monotonic()
        farm, good = start_snmpds(root / "snmpd", good_count, args.per_snmpd)
        stack.callback(farm.stop)
        modes = hostile_modes(args.hostile, args.fill)
        exporter, hostile = stack.enter_context(
            exporter_among_hostile(root, good, modes, "--interval", args.interval)
        )
        print(
            f"{good_count} good devices on {len(farm.agents)} snmpd processes, {args.hostile} "
            f"hostile ({', '.join(f'{m} x{n}' for m, n in Counter(modes).items())}); "
            f"exporter pid {exporter.process.pid} ready in {time.monotonic() - started:.1f} s"
        )
        seen = watch(exporter, [d.name for d in good], args.polls, interval)
        return report(args, seen, exporter, hostile)


if __name__ == "__main__":
    sys.exit(main())
