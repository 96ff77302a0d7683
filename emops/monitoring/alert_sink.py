"""The alert sink: Alertmanager's webhook receiver, and the record of every notification.

    python -m emops.monitoring.alert_sink --listen 127.0.0.1:9612 --log alerts.jsonl

Alertmanager keeps no history: once an alert resolves it is gone from its API.
Ops need the pager record (what paged, when, when it cleared) and campaign
scoring needs each alert's exact startsAt/endsAt, so every alert of every
notification is appended here as one JSON line, flushed and fsynced before the
webhook is answered. Routes: POST /alerts/page and /alerts/info (the generated
Alertmanager config sends page and info severities there), GET /alerts
(?since=UNIX&route=page|info), GET /alerts/firing (latest state per alert),
GET /-/ready.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections import deque
from pathlib import Path
from typing import Any

from aiohttp import web

from emops.errors import EmopsError
from emops.monitoring.settings import parse_listen

ROUTES = ("page", "info")
RECORD_KEYS = ("status", "labels", "annotations", "startsAt", "endsAt", "fingerprint")


class BadPayload(ValueError):
    """A webhook body that is not an Alertmanager notification; the message names the field."""


def records_of(payload: Any, route: str, received_at: float) -> list[dict[str, Any]]:
    """One record per alert of an Alertmanager webhook payload (version 4)."""
    if not isinstance(payload, dict):
        raise BadPayload("body: expected a JSON object (Alertmanager webhook payload)")
    alerts = payload.get("alerts")
    if not isinstance(alerts, list):
        raise BadPayload("alerts: expected a list of alerts")
    records = []
    for i, alert in enumerate(alerts):
        if not isinstance(alert, dict):
            raise BadPayload(f"alerts[{i}]: expected an object")
        labels = alert.get("labels")
        if not isinstance(labels, dict) or not isinstance(labels.get("alertname"), str):
            raise BadPayload(f"alerts[{i}].labels: expected an object with an alertname")
        if alert.get("status") not in ("firing", "resolved"):
            raise BadPayload(f"alerts[{i}].status: expected 'firing' or 'resolved'")
        record = {"received_at": received_at, "route": route, "alertname": labels["alertname"]}
        record |= {key: alert.get(key) for key in RECORD_KEYS}
        records.append(record)
    return records


class AlertLog:
    """The JSON-lines file plus the last `keep` records in memory."""

    def __init__(self, path: Path, keep: int) -> None:
        self.path = path
        self.records: deque[dict[str, Any]] = deque(maxlen=keep)
        self._load()
        self._file = open(path, "a", encoding="utf-8")  # noqa: SIM115  closed by close()

    def _load(self) -> None:
        """Earlier records survive a restart; a torn last line (a crash mid-write) is skipped."""
        try:
            lines = self.path.read_text(encoding="utf-8").splitlines()
        except FileNotFoundError:
            return
        for line in lines:
            try:
                self.records.append(json.loads(line))
            except json.JSONDecodeError:
                continue

    def append(self, records: list[dict[str, Any]]) -> None:
        """All of a notification's records, durable before the webhook is answered."""
        if not records:
            return
        self._file.write("".join(json.dumps(r, separators=(",", ":")) + "\n" for r in records))
        self._file.flush()
        os.fsync(self._file.fileno())
        self.records.extend(records)

    def close(self) -> None:
        self._file.close()


def make_app(log: AlertLog) -> web.Application:
    async def receive(request: web.Request) -> web.Response:
        route = request.match_info["route"]
        try:
            payload = await request.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            return web.Response(status=400, text="body: not JSON (Alertmanager webhook payload)\n")
        try:
            records = records_of(payload, route, time.time())
        except BadPayload as exc:
            return web.Response(status=400, text=f"{exc}\n")
        log.append(records)
        return web.json_response({"stored": len(records)})

    async def listing(request: web.Request) -> web.Response:
        try:
            since = float(request.query.get("since", "0"))
        except ValueError:
            return web.Response(status=400, text="since: expected unix seconds\n")
        route = request.query.get("route")
        if route is not None and route not in ROUTES:
            return web.Response(status=400, text="route: expected page or info\n")
        found = [
            r
            for r in log.records
            if r.get("received_at", 0) >= since and (route is None or r.get("route") == route)
        ]
        return web.json_response({"alerts": found})

    async def firing(_request: web.Request) -> web.Response:
        latest: dict[str, dict[str, Any]] = {}
        for record in log.records:  # oldest first: the last one per alert wins
            latest[record.get("fingerprint") or json.dumps(record.get("labels"))] = record
        alerts = [r for r in latest.values() if r.get("status") == "firing"]
        return web.json_response({"alerts": alerts})

    async def ready(_request: web.Request) -> web.Response:
        return web.Response(text="ok\n")

    app = web.Application(client_max_size=4 * 1024 * 1024)
    app.router.add_post("/alerts/{route:page|info}", receive)
    app.router.add_get("/alerts", listing)
    app.router.add_get("/alerts/firing", firing)
    app.router.add_get("/-/ready", ready)
    return app


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m emops.monitoring.alert_sink", description=__doc__.split("\n\n")[0]
    )
    p.add_argument("--listen", default="127.0.0.1:9612", help="HOST:PORT, loopback only")
    p.add_argument("--log", required=True, help="JSON-lines record of every alert received")
    p.add_argument("--keep", type=int, default=10_000, help="records kept in memory for GET")
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        host, _, port = parse_listen(args.listen, "--listen").rpartition(":")
        if args.keep < 1:
            raise EmopsError.of("--keep", f"{args.keep} is not a positive count", "e.g. 10000")
        log = AlertLog(Path(args.log), args.keep)
    except EmopsError as exc:
        print(f"error: {exc.problems[0]}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"error: --log: cannot open {args.log}: {exc.strerror}", file=sys.stderr)
        return 2
    try:
        web.run_app(make_app(log), host=host, port=int(port), print=None, access_log=None)
    except OSError as exc:
        print(f"error: --listen: cannot listen on {args.listen}: {exc.strerror}", file=sys.stderr)
        return 2
    finally:
        log.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
