"""The alert sink (`python -m emops.monitoring.alert_sink`) as a real process on a
free loopback port: Alertmanager-shaped webhooks in, one JSON line per alert in
the log, the GET views, 400 on bad input, loopback only, history across a
restart and a kill -9, hostile bodies (deep, huge, trickling) that never stall
the others; and the real Alertmanager delivering to it.
"""

from __future__ import annotations

import hashlib
import json
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from monitor_helpers import ROOT, free_port, tool

SINK = [sys.executable, "-m", "emops.monitoring.alert_sink"]
RECORD_KEYS = {
    "received_at",
    "route",
    "status",
    "alertname",
    "labels",
    "annotations",
    "startsAt",
    "endsAt",
    "fingerprint",
}
ZERO_TIME = "0001-01-01T00:00:00Z"  # Go's zero time: a firing alert's endsAt


class Sink:
    """One alert sink process; `start` again after `stop` to restart on the same log."""

    def __init__(self, log: Path, *extra: str) -> None:
        self.log = log
        self.listen = f"127.0.0.1:{free_port()}"
        self.url = f"http://{self.listen}"
        self.extra = extra
        self.proc: subprocess.Popen[str] | None = None
        self.stderr = ""

    def start(self) -> Sink:
        argv = [*SINK, "--listen", self.listen, "--log", str(self.log), *self.extra]
        self.proc = subprocess.Popen(
            argv, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
        )
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                pytest.fail(f"alert sink exited {self.proc.returncode}: {self.proc.stderr.read()}")
            try:
                if http("GET", f"{self.url}/-/ready")[0] == 200:
                    return self
            except OSError:
                time.sleep(0.05)
        pytest.fail("alert sink not ready within 15 s")

    def stop(self, sig: int = signal.SIGTERM) -> int:
        assert self.proc is not None
        self.proc.send_signal(sig)
        try:
            _, self.stderr = self.proc.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.communicate()
            raise
        return self.proc.returncode

    def post(self, route: str, body: bytes | dict) -> tuple[int, str]:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        return http("POST", f"{self.url}/alerts/{route}", data)

    def get(self, path: str) -> Any:
        status, text = http("GET", f"{self.url}{path}")
        assert status == 200, text
        return json.loads(text)

    def lines(self) -> list[dict]:
        return [json.loads(line) for line in self.log.read_text().splitlines()]


def http(method: str, url: str, data: bytes | None = None, timeout: float = 5) -> tuple[int, str]:
    request = urllib.request.Request(url, data=data, method=method)
    request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def alert(name: str, status: str = "firing", site: str = "anping", **labels: str) -> dict:
    """One alert as Alertmanager's webhook writes it."""
    starts = "2026-11-28T02:10:03.123456789Z"
    return {
        "status": status,
        "labels": {"alertname": name, "severity": "page", "site": site, **labels},
        "annotations": {"summary": f"{name} at {site}", "description": "from the rule"},
        "startsAt": starts,
        "endsAt": ZERO_TIME if status == "firing" else "2026-11-28T02:12:41.5Z",
        "generatorURL": "http://127.0.0.1:9090/graph?g0.expr=up",
        "fingerprint": hashlib.md5(f"{name};{site}".encode()).hexdigest()[:16],
    }


def notification(*alerts: dict, receiver: str = "pager") -> dict:
    """An Alertmanager webhook payload, version 4."""
    firing = any(isinstance(a, dict) and a.get("status") == "firing" for a in alerts)
    return {
        "version": "4",
        "groupKey": '{}/{severity="page"}:{site="anping"}',
        "truncatedAlerts": 0,
        "status": "firing" if firing else "resolved",
        "receiver": receiver,
        "groupLabels": {"site": "anping"},  # the sink reads only alerts[]
        "commonLabels": {"severity": "page", "site": "anping"},
        "commonAnnotations": {},
        "externalURL": "http://127.0.0.1:9093",
        "alerts": list(alerts),
    }


@pytest.fixture
def sink(tmp_path):
    running = Sink(tmp_path / "alerts.jsonl").start()
    yield running
    if running.proc and running.proc.poll() is None:
        running.stop()


def test_each_alert_of_a_notification_is_one_durable_line(sink):
    sent = [alert("LinkDown", link="anping-wan--hq-wan-private"), alert("WanSiteIsolated")]
    before = time.time()
    status, text = sink.post("page", notification(*sent))
    assert (status, json.loads(text)) == (200, {"stored": 2})

    lines = sink.lines()  # written before the webhook was answered
    assert [set(r) for r in lines] == [RECORD_KEYS, RECORD_KEYS]
    for record, original in zip(lines, sent, strict=True):
        assert before <= record["received_at"] <= time.time()
        assert record["route"] == "page"
        assert record["status"] == "firing"
        assert record["alertname"] == original["labels"]["alertname"]
        for key in ("labels", "annotations", "startsAt", "endsAt", "fingerprint"):
            assert record[key] == original[key]
    assert sink.get("/alerts") == {"alerts": lines}


def test_alerts_filter_by_time_and_route(sink):
    info = notification(alert("BackupBundleCarryingTraffic"), receiver="log")
    assert sink.post("info", info)[0] == 200
    time.sleep(0.05)
    between = time.time()
    time.sleep(0.05)
    assert sink.post("page", notification(alert("LinkDown")))[0] == 200

    def names(path: str) -> list[str]:
        return [r["alertname"] for r in sink.get(path)["alerts"]]

    assert names("/alerts") == ["BackupBundleCarryingTraffic", "LinkDown"]
    assert names("/alerts?route=info") == ["BackupBundleCarryingTraffic"]
    assert names(f"/alerts?since={between}") == ["LinkDown"]
    assert names(f"/alerts?since={between}&route=info") == []
    assert names(f"/alerts?since={int(between) + 3600}") == []
    for query, field in [("route=sms", "route:"), ("since=yesterday", "since:")]:
        status, text = http("GET", f"{sink.url}/alerts?{query}")
        assert status == 400 and text.startswith(field), (query, text)


def test_firing_is_the_latest_state_of_each_alert(sink):
    link, isolated = alert("LinkDown"), alert("WanSiteIsolated")
    backup = alert("BackupBundleCarryingTraffic", site="baishan")
    assert sink.post("page", notification(link, isolated))[0] == 200
    assert sink.post("info", notification(backup, receiver="log"))[0] == 200
    firing = sink.get("/alerts/firing")["alerts"]
    assert sorted(r["alertname"] for r in firing) == [
        "BackupBundleCarryingTraffic",
        "LinkDown",
        "WanSiteIsolated",
    ]

    # Alertmanager re-sends the group: the link resolved, the isolation still fires
    resolved = {**link, "status": "resolved", "endsAt": "2026-11-28T02:12:41.5Z"}
    assert sink.post("page", notification(resolved, isolated))[0] == 200
    firing = sink.get("/alerts/firing")["alerts"]
    assert sorted(r["alertname"] for r in firing) == [
        "BackupBundleCarryingTraffic",
        "WanSiteIsolated",
    ]
    assert [r["alertname"] for r in sink.get("/alerts/firing?route=page")["alerts"]] == [
        "WanSiteIsolated"
    ]
    # the pager record keeps both ends of the link's alert
    ends = [(r["status"], r["endsAt"]) for r in sink.lines() if r["alertname"] == "LinkDown"]
    assert ends == [("firing", ZERO_TIME), ("resolved", "2026-11-28T02:12:41.5Z")]


def _without(key: str) -> dict:
    bad = alert("LinkDown")
    del bad[key]
    return bad


BAD_PAYLOADS = [
    (b"this is not json", "body:"),
    (b"\xff\xfe{", "body:"),
    (b"[]", "body:"),
    (b"{}", "alerts:"),
    ({"version": "4", "alerts": {"0": alert("LinkDown")}}, "alerts:"),
    (notification(alert("LinkDown"), "LinkDown"), "alerts[1]:"),  # type: ignore[arg-type]
    (notification({**alert("LinkDown"), "status": "pending"}), "alerts[0].status:"),
    (notification(_without("labels")), "alerts[0].labels:"),
    (notification({**alert("LinkDown"), "labels": ["LinkDown"]}), "alerts[0].labels:"),
    (notification({**alert("LinkDown"), "labels": {"site": "a"}}), "alerts[0].labels.alertname:"),
    (notification(alert("LinkDown", ifIndex=3)), "alerts[0].labels.ifIndex:"),  # type: ignore[arg-type]
    (notification({**alert("LinkDown"), "annotations": "down"}), "alerts[0].annotations:"),
    (notification(_without("startsAt")), "alerts[0].startsAt:"),
    (notification({**alert("LinkDown"), "startsAt": "yesterday"}), "alerts[0].startsAt:"),
    (notification({**alert("LinkDown"), "endsAt": 1764295803}), "alerts[0].endsAt:"),
    (notification(_without("fingerprint")), "alerts[0].fingerprint:"),
    # a good alert before a bad one: nothing of the notification is written
    (
        notification(alert("WanSiteIsolated"), {**alert("LinkDown"), "status": 1}),
        "alerts[1].status:",
    ),
    # undecodable: deeper than any parser's stack (large, then small), not UTF-8, a 5000-digit
    # integer; UTF-16 JSON is not what Alertmanager sends (RFC 8259: UTF-8 between systems)
    (b"[" * 100_000, "body:"),
    (b'{"alerts": [' + b"{" * 30_000, "body:"),
    (b'{"alerts": ["\xc3\x28"]}', "body:"),
    (b'{"alerts": [' + b"7" * 5000 + b"]}", "body:"),
    (json.dumps(notification(alert("LinkDown"))).encode("utf-16"), "body:"),
]


def test_bad_payloads_are_400_naming_the_field_and_write_nothing(sink):
    for body, field in BAD_PAYLOADS:
        status, text = sink.post("page", body)
        assert status == 400, (field, text)
        assert text.startswith(field) and text.count("\n") == 1, (field, text)
    assert sink.log.read_bytes() == b""
    assert sink.get("/alerts") == {"alerts": []}
    # still serving, and a good notification after all that is stored
    assert sink.post("page", notification(alert("LinkDown")))[0] == 200
    assert [r["alertname"] for r in sink.lines()] == ["LinkDown"]
    status, _ = sink.post("sms", notification(alert("LinkDown")))
    assert status in (404, 405)
    assert sink.stop() == 0
    assert "Traceback" not in sink.stderr and "Error" not in sink.stderr, sink.stderr


@pytest.mark.parametrize(
    ("argv", "field"),
    [
        (["--listen", "0.0.0.0:9612"], "--listen: 0.0.0.0:9612 is outside 127.0.0.0/8"),
        (["--listen", "192.168.10.1:9612"], "--listen: 192.168.10.1:9612 is outside 127.0.0.0/8"),
        (["--listen", "localhost:9612"], "--listen: 'localhost' is not an IP address"),
        (["--listen", "127.0.0.1"], "--listen: '127.0.0.1' is not HOST:PORT"),
        (["--listen", "127.0.0.1:9612", "--keep", "0"], "--keep: 0 is not a positive count"),
    ],
)
def test_bad_arguments_are_a_one_line_error_and_exit_2(tmp_path, argv, field):
    log = tmp_path / "alerts.jsonl"
    done = subprocess.run(
        [*SINK, *argv, "--log", str(log)], cwd=ROOT, capture_output=True, text=True, timeout=30
    )
    assert done.returncode == 2
    assert done.stderr.startswith(f"error: {field}") and done.stderr.count("\n") == 1, done.stderr
    assert not log.exists()


def test_an_unusable_log_or_a_busy_port_is_a_one_line_error(tmp_path, sink):
    missing = tmp_path / "no-such-dir" / "alerts.jsonl"
    done = subprocess.run(
        [*SINK, "--listen", f"127.0.0.1:{free_port()}", "--log", str(missing)],
        cwd=ROOT, capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    assert done.returncode == 2 and done.stderr.startswith("error: --log:"), done.stderr
    busy = subprocess.run(
        [*SINK, "--listen", sink.listen, "--log", str(tmp_path / "other.jsonl")],
        cwd=ROOT, capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    assert busy.returncode == 2 and busy.stderr.startswith("error: --listen:"), busy.stderr
    assert busy.stderr.count("\n") == 1


def test_a_restart_keeps_history_and_cuts_a_torn_last_line(sink):
    assert sink.post("page", notification(alert("LinkDown"), alert("WanSiteIsolated")))[0] == 200
    before = sink.get("/alerts")["alerts"]
    assert sink.stop(signal.SIGTERM) == 0
    with sink.log.open("a") as f:  # a crash in the middle of writing a record
        f.write('{"received_at":1764295803.5,"route":"page","status":"fir')

    sink.start()
    assert sink.get("/alerts")["alerts"] == before
    assert len(sink.get("/alerts/firing")["alerts"]) == 2
    resolved = {**alert("LinkDown"), "status": "resolved", "endsAt": "2026-11-28T02:12:41.5Z"}
    assert sink.post("page", notification(resolved))[0] == 200
    # the new record is a line of its own: every line of the file reads back
    assert [(r["alertname"], r["status"]) for r in sink.lines()] == [
        ("LinkDown", "firing"),
        ("WanSiteIsolated", "firing"),
        ("LinkDown", "resolved"),
    ]
    assert sink.stop(signal.SIGINT) == 0
    assert "dropped a torn last line" in sink.stderr
    assert "2 earlier record(s)" in sink.stderr


def test_every_acknowledged_alert_survives_kill_9(sink):
    """Senders post small and large notifications until the sink is killed mid-flight:
    after a restart every alert that was answered 200 is in the log and the GETs."""
    acked: list[str] = []
    stop = threading.Event()

    def sender(prefix: str, size: int) -> None:
        for n in range(10_000):
            names = [f"{prefix}{n}x{i}" for i in range(size)]
            try:
                status, _ = sink.post("page", notification(*map(alert, names)))
            except OSError:  # killed while this one was in flight: never acknowledged
                return
            if status == 200:
                acked.extend(names)
            if stop.is_set():
                return

    threads = [threading.Thread(target=sender, args=args) for args in [("S", 1), ("L", 300)]]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 20
    while len(acked) < 1000 and time.monotonic() < deadline:
        time.sleep(0.05)
    stop.set()
    assert sink.stop(signal.SIGKILL) == -signal.SIGKILL
    for thread in threads:
        thread.join(timeout=30)
    assert len(acked) >= 1000, "the senders were too slow to prove anything"

    sink.start()
    kept = {r["alertname"] for r in sink.get("/alerts")["alerts"]}
    assert set(acked) <= kept
    assert set(acked) <= {r["alertname"] for r in sink.lines()}


def big_notification(alerts: int) -> bytes:
    return json.dumps(notification(*(alert(f"Flood{i}") for i in range(alerts)))).encode()


def ack_times(sink: Sink, busy: threading.Thread) -> list[float]:
    """Seconds each small webhook took to be acknowledged while `busy` runs (at least 3)."""
    times: list[float] = []
    while busy.is_alive() or len(times) < 3:
        start = time.monotonic()
        status, text = sink.post("page", notification(alert(f"Small{len(times)}")))
        times.append(time.monotonic() - start)
        assert status == 200, text
    return times


def test_an_oversized_body_is_413_and_large_ones_never_stall_the_others(sink):
    """28 MB used to block the event loop ~7 s; now it is refused from its length, and
    notifications of almost 1 MiB are decoded off the loop, so small ones go straight in."""
    huge, large = big_notification(80_000), big_notification(2_700)
    assert len(huge) > 25_000_000 and 800_000 < len(large) < 1024 * 1024
    answers: dict[str, list[tuple[int, str]]] = {"huge": [], "large": []}

    def post(kind: str, body: bytes, times: int) -> None:
        for _ in range(times):
            answers[kind].append(http("POST", f"{sink.url}/alerts/page", body, timeout=60))

    busy = [
        threading.Thread(target=post, args=("huge", huge, 1)),
        threading.Thread(target=post, args=("large", large, 3)),
    ]
    for thread in busy:
        thread.start()
    times = ack_times(sink, busy[0])
    for thread in busy:
        thread.join(timeout=60)
    status, text = answers["huge"][0]
    assert status == 413 and text.startswith("body:") and text.count("\n") == 1, text
    assert [status for status, _ in answers["large"]] == [200] * 3
    assert max(times) < 1.5, times
    names = [r["alertname"] for r in sink.lines()]
    assert len(names) == 3 * 2_700 + len(times)
    assert sink.stop() == 0
    assert "refused a body: 28" in sink.stderr and "Traceback" not in sink.stderr


def trickle(sink: Sink, length: int) -> socket.socket:
    """A sender that announces a large body and sends only its first bytes."""
    conn = socket.create_connection(("127.0.0.1", int(sink.listen.rpartition(":")[2])))
    conn.sendall(
        b"POST /alerts/page HTTP/1.1\r\nHost: sink\r\nContent-Type: application/json\r\n"
        + f"Content-Length: {length}\r\n\r\n".encode()
        + b'{"alerts": ['
    )
    return conn


@pytest.mark.slow
def test_trickling_senders_hold_a_bounded_number_of_slots_and_are_cut_off(sink):
    """Four senders (all the large-body slots) trickle 900 kB bodies: small notifications
    are still acknowledged at once, a fifth large one is told to retry (503) instead of
    adding its megabyte, and after the 10 s body deadline the trickling senders get 408
    and the large notification goes in."""
    started = time.monotonic()
    slow = [trickle(sink, 900_000) for _ in range(4)]
    try:
        time.sleep(0.5)  # their handlers hold the slots
        large = big_notification(300)
        assert len(large) > 64 * 1024
        answers: list[tuple[int, str]] = []
        waited = threading.Thread(
            target=lambda: answers.append(http("POST", f"{sink.url}/alerts/page", large, 30))
        )
        waited.start()
        times = ack_times(sink, waited)
        waited.join()
        assert max(times) < 1.5, times
        status, text = answers[0]
        assert status == 503 and text.startswith("busy:"), (status, text)

        for conn in slow:
            conn.settimeout(30)
            assert conn.recv(4096).startswith(b"HTTP/1.1 408"), "no 408 for a trickling sender"
        assert time.monotonic() - started >= 9.5  # the deadline, not before
        assert sink.post("page", large)[0] == 200
    finally:
        for conn in slow:
            conn.close()
    flood = [r["alertname"] for r in sink.lines() if r["alertname"].startswith("Flood")]
    assert flood == [f"Flood{i}" for i in range(300)]


def test_keep_bounds_memory_not_the_log(tmp_path):
    sink = Sink(tmp_path / "alerts.jsonl", "--keep", "2").start()
    try:
        for name in ("LinkDown", "WanSiteIsolated", "VrrpNoMaster"):
            assert sink.post("page", notification(alert(name)))[0] == 200
        names = [r["alertname"] for r in sink.get("/alerts")["alerts"]]
        assert names == ["WanSiteIsolated", "VrrpNoMaster"]
        assert len(sink.lines()) == 3
        sink.stop()
        sink.start()
        assert [r["alertname"] for r in sink.get("/alerts")["alerts"]] == names
    finally:
        sink.stop()


ALERTMANAGER_CONFIG = """\
route:
  receiver: pager
  group_by: [site]
  group_wait: 0s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: pager
    webhook_configs:
      - url: {sink}/alerts/page
        send_resolved: true
"""


@pytest.mark.slow
def test_alertmanager_delivers_firing_and_resolved_to_the_sink(tmp_path, sink):
    binary = tool("prometheus-alertmanager")
    config = tmp_path / "alertmanager.yml"
    config.write_text(ALERTMANAGER_CONFIG.format(sink=sink.url))
    am = f"127.0.0.1:{free_port()}"
    argv = [
        binary,
        f"--config.file={config}",
        f"--storage.path={tmp_path / 'alertmanager-data'}",
        f"--web.listen-address={am}",
        "--cluster.listen-address=",
    ]
    log = (tmp_path / "alertmanager.log").open("w")
    manager = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_for(lambda: http("GET", f"http://{am}/-/ready")[0] == 200, "Alertmanager ready")
        now = datetime.now(UTC)
        labels = {"alertname": "LinkDown", "severity": "page", "site": "anping"}
        sent = {"labels": labels, "annotations": {"summary": "link down"}}
        sent["startsAt"] = stamp(now - timedelta(seconds=5))
        sent["endsAt"] = stamp(now + timedelta(minutes=5))
        status, text = http("POST", f"http://{am}/api/v2/alerts", json.dumps([sent]).encode())
        assert status == 200, text
        fired = wait_for(lambda: records(sink, "firing"), "the firing notification")
        assert fired[0]["route"] == "page" and fired[0]["labels"] == labels
        assert fired[0]["annotations"] == {"summary": "link down"}
        assert fired[0]["startsAt"].startswith(sent["startsAt"][:19])
        assert [r["alertname"] for r in sink.get("/alerts/firing")["alerts"]] == ["LinkDown"]

        sent["endsAt"] = stamp(datetime.now(UTC) - timedelta(seconds=1))  # Prometheus: resolved
        status, text = http("POST", f"http://{am}/api/v2/alerts", json.dumps([sent]).encode())
        assert status == 200, text
        resolved = wait_for(lambda: records(sink, "resolved"), "the resolved notification")
        assert resolved[0]["fingerprint"] == fired[0]["fingerprint"]
        assert resolved[0]["endsAt"].startswith(sent["endsAt"][:19])
        assert sink.get("/alerts/firing") == {"alerts": []}
        assert [r["status"] for r in sink.lines()] == ["firing", "resolved"]
    finally:
        manager.terminate()
        manager.wait(timeout=10)
        log.close()


def stamp(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def records(sink: Sink, status: str) -> list[dict]:
    return [r for r in sink.get("/alerts")["alerts"] if r["status"] == status]


def wait_for(check, what: str, timeout: float = 30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            found = check()
        except OSError:
            found = None
        if found:
            return found
        time.sleep(0.1)
    pytest.fail(f"no {what} within {timeout:.0f} s")
