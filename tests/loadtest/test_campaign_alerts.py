"""Alerts read back from Prometheus (range query) and Alertmanager (polled)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar
from urllib.parse import parse_qs, urlsplit

import pytest

from emops.errors import EmopsError
from loadtest.alerts import (
    AlertmanagerPoller,
    parse_alertmanager,
    parse_prometheus_range,
    prometheus_alerts,
)
from loadtest.scoring import Alert


def series(labels: dict, times: list[float]) -> dict:
    return {
        "metric": {"__name__": "ALERTS", "alertstate": "firing", **labels},
        "values": [[t, "1"] for t in times],
    }


def test_range_query_gives_intervals_per_series() -> None:
    payload = {
        "status": "success",
        "data": {
            "result": [
                series({"alertname": "LinkDown", "link": "anping-private"}, [100, 101, 102, 103]),
                # a gap: two episodes; the second still firing at the end of the query
                series(
                    {"alertname": "SnmpTargetDown", "device": "hq-web1"},
                    [110, 111, 150, 151, 152, 200],
                ),
            ]
        },
    }
    got = parse_prometheus_range(payload, step=1.0, end=200.0)
    assert got == [
        Alert.of("LinkDown", {"link": "anping-private"}, 100, 104),
        Alert.of("SnmpTargetDown", {"device": "hq-web1"}, 110, 112),
        Alert.of("SnmpTargetDown", {"device": "hq-web1"}, 150, 153),
        Alert.of("SnmpTargetDown", {"device": "hq-web1"}, 200, None),
    ]
    assert parse_prometheus_range({"data": {"result": []}}, 1.0, 10.0) == []


def test_alertmanager_active_alerts_have_no_end() -> None:
    payload = [
        {
            "labels": {"alertname": "DatabaseDown", "device": "hq-db2"},
            "startsAt": "2026-01-01T00:00:10.000Z",
            "endsAt": "2026-01-01T00:09:10.000Z",  # Alertmanager's resolve timeout, not an end
            "status": {"state": "active"},
        },
        {
            "labels": {"alertname": "LinkDown", "link": "x"},
            "startsAt": "2026-01-01T00:00:00Z",
            "endsAt": "2026-01-01T00:00:30Z",
            "status": {"state": "resolved"},
        },
        {"labels": {"alertname": "Broken"}, "startsAt": "0001-01-01T00:00:00Z"},
    ]
    t0 = 1767225600.0  # 2026-01-01T00:00:00Z
    got = parse_alertmanager(payload, now=t0 + 60)
    assert got == [
        Alert.of("DatabaseDown", {"device": "hq-db2"}, t0 + 10, None),
        Alert.of("LinkDown", {"link": "x"}, t0, t0 + 30),
    ]


class FakeMonitoring(BaseHTTPRequestHandler):
    """Prometheus' query_range and Alertmanager's alerts, canned."""

    active: ClassVar[list] = []
    queries: ClassVar[list] = []

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        if parts.path == "/api/v1/query_range":
            FakeMonitoring.queries.append(parse_qs(parts.query))
            body = {
                "status": "success",
                "data": {"result": [series({"alertname": "LinkDown", "link": "l"}, [5, 6])]},
            }
        elif parts.path == "/api/v2/alerts":
            body = FakeMonitoring.active
        else:
            self.send_error(404)
            return
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def monitoring() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeMonitoring)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_prometheus_fetch(monitoring: str) -> None:
    got = prometheus_alerts(monitoring, 0.0, 100.0)
    assert got == [Alert.of("LinkDown", {"link": "l"}, 5, 7)]
    assert FakeMonitoring.queries[-1]["query"] == ['ALERTS{alertstate="firing"}']


def test_alertmanager_poller_ends_alerts_that_vanish(monitoring: str) -> None:
    FakeMonitoring.active = [
        {
            "labels": {"alertname": "X", "device": "d"},
            "startsAt": "2026-01-01T00:00:00Z",
            "status": {"state": "active"},
        }
    ]
    poller = AlertmanagerPoller(monitoring, interval=0.05)
    poller.poll_once()
    FakeMonitoring.active = []
    poller.poll_once()
    got = poller.stop()
    assert len(got) == 1 and got[0].ends_at is not None and not poller.errors


def test_alert_sources_must_be_lab_addresses() -> None:
    with pytest.raises(EmopsError, match="alerts: refusing"):
        prometheus_alerts("http://203.0.113.7:9090", 0, 1)
    with pytest.raises(EmopsError, match=r"alerts\.alertmanager: refusing"):
        AlertmanagerPoller("http://203.0.113.7:9093")


def test_unreachable_alertmanager_is_reported_not_raised() -> None:
    from loadtest.local import free_port

    poller = AlertmanagerPoller(f"http://127.0.0.1:{free_port()}")
    poller.poll_once()
    assert poller.errors and poller.stop() == []
