"""Benchmark: provision a bare twin with site.yml, then re-run it (idempotent).

Takes the twin lock (/run/emops-twin.lock, waiting if a test run holds it),
rebuilds the default twin from scratch (`lab down` + `lab up`), times
`ansible-playbook playbooks/site.yml` from the bare twin and the idempotent
re-run, and prints both with the recap's totals. Prints figures, asserts
nothing; leaves the provisioned twin up unless --down.

    .venv/bin/python benchmarks/provision.py [--sites 3] [--down]

Needs root. The figures depend on the machine: every device of the twin is a
namespace on the same CPUs, so two dozen devices share them.
"""

from __future__ import annotations

import argparse
import fcntl
import os
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LOCK = "/run/emops-twin.lock"
RECAP = re.compile(r"^\S+\s+:\s+ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", re.M)


def site(*extra: str) -> tuple[float, list[int]]:
    argv = [str(ROOT / ".venv/bin/ansible-playbook"), "-i", "inventory/lab", "playbooks/site.yml"]
    argv += ["--limit", "@/var/lib/emops-lab/limit", *extra]
    env = os.environ | {"ANSIBLE_NOCOLOR": "1"}
    start = time.perf_counter()
    done = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True)
    took = time.perf_counter() - start
    totals = [0, 0, 0, 0]
    for row in RECAP.findall(done.stdout):
        totals = [t + int(v) for t, v in zip(totals, row, strict=True)]
    if done.returncode != 0:
        print(done.stdout[-3000:], done.stderr[-2000:], file=sys.stderr)
    return took, totals


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sites", type=int, default=3, help="municipal companies in the twin")
    parser.add_argument("--down", action="store_true", help="take the twin down afterwards")
    args = parser.parse_args()
    if os.geteuid() != 0:
        print("needs root (the twin)", file=sys.stderr)
        return 2
    emops = str(ROOT / ".venv/bin/emops")
    with open(LOCK, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        subprocess.run([emops, "lab", "down"], cwd=ROOT, capture_output=True)
        start = time.perf_counter()
        subprocess.run([emops, "lab", "up", "--sites", str(args.sites)], cwd=ROOT, check=True,
                       capture_output=True)  # fmt: skip
        print(f"lab up (bare twin, {args.sites} companies): {time.perf_counter() - start:6.1f} s")
        for label in ("site.yml from a bare twin", "site.yml again (idempotent)"):
            took, (ok, changed, unreachable, failed) = site()
            print(
                f"{label:30s} {took:6.1f} s  ok={ok} changed={changed} "
                f"unreachable={unreachable} failed={failed}"
            )
        took, (ok, changed, _u, failed) = site("--check", "--diff")
        print(f"{'site.yml --check --diff':30s} {took:6.1f} s  changed={changed} failed={failed}")
        if args.down:
            subprocess.run([emops, "lab", "down"], cwd=ROOT, capture_output=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
