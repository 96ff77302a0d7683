"""Read back the alerts the monitoring fired during a run, from Prometheus and Alertmanager.

Two sources, because each misses something:
- Prometheus keeps the `ALERTS{alertstate="firing"}` series; after the run one
  range query gives every firing interval to the step (1 s), even for alerts
  that Alertmanager inhibited or grouped away;
- Alertmanager knows the exact startsAt/endsAt it notified with, but only for
  alerts active *now*, so it is polled during the run.
Both are turned into scoring.Alert intervals; scoring merges duplicates. The
parsers are pure; the fetchers only talk to loopback or lab addresses
(loadtest/safety.py) and report an unreachable source instead of crashing,
so a run without monitoring still scores its requests.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from emops.errors import EmopsError
from loadtest import safety
from loadtest.scoring import Alert

HTTP_TIMEOUT_S = 10.0
POLL_INTERVAL_S = 2.0


def parse_prometheus_range(payload: Mapping[str, Any], step: float, end: float) -> list[Alert]:
    """Firing intervals from a query_range answer for ALERTS{alertstate="firing"}.

    Consecutive samples at most 1.5 steps apart are one interval; it ends one
    step after its last sample, or is still firing (None) if that sample is the
    last step of the query.
    """
    alerts: list[Alert] = []
    for series in payload.get("data", {}).get("result", []):
        labels = dict(series.get("metric", {}))
        name = labels.pop("alertname", "?")
        labels.pop("alertstate", None)
        labels.pop("__name__", None)
        times = sorted(float(t) for t, v in series.get("values", []) if float(v) != 0)
        if not times:
            continue
        begin = prev = times[0]
        for t in [*times[1:], None]:
            if t is not None and t - prev <= 1.5 * step:
                prev = t
                continue
            still = prev >= end - step
            alerts.append(Alert.of(name, labels, begin, None if still else prev + step))
            if t is not None:
                begin = prev = t
    return alerts


def _iso(text: str | None) -> float | None:
    if not text or text.startswith("0001-"):
        return None
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def parse_alertmanager(payload: Sequence[Mapping[str, Any]], now: float) -> list[Alert]:
    """Alerts from Alertmanager's /api/v2/alerts: active ones have no end yet."""
    alerts = []
    for item in payload:
        labels = dict(item.get("labels", {}))
        name = labels.pop("alertname", "?")
        start = _iso(item.get("startsAt"))
        if start is None:
            continue
        active = item.get("status", {}).get("state", "active") == "active"
        end = None if active else _iso(item.get("endsAt"))
        alerts.append(Alert.of(name, labels, start, end if end is None or end <= now else None))
    return alerts


def fetch_json(base: str, path: str, params: Mapping[str, str] | None = None) -> Any:
    """GET base+path?params as JSON, from a loopback or lab address only."""
    target = safety.check_target(base, field="alerts")
    query = f"?{urllib.parse.urlencode(params)}" if params else ""
    url = target.pinned_url.rstrip("/") + path + query
    with urllib.request.urlopen(url, timeout=HTTP_TIMEOUT_S) as resp:
        return json.loads(resp.read())


def prometheus_alerts(base: str, start: float, end: float, step: float = 1.0) -> list[Alert]:
    params = {
        "query": 'ALERTS{alertstate="firing"}',
        "start": f"{start:.3f}",
        "end": f"{end:.3f}",
        "step": f"{step:g}",
    }
    payload = fetch_json(base, "/api/v1/query_range", params)
    if payload.get("status") != "success":
        raise EmopsError.of("alerts.prometheus", f"query failed: {payload.get('error', payload)}")
    return parse_prometheus_range(payload, step, end)


class AlertmanagerPoller:
    """Polls /api/v2/alerts in a thread while a run lasts; alerts that vanish get an end."""

    def __init__(self, base: str, interval: float = POLL_INTERVAL_S) -> None:
        safety.check_target(base, field="alerts.alertmanager")
        self.base = base
        self.interval = interval
        self.errors: list[str] = []
        self._seen: dict[tuple, Alert] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def start(self) -> AlertmanagerPoller:
        self._thread.start()
        return self

    def _loop(self, max_polls: int = 86_400) -> None:
        for _ in range(max_polls):
            if self._stop.is_set():
                return
            self.poll_once()
            self._stop.wait(self.interval)

    def poll_once(self) -> None:
        now = time.time()
        try:
            current = parse_alertmanager(fetch_json(self.base, "/api/v2/alerts"), now)
        except (OSError, ValueError, EmopsError) as exc:
            if len(self.errors) < 20:
                self.errors.append(f"{type(exc).__name__}: {exc}")
            return
        active_keys = set()
        for a in current:
            key = (a.name, a.labels, a.starts_at)
            active_keys.add(key)
            self._seen[key] = a
        for key, a in list(self._seen.items()):  # gone without a resolved report: ended now
            if key not in active_keys and a.ends_at is None:
                self._seen[key] = Alert(a.name, a.labels, a.starts_at, now)

    def stop(self) -> list[Alert]:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(self.interval + HTTP_TIMEOUT_S + 1)
        return list(self._seen.values())
