"""Real Locust processes against the real marketing service on loopback.

Locust monkey-patches the whole interpreter with gevent when imported, so it
only ever runs in subprocesses here, never inside pytest.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from loadtest.campaign import load_campaign
from loadtest.local import free_port
from loadtest.records import read_events, read_records
from loadtest.runner import LOCUSTFILE, run_campaign

ROOT = Path(__file__).resolve().parents[2]


def locust(
    host: str, records: Path, stages: str, timeout: float = 90, **env: str
) -> subprocess.CompletedProcess:
    settings = {
        **os.environ,
        "EMOPS_STAGES": stages,
        "EMOPS_WAIT": "0.05,0.15",
        "EMOPS_CUSTOMERS": "2000",
        "EMOPS_RECORDS_DIR": str(records),
        **env,
    }
    argv = [
        sys.executable,
        "-m",
        "locust",
        "-f",
        str(LOCUSTFILE),
        "--headless",
        "--host",
        host,
        "--only-summary",
    ]
    return subprocess.run(
        argv, env=settings, capture_output=True, text=True, timeout=timeout, cwd=ROOT
    )


def tamper_handler(upstream: str) -> type[BaseHTTPRequestHandler]:
    """A proxy that alters every fifth customer's balance and cuts every export's trailer."""

    class Tamper(BaseHTTPRequestHandler):
        def _forward(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else None
            keep = {
                k: v for k, v in self.headers.items() if k in ("Content-Type", "Idempotency-Key")
            }
            req = urllib.request.Request(
                upstream + self.path, data=body, method=self.command, headers=keep
            )
            try:
                with urllib.request.urlopen(req, timeout=30) as resp:
                    status, headers, data = resp.status, dict(resp.headers), resp.read()
            except urllib.error.HTTPError as err:
                status, headers, data = err.code, dict(err.headers), err.read()
            parts = self.path.split("/")
            if self.path.startswith("/customers/") and len(parts) == 3 and int(parts[2]) % 5 == 0:
                doc = json.loads(data)
                doc["data"]["balance_fen"] += 1  # checksum header kept: a corrupted answer
                data = json.dumps(doc).encode()
            if self.path.startswith("/reports/export"):
                data = data[: data.rfind(b"#emops-export")]
            self.send_response(status)
            for k, v in headers.items():
                if k.lower() not in (
                    "content-length",
                    "transfer-encoding",
                    "connection",
                    "date",
                    "server",
                ):
                    self.send_header(k, v)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = _forward

        def log_message(self, *args: object) -> None:
            pass

    return Tamper


@pytest.fixture
def tampering_proxy(service_no_replica) -> Iterator[str]:
    server = ThreadingHTTPServer(
        ("127.0.0.1", 0), tamper_handler(f"http://127.0.0.1:{service_no_replica.port}")
    )
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_every_answer_is_checked_and_mismatches_are_check_failures(
    tampering_proxy: str, tmp_path: Path
) -> None:
    done = locust(tampering_proxy, tmp_path, "[[1, 4, 4], [8, 6, 6]]")
    assert done.returncode == 1, done.stderr[-2000:]  # Locust's "there were failures" (the CHECKs)
    records = read_records(tmp_path)
    http = [r for r in records if r.request_type != "CHECK"]
    checks = [r for r in records if r.request_type == "CHECK"]
    assert len(http) > 100 and all(r.success for r in http)
    names = Counter(r.name for r in http)
    assert {
        "/customers/[id]",
        "/customers/[id]/bills",
        "/payments",
        "/tickets",
        "/tickets/[id]/status",
    } <= set(names)
    failed = Counter(r.name for r in checks if not r.success)
    total = Counter(r.name for r in checks)
    assert 0.05 < failed["/customers/[id]"] / total["/customers/[id]"] < 0.45  # every 5th id
    if total["/reports/export"]:
        assert failed["/reports/export"] == total["/reports/export"]  # no trailer on any
    for name in ("/customers/[id]/bills", "/payments", "/tickets", "/tickets/[id]"):
        assert total[name] > 0 and failed[name] == 0, name
    # Locust's own statistics carry the CHECK rows too
    assert "CHECK" in done.stdout + done.stderr


def test_locustfile_refuses_a_host_outside_the_lab(tmp_path: Path) -> None:
    done = locust("http://203.0.113.10:8080", tmp_path, "[[2, 1, 1]]", timeout=60)
    assert done.returncode == 2
    assert "refusing to send load to 203.0.113.10" in done.stderr
    assert read_records(tmp_path) == []


def test_failure_guard_stops_a_failing_run(tmp_path: Path) -> None:
    dead = f"http://127.0.0.1:{free_port()}"  # nothing listens: every request fails
    done = locust(
        dead, tmp_path, "[[60, 3, 3]]", EMOPS_GUARD_AFTER="1", EMOPS_MAX_FAILURE_RATIO="0.5"
    )
    assert done.returncode == 3
    events = [e["event"] for e in read_events(tmp_path)]
    assert "guard_stop" in events
    starts = [
        e["time"] for e in read_events(tmp_path) if e["event"] in ("test_start", "guard_stop")
    ]
    assert starts[1] - starts[0] < 10  # not the 60 s the shape asked for


TINY = """
name: tiny
description: two short local runs
runs: 2
min_requests: 50
duration: 8s
load:
  stages:
    - {until: 2s, users: 4, spawn_rate: 4}
    - {until: 8s, users: 6, spawn_rate: 4}
  wait: {min: 0.05s, max: 0.2s}
  guard: {max_failure_ratio: 0.9, after: 3s}
  customers: 500
workers: {local: 2}
faults:
  - {name: web-down, at: 2s, hold: 2s, kind: device, target: hq-web1}
no_fault_windows:
  - {at: 0s, until: 2s}
scoring: {grace: 1s, settle: 1s}
"""


def test_local_campaign_end_to_end_through_the_cli(tmp_path: Path) -> None:
    (tmp_path / "tiny.yml").write_text(TINY)
    out = tmp_path / "results"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "control.emops_cli",
            "campaign",
            "run",
            str(tmp_path / "tiny.yml"),
            "--local",
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=240,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    results = json.loads((out / "campaign.json").read_text())
    assert results["mode"] == "local" and len(results["runs"]) == 2
    for run in results["runs"]:
        m = run["metrics"]
        assert m["requests"] >= 50 and m["downtime_rate"] == 0 and m["data_precision"] == 1.0
        assert m["p50_ms"] is not None and m["p50_ms"] <= m["p95_ms"] <= m["p99_ms"]
        assert run["faults_skipped"] == ["web-down"] and run["problems"] == []
        assert run["worker_deaths"] == [] and run["alarms"] is None
        assert {w["label"] for w in run["workers"]} == {"local1", "local2"}
    assert (out / "report" / "index.html").exists() and (out / "report" / "fig2-delay.png").exists()
    assert results["summary"]["requests"]["n"] == 2
    again = subprocess.run(
        [sys.executable, "-m", "control.emops_cli", "campaign", "report", str(out)],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert again.returncode == 0 and "index.html" in again.stdout


def test_worker_killed_mid_run_is_reported(tmp_path: Path) -> None:
    (tmp_path / "tiny.yml").write_text(TINY)
    campaign = load_campaign(str(tmp_path / "tiny.yml"))
    killed: list[int] = []

    def kill_second_worker(run_dir: Path) -> None:
        pid = json.loads((run_dir / "processes.json").read_text())["workers"][1]["pid"]

        def kill() -> None:
            killed.append(pid)
            os.kill(pid, signal.SIGKILL)  # a process this run started

        threading.Timer(2.5, kill).start()

    results = run_campaign(
        campaign,
        tmp_path / "out",
        1,
        local=True,
        customers=500,
        echo=lambda _: None,
        run_hook=kill_second_worker,
    )
    run = results["runs"][0]
    assert killed and [d["pid"] for d in run["worker_deaths"]] == killed
    death = run["worker_deaths"][0]
    assert death["worker"] == "local2" and death["returncode"] == -signal.SIGKILL
    assert 2.0 < death["run_seconds"] < 5.0
    assert any("worker local2" in p and "died" in p for p in run["problems"])
    # the master noticed too (heartbeats stopped), and the other worker carried on
    assert any("no heartbeat" in p for p in run["problems"])
    survivors = [r for r in read_records(tmp_path / "out" / "run-01") if r.time > run["t0"] + 6]
    assert survivors, "the surviving worker kept sending load"
    saved = json.loads((tmp_path / "out" / "run-01" / "score.json").read_text())
    assert saved["worker_deaths"] == run["worker_deaths"]
