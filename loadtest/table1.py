"""Table 1 reproduced: the planner's bandwidth estimate vs what a link shaped to it really does.

The paper compares "the value output by the system" with the real value for
bulk transfers. emops does it on a private pair of namespaces joined by a veth
pair shaped with tbf (as the twin shapes its WAN links, lab/bringup.py), so the
measurement needs nothing of the twin and touches nothing else:

- bulk (F, R): the planner's B = 8*F*O/R (capacity/formulas.py, O as the shaper
  counts it); the link is shaped to B and F bytes are sent over TCP. The
  measured time should be R; the row shows the relative error (t - R) / R and
  the rate that time implies;
- ping-pong (N, T, K, M, P): the link is shaped to the paper's estimate
  8*N*K*M/(T + K*P); N emulated users exchange K datagrams of M bytes (on the
  wire) each way with a round trip of 2P; the link's interface counters give
  the rate they really use, compared with the paper's form and the refined one.

Namespaces `emops-t-cap<pid>-a/-b`, addresses 198.18.253.1-2/30, removed on
exit whatever happens. Needs root (namespaces, tc). Every wait has a timeout.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from capacity.formulas import bulk_bps, overhead_factor, pingpong_bps, pingpong_refined_bps
from emops.errors import EmopsError
from emops.files import make_output_dir, write_atomic
from emops.units import format_rate, format_size, format_time, parse_size, parse_time
from emops.yamlread import Category, Reader, read_marked_yaml
from loadtest.campaign import CAMPAIGN_DIR

# What tbf counts per full TCP segment: a 1514-byte frame (no FCS, preamble or gap)
# for 1448 payload bytes (20 IP + 20 TCP + 12 timestamp option).
SHAPER_OVERHEAD = overhead_factor(tcp_options_bytes=12, wire_bytes=0)
ADDR_A, ADDR_B = "198.18.253.1", "198.18.253.2"
PORT = 5201
STEP_TIMEOUT_S = 180.0


@dataclass(frozen=True)
class BulkScenario:
    size_bytes: float
    time_s: float
    quick: bool = False

    @property
    def name(self) -> str:
        return f"F={format_size(self.size_bytes)} R={format_time(self.time_s)}"


@dataclass(frozen=True)
class PingPongScenario:
    users: int
    think_s: float
    packets: int
    packet_bytes: int
    delay_s: float
    quick: bool = False

    @property
    def name(self) -> str:
        return (
            f"N={self.users} T={format_time(self.think_s)} K={self.packets} "
            f"M={self.packet_bytes}B P={format_time(self.delay_s)}"
        )


@dataclass(frozen=True)
class Table1Plan:
    bulk: tuple[BulkScenario, ...]
    pingpong: tuple[PingPongScenario, ...]
    measure_s: float = 8.0


# --- the scenarios, as data ---------------------------------------------------


def load_plan(path: Path = CAMPAIGN_DIR / "table1.yml") -> Table1Plan:
    """The scenarios of campaigns/table1.yml; every mistake reported at once, one line
    each with its file:line (emops.yamlread, unknown keys refused)."""
    raw, marks = read_marked_yaml(path, "--scenarios")
    if not isinstance(raw, dict | None):
        raise EmopsError.of(
            "--scenarios", "is not a mapping", "see campaigns/table1.yml", where=str(path)
        )
    r = Reader(str(path), marks)
    data = r.mapping(raw, "", known=("name", "bulk", "pingpong", "measure"))

    def get(item: dict, key: str, field: str, parse: Callable[..., float]) -> float:
        if key not in item:
            r.problem(field, "is required", category=Category.MISSING)
            return 1.0
        value = r.convert(r.get(item, key, field), field, lambda v: parse(v, field))
        return 1.0 if value is None else value

    def whole(value: object, field: str) -> float:
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise EmopsError.of(field, f"{value!r} is not a positive whole number")
        return value

    bulk = []
    for i, item in enumerate(r.sequence(data.get("bulk"), "bulk")):
        b = r.mapping(item, f"bulk[{i}]", known=("size", "time", "quick"))
        bulk.append(
            BulkScenario(
                get(b, "size", f"bulk[{i}].size", parse_size),
                get(b, "time", f"bulk[{i}].time", parse_time),
                bool(b.get("quick")),
            )
        )
    pingpong = []
    known = ("users", "think_time", "packets", "packet_size", "delay", "quick")
    for i, item in enumerate(r.sequence(data.get("pingpong"), "pingpong")):
        p = r.mapping(item, f"pingpong[{i}]", known=known)
        pingpong.append(
            PingPongScenario(
                int(get(p, "users", f"pingpong[{i}].users", whole)),
                get(p, "think_time", f"pingpong[{i}].think_time", parse_time),
                int(get(p, "packets", f"pingpong[{i}].packets", whole)),
                int(get(p, "packet_size", f"pingpong[{i}].packet_size", parse_size)),
                get(
                    p,
                    "delay",
                    f"pingpong[{i}].delay",
                    lambda v, f: parse_time(v, f, allow_zero=True),
                ),
                bool(p.get("quick")),
            )
        )
    measure = get(data, "measure", "measure", parse_time) if "measure" in data else 8.0
    r.checkpoint()
    return Table1Plan(tuple(bulk), tuple(pingpong), measure)


# --- rows (pure) ----------------------------------------------------------------


def bulk_row(s: BulkScenario, measured_s: float) -> dict[str, Any]:
    """Estimate vs measurement of one bulk scenario: error is (t - R) / R."""
    estimate = bulk_bps(s.size_bytes, s.time_s, SHAPER_OVERHEAD)
    return {
        "mode": "bulk",
        "scenario": s.name,
        "estimate_bps": estimate,
        "refined_bps": None,
        "shaped_bps": estimate,
        "required_s": s.time_s,
        "measured_s": measured_s,
        "measured_bps": 8 * s.size_bytes * SHAPER_OVERHEAD / measured_s,
        "error": (measured_s - s.time_s) / s.time_s,
        "refined_error": None,
    }


def pingpong_estimates(s: PingPongScenario) -> tuple[float, float]:
    """(the paper's form, the refined form on a link shaped to the paper's form)."""
    paper = pingpong_bps(s.users, s.think_s, s.packets, s.packet_bytes, s.delay_s)
    refined = pingpong_refined_bps(s.users, s.think_s, s.packets, s.packet_bytes, s.delay_s, paper)
    return paper, refined


def pingpong_row(s: PingPongScenario, measured_bps: float) -> dict[str, Any]:
    paper, refined = pingpong_estimates(s)
    return {
        "mode": "pingpong",
        "scenario": s.name,
        "estimate_bps": paper,
        "refined_bps": refined,
        "shaped_bps": paper,
        "required_s": None,
        "measured_s": None,
        "measured_bps": measured_bps,
        "error": (measured_bps - paper) / paper,
        "refined_error": (measured_bps - refined) / refined,
    }


# --- the shaped pair ------------------------------------------------------------


def _run(argv: list[str], check: bool = True) -> str:
    done = subprocess.run(argv, capture_output=True, text=True, timeout=30)
    if check and done.returncode != 0:
        raise EmopsError.of(argv[0], f"`{' '.join(argv[:8])}`: {done.stderr.strip()[:200]}")
    return done.stdout


def tbf_line(dev: str, rate_bps: float) -> list[str]:
    """tbf as lab/bringup.py shapes twin links: burst of two frames or 10 ms, 100 ms queue."""
    rate = int(rate_bps)
    burst = max(3200, rate // 8 // 100)
    shaper = ["tbf", "rate", f"{rate}bit", "burst", str(burst), "latency", "100ms"]
    return ["qdisc", "replace", "dev", dev, "root", *shaper]


@dataclass
class ShapedPair:
    """Two namespaces joined by one veth pair, tbf on both ends."""

    tag: str

    @property
    def ns_a(self) -> str:
        return f"emops-t-cap{self.tag}-a"

    @property
    def ns_b(self) -> str:
        return f"emops-t-cap{self.tag}-b"

    @property
    def dev_a(self) -> str:
        return f"tcap{self.tag}a"[:15]

    @property
    def dev_b(self) -> str:
        return f"tcap{self.tag}b"[:15]

    def create(self) -> None:
        self.remove()
        for ns in (self.ns_a, self.ns_b):
            _run(["ip", "netns", "add", ns])
            _run(["ip", "-n", ns, "link", "set", "dev", "lo", "up"])
        _run(["ip", "link", "add", self.dev_a, "netns", self.ns_a, "type", "veth",
              "peer", "name", self.dev_b, "netns", self.ns_b])  # fmt: skip
        for ns, dev, addr in ((self.ns_a, self.dev_a, ADDR_A), (self.ns_b, self.dev_b, ADDR_B)):
            _run(["ip", "-n", ns, "addr", "add", f"{addr}/30", "dev", dev])
            _run(["ip", "-n", ns, "link", "set", "dev", dev, "up"])

    def shape(self, rate_bps: float) -> None:
        for ns, dev in ((self.ns_a, self.dev_a), (self.ns_b, self.dev_b)):
            _run(["tc", "-n", ns, *tbf_line(dev, rate_bps)])

    def tx_bytes(self) -> int:
        """Bytes the A side has sent (Ethernet frames without FCS, what tbf counts)."""
        info = json.loads(
            _run(["ip", "-j", "-s", "-n", self.ns_a, "link", "show", "dev", self.dev_a])
        )
        return int(info[0]["stats64"]["tx"]["bytes"])

    def spawn(self, ns: str, *args: str) -> subprocess.Popen:
        argv = ["ip", "netns", "exec", ns, sys.executable, "-m", "loadtest.linkprobe", *args]
        return subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def remove(self) -> None:
        for ns in (self.ns_a, self.ns_b):
            _run(["ip", "netns", "del", ns], check=False)


@contextmanager
def shaped_pair(tag: str | None = None) -> Iterator[ShapedPair]:
    if os.geteuid() != 0:
        raise EmopsError.of("table1", "needs root (network namespaces and tc)", "run it as root")
    pair = ShapedPair(tag or str(os.getpid() % 100000))
    try:
        pair.create()
        yield pair
    finally:
        pair.remove()


def _ready(proc: subprocess.Popen, what: str) -> None:
    """Wait for a probe's `listening` line."""
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if "listening" not in line:
        proc.kill()
        raise EmopsError.of(
            "table1", f"{what} did not start: {proc.stderr.read()[:300] if proc.stderr else ''}"
        )


def _result(proc: subprocess.Popen, timeout: float) -> dict:
    out, err = proc.communicate(timeout=timeout)
    lines = [ln for ln in out.splitlines() if ln.startswith("{")]
    if proc.returncode != 0 or not lines:
        raise EmopsError.of("table1", f"probe failed: {err.strip()[-300:]}")
    return json.loads(lines[-1])


# --- measurements ---------------------------------------------------------------


def measure_bulk(pair: ShapedPair, s: BulkScenario) -> float:
    """Seconds to move F bytes over the pair shaped to the bulk estimate."""
    pair.shape(bulk_bps(s.size_bytes, s.time_s, SHAPER_OVERHEAD))
    timeout = s.time_s * 3 + 30
    sink = pair.spawn(pair.ns_b, "sink", "--bind", f"{ADDR_B}:{PORT}", "--timeout", str(timeout))
    try:
        _ready(sink, "the TCP sink")
        sender = pair.spawn(pair.ns_a, "send", "--to", f"{ADDR_B}:{PORT}", "--bytes",
                            str(int(s.size_bytes)), "--timeout", str(timeout))  # fmt: skip
        sent = _result(sender, timeout + 10)
        _result(sink, 30)
    finally:
        if sink.poll() is None:
            sink.kill()
            sink.wait(10)
    if sent["confirmed"] != int(s.size_bytes):
        raise EmopsError.of("table1", f"{s.name}: the sink got {sent['confirmed']} bytes")
    return float(sent["seconds"])


def measure_pingpong(pair: ShapedPair, s: PingPongScenario, measure_s: float) -> float:
    """Bits/s the users put on the link (A to B), from its counters after one think time."""
    paper, _ = pingpong_estimates(s)
    pair.shape(paper)
    warmup = s.think_s + s.packets * 2 * s.delay_s + 0.5
    total = warmup + measure_s + 1.0
    echo = pair.spawn(pair.ns_b, "echo", "--bind", f"{ADDR_B}:{PORT}", "--delay",
                      f"{2 * s.delay_s}", "--duration", f"{total + 5}")  # fmt: skip
    try:
        _ready(echo, "the UDP echo")
        users = pair.spawn(pair.ns_a, "users", "--to", f"{ADDR_B}:{PORT}", "--users", str(s.users),
                           "--think", str(s.think_s), "--packets", str(s.packets),
                           "--size", str(s.packet_bytes), "--duration", f"{total}")  # fmt: skip
        time.sleep(warmup)
        t1, b1 = time.monotonic(), pair.tx_bytes()
        time.sleep(measure_s)
        t2, b2 = time.monotonic(), pair.tx_bytes()
        tally = _result(users, total + 30)
    finally:
        echo.kill()
        echo.wait(10)
    if tally["transactions"] == 0:
        raise EmopsError.of("table1", f"{s.name}: no transaction completed")
    return 8 * (b2 - b1) / (t2 - t1)


def describe(row: dict) -> str:
    """One line per Table 1 row for the terminal."""
    est = format_rate(row["estimate_bps"])
    if row["mode"] == "bulk":
        took = f"took {row['measured_s']:.3f}s for R={row['required_s']:g}s"
        return (
            f"bulk     {row['scenario']:<24} estimate {est:>8}  {took}  error {row['error']:+.1%}"
        )
    return (
        f"pingpong {row['scenario']:<40} paper {est:>8}"
        f" refined {format_rate(row['refined_bps']):>8}"
        f" measured {format_rate(row['measured_bps']):>8}  error {row['error']:+.1%}"
        f" (refined {row['refined_error']:+.1%})"
    )


def run_table1(
    plan: Table1Plan, quick: bool = False, echo: Callable[[str], None] = print
) -> list[dict]:
    """Every (or every quick) scenario on one shaped pair; the Table 1 rows."""
    rows = []
    with shaped_pair() as pair:
        for s in plan.bulk:
            if not quick or s.quick:
                rows.append(bulk_row(s, measure_bulk(pair, s)))
                echo(describe(rows[-1]))
        for p in plan.pingpong:
            if not quick or p.quick:
                rows.append(pingpong_row(p, measure_pingpong(pair, p, plan.measure_s)))
                echo(describe(rows[-1]))
    return rows


def write_table1(out_dir: Path, rows: list[dict]) -> Path:
    payload = {"overhead": SHAPER_OVERHEAD, "rows": rows}
    make_output_dir(out_dir)
    return write_atomic(out_dir / "table1.json", json.dumps(payload, indent=2) + "\n", "--out")
