"""Benchmark: how long each dashboard page takes to render, on the full 12-city lab.

Starts the tests' fixture exporter and a real Prometheus (Debian's binary) on
free loopback ports, waits until rate() windows are full, then runs every page
in Streamlit's AppTest: once to warm imports, then `--runs` times with the
client's cache disabled, so every run asks Prometheus every question. Prints
first and median render time per page against the target; asserts nothing.

    .venv/bin/python benchmarks/dashboard_render.py [--runs 5]
    .venv/bin/python benchmarks/dashboard_render.py --prometheus http://127.0.0.1:9090

With `--prometheus` it measures against that live Prometheus instead (the one
`emops monitor up` runs on the twin; `emops lab up --sites 12` for the full
province), drawing the running twin's size.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "dashboard"))

from campaignfixture import write_campaigns  # noqa: E402
from pagetest import APP, LAB, PAGES  # noqa: E402
from promfixture import Exporter, PrometheusServer, wait_steady  # noqa: E402
from streamlit.testing.v1 import AppTest  # noqa: E402

from dashboard.context import client  # noqa: E402
from dashboard.settings import ENV  # noqa: E402
from emops.topology import load_topology  # noqa: E402

TARGET_S = 2.0


def counting(prometheus) -> list[int]:
    """Count the HTTP requests the shared client makes (proof the cache was bypassed)."""
    asked = [0]
    fetch = prometheus._fetch

    def counted(url: str, timeout: float) -> bytes:
        asked[0] += 1
        return fetch(url, timeout)

    prometheus._fetch = counted
    return asked


def render_times(runs: int) -> dict[str, tuple[float, float]]:
    """page -> (first render, median of later renders), seconds: one page run each."""
    at = AppTest.from_file(str(APP), default_timeout=60).run()  # the app's first run
    times = {}
    for page, path in PAGES.items():
        samples = []
        for _ in range(1 + runs):
            started = time.perf_counter()
            at.switch_page(path).run()
            samples.append(time.perf_counter() - started)
            assert not at.exception, at.exception
        times[page] = (samples[0], statistics.median(samples[1:]))
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--prometheus", help="a live Prometheus fed by the running twin")
    args = parser.parse_args()
    if args.prometheus:
        live(args)
        return
    topo = load_topology(LAB)
    with tempfile.TemporaryDirectory() as tmp:
        exporter = Exporter(topo)
        prometheus = PrometheusServer(Path(tmp), exporter.address)
        try:
            prometheus.wait_ready()
            print(f"waiting for steady series ({len(topo.devices)} devices, "
                  f"{len(topo.links)} links, 12 cities) ...", flush=True)  # fmt: skip
            wait_steady(prometheus.url, exporter)
            os.environ[ENV["inventory"]] = str(LAB)
            os.environ[ENV["prometheus"]] = prometheus.url
            os.environ[ENV["campaigns"]] = str(write_campaigns(Path(tmp) / "campaigns"))
            shared = client(prometheus.url)
            shared.ttl_s = 0  # every run asks Prometheus: the worst case
            asked = counting(shared)
            times = render_times(args.runs)
        finally:
            prometheus.stop()
            exporter.stop()
    report(times, asked[0], args.runs)


def live(args: argparse.Namespace) -> None:
    """Render against the twin's own Prometheus, with the twin's size."""
    from lab.bringup import running_sites

    sites = running_sites(LAB)
    topo = load_topology(LAB, sites)
    print(f"live Prometheus {args.prometheus}: twin of {len(topo.devices)} devices, "
          f"{len(topo.links)} links, {len(topo.municipal_sites())} cities", flush=True)  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        os.environ[ENV["inventory"]] = str(LAB)
        os.environ[ENV["prometheus"]] = args.prometheus
        os.environ[ENV["sites"]] = str(sites or "")
        os.environ[ENV["campaigns"]] = str(write_campaigns(Path(tmp) / "campaigns"))
        shared = client(args.prometheus)
        shared.ttl_s = 0
        asked = counting(shared)
        times = render_times(args.runs)
    report(times, asked[0], args.runs)


def report(times: dict[str, tuple[float, float]], asked: int, runs: int) -> None:
    print(f"\n{asked} questions to Prometheus in {sum(1 + runs for _ in PAGES)} page runs")
    print(f"\n{'page':<15} {'first':>8} {'median':>8}  target < {TARGET_S:g} s")
    for page, (first, median) in times.items():
        verdict = "ok" if median < TARGET_S else "SLOW"
        print(f"{page:<15} {first:>7.2f}s {median:>7.2f}s  {verdict}")


if __name__ == "__main__":
    main()
