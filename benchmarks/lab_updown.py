"""Benchmark: `emops lab up` and `lab down` for the default and the full twin.

Prints wall time of each, the number of namespaces and veth pairs, the CPU the
idle twin uses (all processes in its namespaces, over a few seconds) and its
memory. Targets (issue "digital twin"): full twin up < 60 s, down < 15 s, idle
CPU near zero. Needs root; takes the twin lock so it never builds on a twin
someone else is using.

    sudo .venv/bin/python benchmarks/lab_updown.py [--idle 5]
"""

from __future__ import annotations

import argparse
import fcntl
import os
import time
from pathlib import Path

from lab.bringup import lab_down, lab_up, read_state
from lab.processes import device_processes

ROOT = Path(__file__).resolve().parent.parent
LAB = str(ROOT / "inventory" / "lab")
TICK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")


def _cpu_and_rss(pids: list[int]) -> tuple[float, float]:
    cpu = rss = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        cpu += (int(fields[11]) + int(fields[12])) / TICK
        rss += int(fields[21]) * PAGE
    return cpu, rss


def idle_cost(seconds: float) -> tuple[float, float, int]:
    """CPU share (of one core) and RSS of every process in the twin, while idle."""
    devices = read_state()["devices"]
    pids = [pid for d in devices for pid in device_processes(d)]
    cpu0, _ = _cpu_and_rss(pids)
    time.sleep(seconds)
    cpu1, rss = _cpu_and_rss(pids)
    return (cpu1 - cpu0) / seconds, rss, len(pids)


def run(sites: int, idle: float) -> None:
    quiet = lambda _: None  # noqa: E731
    start = time.perf_counter()
    plan = lab_up(LAB, sites, echo=quiet)
    up = time.perf_counter() - start
    share, rss, procs = idle_cost(idle)
    start = time.perf_counter()
    lab_down(LAB, echo=quiet)
    down = time.perf_counter() - start
    print(
        f"{sites:>2} cities: {len(plan.namespaces):>3} devices {len(plan.veths):>4} veths | "
        f"up {up:6.2f} s  down {down:6.2f} s | idle CPU {share:6.2%} of a core, "
        f"{procs} processes, RSS {rss / 2**20:6.1f} MiB",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--idle", type=float, default=5.0, help="seconds to measure idle CPU")
    args = parser.parse_args()
    with open("/run/emops-twin.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if read_state():
            lab_down(LAB, echo=lambda _: None)
        print("lab up / down (targets: full twin up < 60 s, down < 15 s, idle CPU ~0)")
        for sites in (3, 12):
            run(sites, args.idle)


if __name__ == "__main__":
    main()
