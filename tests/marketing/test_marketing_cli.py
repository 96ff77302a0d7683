"""The service CLI: a real process on a free loopback port, and one-line refusals (exit 2)."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import urllib.request

import pytest

SERVICE = [sys.executable, "-m", "lab.marketing.service"]
DSN = "postgresql://postgres@127.0.0.1:5/marketing"


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--listen", "0.0.0.0:8080", "--dsn", DSN], "0.0.0.0:8080 is outside"),
        (["--listen", "10.1.2.3:8080", "--dsn", DSN], "10.1.2.3:8080 is outside"),
        (["--listen", "[::]:8080", "--dsn", DSN], "[::]:8080 is outside"),
        (["--listen", "db.example.com:80", "--dsn", DSN], "not an IP address"),
        (["--listen", "127.0.0.1:99999", "--dsn", DSN], "--listen"),
        (["--listen", "127.0.0.1:8080", "--dsn", "mysql://x@y/z"], "--dsn"),
        (["--listen", "127.0.0.1:8080", "--dsn", DSN, "--replica-dsn", "nope"], "--replica-dsn"),
        (["--listen", "127.0.0.1:8080"], "--dsn"),
        (["--listen", "127.0.0.1:8080", "--dsn", DSN, "--pool-size", "0"], "--pool-size"),
        (["--listen", "127.0.0.1:8080", "--dsn", DSN, "--bogus"], "--bogus"),
    ],
)
def test_cli_errors_are_one_line_and_exit_2(args: list[str], words: str) -> None:
    done = subprocess.run(SERVICE + args, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert words in lines[0] and "Traceback" not in done.stderr


def test_service_runs_answers_and_stops_on_sigterm(primary_dsn: str, replica_dsn: str) -> None:
    cmd = [*SERVICE, "--listen", "127.0.0.1:0", "--dsn", primary_dsn, "--replica-dsn", replica_dsn]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline().strip()
        assert line.startswith("listening on http://127.0.0.1:"), proc.stderr.read()
        base = line.split()[-1]
        with urllib.request.urlopen(f"{base}/healthz", timeout=30) as resp:
            assert resp.status == 200
            assert json.load(resp)["data"] == {"status": "ok", "primary": "ok", "replica": "ok"}
        with urllib.request.urlopen(f"{base}/customers/3", timeout=30) as resp:
            assert json.load(resp)["data"]["id"] == 3
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
        proc.stdout.close()
        proc.stderr.close()
