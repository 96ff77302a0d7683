"""The alert sink: Alertmanager's webhook receiver, and the record of every notification.

    python -m emops.monitoring.alert_sink --listen 127.0.0.1:9612 --log alerts.jsonl [--keep N]

Alertmanager keeps no history: once an alert resolves it is gone from its API.
Ops need the pager record (what paged, when, when it cleared) and campaign
scoring needs each alert's exact startsAt/endsAt, so every alert of every
notification is appended here as one JSON line, flushed and fsynced before the
webhook is answered. Routes: POST /alerts/page and /alerts/info (the generated
Alertmanager config sends page and info severities there), GET /alerts
(?since=UNIX&route=page|info), GET /alerts/firing (latest state per alert),
GET /-/ready.

A hostile or broken sender must not cost the record: a body is read under a
deadline and a size limit, bodies above LARGE_BODY (or of unknown size) share a
few slots and are decoded in a worker thread, and the fsync runs off the event
loop, so a small notification is acknowledged while a large one is in flight.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import re
import sys
import time
from collections import deque
from pathlib import Path
from typing import Any

from aiohttp import web

from emops.commandline import report_problems
from emops.errors import EmopsError
from emops.monitoring.settings import parse_listen

ROUTES = ("page", "info")
STATUSES = ("firing", "resolved")
# RFC 3339 as Go writes it (Alertmanager): nanoseconds with trailing zeros cut, Z or offset;
# a firing alert's endsAt is the zero time 0001-01-01T00:00:00Z or an estimate ahead
RFC3339 = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)")
# An alert is about 600 bytes as Alertmanager sends it: 1 MiB is a group of ~1,500 alerts
MAX_BODY = 1024 * 1024  # larger: 413 before the body is read, and a warning
LARGE_BODY = 64 * 1024  # above (or unknown length): one of LARGE_SLOTS, decoded off the loop
LARGE_SLOTS = 4  # memory held by bodies in flight: about LARGE_SLOTS * MAX_BODY
SLOT_WAIT = 5.0  # s waiting for a slot, then 503 (Alertmanager retries a 5xx)
BODY_DEADLINE = 10.0  # s to receive a whole body (a trickling sender frees its slot), else 408


class BadPayload(ValueError):
    """A webhook body that is not an Alertmanager notification; the message names the field."""


def decode(body: bytes, route: str, received_at: float) -> list[dict[str, Any]]:
    """The records of a webhook body; BadPayload for anything else (never another error:
    a body nested beyond the interpreter's recursion limit is BadPayload too)."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadPayload(f"body: not UTF-8 (byte {exc.start})") from None
    try:
        payload = json.loads(text)
    except RecursionError:
        raise BadPayload("body: JSON nested too deep for a webhook payload") from None
    except ValueError:  # JSONDecodeError, and integers too long to convert
        raise BadPayload("body: not JSON (expected an Alertmanager webhook payload)") from None
    return records_of(payload, route, received_at)


def records_of(payload: Any, route: str, received_at: float) -> list[dict[str, Any]]:
    """One record per alert of an Alertmanager webhook payload (version 4); all or nothing."""
    if not isinstance(payload, dict):
        raise BadPayload("body: expected a JSON object (Alertmanager webhook payload)")
    alerts = payload.get("alerts")
    if not isinstance(alerts, list):
        raise BadPayload("alerts: expected a list of alerts")
    return [_record(alert, f"alerts[{i}]", route, received_at) for i, alert in enumerate(alerts)]


def _record(alert: Any, where: str, route: str, received_at: float) -> dict[str, Any]:
    if not isinstance(alert, dict):
        raise BadPayload(f"{where}: expected an object")
    if alert.get("status") not in STATUSES:
        raise BadPayload(f"{where}.status: expected 'firing' or 'resolved'")
    labels = _string_map(alert.get("labels"), f"{where}.labels")
    if not labels.get("alertname"):
        raise BadPayload(f"{where}.labels.alertname: expected a non-empty string")
    annotations = _string_map(alert.get("annotations", {}), f"{where}.annotations")
    for key in ("startsAt", "endsAt"):
        value = alert.get(key)
        if not isinstance(value, str) or not RFC3339.fullmatch(value):
            raise BadPayload(f"{where}.{key}: expected an RFC 3339 time, got {value!r}")
    if not isinstance(alert.get("fingerprint"), str) or not alert["fingerprint"]:
        raise BadPayload(f"{where}.fingerprint: expected a non-empty string")
    return {
        "received_at": received_at,
        "route": route,
        "status": alert["status"],
        "alertname": labels["alertname"],
        "labels": labels,
        "annotations": annotations,
        "startsAt": alert["startsAt"],
        "endsAt": alert["endsAt"],
        "fingerprint": alert["fingerprint"],
    }


def _string_map(value: Any, where: str) -> dict[str, str]:
    if not isinstance(value, dict):
        raise BadPayload(f"{where}: expected an object of strings")
    for key, item in value.items():
        if not isinstance(item, str):
            raise BadPayload(f"{where}.{key}: expected a string, got {type(item).__name__}")
    return value


class AlertLog:
    """The JSON-lines file plus the last `keep` records in memory."""

    def __init__(self, path: Path, keep: int) -> None:
        self.path = path
        self.records: deque[dict[str, Any]] = deque(maxlen=keep)
        self._writing = asyncio.Lock()  # one write at a time, in arrival order
        self.loaded = 0
        existed = path.exists()
        self._load()
        self._fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
        if not existed:  # the new file's directory entry must survive a crash too
            _fsync_dir(path.parent)

    def _load(self) -> None:
        """Earlier records survive a restart. A torn last line (a crash mid-write, so
        never acknowledged: Alertmanager retries it) is cut off, so that the next
        record starts on a line of its own; an unreadable line elsewhere is skipped."""
        try:
            f = open(self.path, "rb")  # noqa: SIM115  closed below
        except FileNotFoundError:
            return
        end = skipped = 0
        torn = b""
        with f:
            for line in f:
                if not line.endswith(b"\n"):
                    torn = line
                    break
                end += len(line)
                record = _parse(line)
                if record is None:
                    skipped += 1 if line.strip() else 0
                else:
                    self.records.append(record)
                    self.loaded += 1
        if torn:
            record = _parse(torn)
            with open(self.path, "r+b") as f:
                if record is None:  # half a record: drop it
                    f.truncate(end)
                    _warn(f"{self.path}: dropped a torn last line ({len(torn)} bytes)")
                else:  # a whole record whose newline is missing (edited by hand)
                    f.seek(0, os.SEEK_END)
                    f.write(b"\n")
                    self.records.append(record)
                    self.loaded += 1
                f.flush()
                os.fsync(f.fileno())
        if skipped:
            _warn(f"{self.path}: skipped {skipped} unreadable line(s)")

    async def append(self, records: list[dict[str, Any]]) -> None:
        """All of a notification's records, durable before the webhook is answered.
        The write and fsync run in a worker thread: GETs and other webhooks are served
        meanwhile. The in-memory deque changes on the loop only (GETs iterate it)."""
        if not records:
            return
        async with self._writing:
            await asyncio.to_thread(self._write, records)
            self.records.extend(records)

    def _write(self, records: list[dict[str, Any]]) -> None:
        """On a failed write (disk full) the file is cut back: no half record stays."""
        data = "".join(json.dumps(r, separators=(",", ":")) + "\n" for r in records).encode()
        start = os.lseek(self._fd, 0, os.SEEK_END)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(self._fd, view) :]
            os.fsync(self._fd)
        except OSError:
            os.ftruncate(self._fd, start)
            raise

    def close(self) -> None:
        os.close(self._fd)


def _parse(line: bytes) -> dict[str, Any] | None:
    try:
        record = json.loads(line)
    except (ValueError, RecursionError):  # not JSON, not UTF-8, a hand-made deep line
        return None
    return record if isinstance(record, dict) else None


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _warn(text: str) -> None:
    print(f"alert sink: warning: {text}", file=sys.stderr, flush=True)


def _bad(text: str) -> web.Response:
    return web.Response(status=400, text=f"{text}\n")


def _too_large(request: web.Request, size: int | None) -> web.Response:
    got = f"{size} bytes" if size is not None else "chunked"
    text = f"body: {got}, over the limit of {MAX_BODY} bytes"
    _warn(f"{request.method} {request.path}: refused a {text}")
    return web.Response(status=413, text=f"{text}\n")


class _Refused(Exception):
    """A body not received (too large, too slow): the response to send instead."""

    def __init__(self, response: web.Response) -> None:
        self.response = response


async def _read(request: web.Request) -> bytes:
    """The whole body within BODY_DEADLINE and MAX_BODY (a chunked body has no length)."""
    try:
        async with asyncio.timeout(BODY_DEADLINE):
            return await request.read()
    except web.HTTPRequestEntityTooLarge:
        raise _Refused(_too_large(request, None)) from None
    except TimeoutError:
        text = f"body: not received within {BODY_DEADLINE:g} s\n"
        raise _Refused(web.Response(status=408, text=text)) from None


def make_app(log: AlertLog) -> web.Application:
    slots = asyncio.Semaphore(LARGE_SLOTS)

    async def records_of_large(request: web.Request, route: str) -> list[dict[str, Any]]:
        """A large body holds a slot while it is received and decoded (off the loop)."""
        try:
            async with asyncio.timeout(SLOT_WAIT):
                await slots.acquire()
        except TimeoutError:
            busy = f"busy: {LARGE_SLOTS} large notifications in progress, retry\n"
            retry = web.Response(status=503, text=busy, headers={"Retry-After": "1"})
            raise _Refused(retry) from None
        try:
            body = await _read(request)
            return await asyncio.to_thread(decode, body, route, time.time())
        finally:
            slots.release()

    async def receive(request: web.Request) -> web.Response:
        route = request.match_info["route"]
        size = request.content_length
        if size is not None and size > MAX_BODY:
            return _too_large(request, size)
        try:
            if size is None or size > LARGE_BODY or "Content-Encoding" in request.headers:
                records = await records_of_large(request, route)
            else:
                records = decode(await _read(request), route, time.time())
        except _Refused as refused:
            return refused.response
        except BadPayload as exc:
            return _bad(str(exc))
        try:
            await log.append(records)
        except OSError as exc:  # Alertmanager retries a 5xx
            _warn(f"{log.path}: cannot write: {exc.strerror}")
            return web.Response(status=503, text=f"log: cannot write: {exc.strerror}\n")
        return web.json_response({"stored": len(records)})

    def route_of(request: web.Request) -> str | None:
        route = request.query.get("route")
        if route is not None and route not in ROUTES:
            raise web.HTTPBadRequest(text="route: expected page or info\n")
        return route

    async def listing(request: web.Request) -> web.Response:
        try:
            since = float(request.query.get("since", "0"))
        except ValueError:
            since = math.nan
        if math.isnan(since):
            return _bad("since: expected unix seconds")
        route = route_of(request)
        found = [
            r
            for r in log.records
            if r.get("received_at", 0) >= since and (route is None or r.get("route") == route)
        ]
        return web.json_response({"alerts": found})

    async def firing(request: web.Request) -> web.Response:
        route = route_of(request)
        latest: dict[str, dict[str, Any]] = {}
        for record in log.records:  # oldest first: the last one per alert wins
            key = record.get("fingerprint") or json.dumps(record.get("labels"), sort_keys=True)
            latest[key] = record
        alerts = [
            r
            for r in latest.values()
            if r.get("status") == "firing" and (route is None or r.get("route") == route)
        ]
        return web.json_response({"alerts": alerts})

    async def ready(_request: web.Request) -> web.Response:
        return web.Response(text="ok\n")

    app = web.Application(client_max_size=MAX_BODY)
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
        return report_problems(exc, "error: ")
    except OSError as exc:
        print(f"error: --log: cannot use {args.log}: {exc.strerror}", file=sys.stderr)
        return 2

    def started(_banner: str) -> None:
        print(
            f"alert sink: listening on http://{args.listen}, "
            f"{log.loaded} earlier record(s) from {args.log}",
            file=sys.stderr,
            flush=True,
        )

    try:  # SIGINT and SIGTERM end run_app cleanly (aiohttp's GracefulExit)
        web.run_app(make_app(log), host=host, port=int(port), print=started, access_log=None)
    except OSError as exc:
        print(f"error: --listen: cannot listen on {args.listen}: {exc.strerror}", file=sys.stderr)
        return 2
    finally:
        log.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
