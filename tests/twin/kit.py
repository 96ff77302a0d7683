"""What the twin tests share: running site.yml, reaching into namespaces, the service's VIP."""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
VIP = "198.18.100.10"
HAPROXY_METRICS = "http://198.19.255.16:8404/metrics"  # hq-lb1 on the management network
MEASURED: dict[str, object] = {}  # printed at the end of the session: numbers for the docs
RECAP = re.compile(
    r"^(\S+)\s+:\s+ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", re.MULTILINE
)


def run_site(*extra: str) -> tuple[dict[str, dict[str, int]], float, str]:
    """ansible-playbook site.yml on the twin's hosts: (recap per host, seconds, output)."""
    argv = [str(ROOT / ".venv" / "bin" / "ansible-playbook"), "-i", "inventory/lab"]
    argv += ["playbooks/site.yml", "--limit", "@/var/lib/emops-lab/limit", *extra]
    env = os.environ | {"ANSIBLE_NOCOLOR": "1", "ANSIBLE_FORCE_COLOR": "0"}
    start = time.monotonic()
    done = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    took = time.monotonic() - start
    recap = {
        host: {"ok": int(ok), "changed": int(ch), "unreachable": int(un), "failed": int(fa)}
        for host, ok, ch, un, fa in RECAP.findall(done.stdout)
    }
    return recap, took, done.stdout + done.stderr


def tail(output: str, lines: int = 60) -> str:
    return "\n".join(output.splitlines()[-lines:])


def netns(ns: str, *argv: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["ip", "netns", "exec", ns, *argv], capture_output=True, text=True, timeout=timeout
    )


def curl(ns: str, url: str, timeout: float = 5) -> tuple[int, dict[str, str], str]:
    done = netns(ns, "curl", "-s", "-m", str(timeout), "-D", "-", url, timeout=timeout + 5)
    head, _, body = done.stdout.replace("\r\n", "\n").partition("\n\n")
    lines = head.splitlines()
    if not lines:
        return 0, {}, done.stderr
    headers = dict(line.split(": ", 1) for line in lines[1:] if ": " in line)
    return int(lines[0].split()[1]), {k.lower(): v for k, v in headers.items()}, body


def clients(twin: dict) -> list[str]:
    return sorted(d for d in twin["devices"] if d.endswith("-client"))


def wait_for_service(timeout: float = 30, clients: tuple[str, ...] = ("anping-client",)) -> None:
    """The VIP answers every client once HAProxy's health checks see all web servers up."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(HAPROXY_METRICS, timeout=2) as resp:
                metrics = resp.read().decode()
        except OSError:
            metrics = ""
        up = len(re.findall(r'haproxy_server_status\{[^}]*state="UP"\} 1', metrics))
        if up == 4 and all(curl(c, f"http://{VIP}/healthz")[0] == 200 for c in clients):
            return
        time.sleep(0.5)
    raise AssertionError("the marketing VIP never answered 200 with all web servers up")


# --- Prometheus, as the twin's monitoring sees it -------------------------------------------


def prom_get(base: str, path: str, **params: str) -> dict:
    from urllib.parse import urlencode

    url = f"{base}{path}?{urlencode(params)}" if params else f"{base}{path}"
    with urllib.request.urlopen(url, timeout=5) as resp:
        return json.load(resp)["data"]


def query(base: str, expr: str) -> dict[str, float]:
    """Instant query: {device or first label value: value}."""
    rows = prom_get(base, "/api/v1/query", query=expr)["result"]
    return {
        r["metric"].get("device", next(iter(r["metric"].values()), "")): float(r["value"][1])
        for r in rows
    }


def firing(base: str) -> list[dict[str, str]]:
    """The labels of every alert Prometheus has firing now (pending ones not yet)."""
    alerts = prom_get(base, "/api/v1/alerts")["alerts"]
    return [a["labels"] for a in alerts if a["state"] == "firing"]


def alert_key(labels: dict[str, str]) -> str:
    """One readable line per alert: its name and its identifying labels."""
    shown = {k: v for k, v in sorted(labels.items()) if k not in ("alertname", "severity")}
    return f"{labels['alertname']}{shown}"
