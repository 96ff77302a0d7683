"""Locust users of the electricity marketing service: what municipal clerks do all day.

Plain Locust: `locust -f loadtest/locustfile.py --host http://127.0.0.1:8080`
(a one-minute trial shape unless EMOPS_STAGES is set). `emops campaign run`
starts it as master and workers with these environment variables:

    EMOPS_STAGES            JSON [[until_s, users, spawn_rate], ...] (the shape)
    EMOPS_WAIT              "min,max" think time in seconds (default 0.5,1.5)
    EMOPS_CUSTOMERS         customer ids 1..N exist (default 2000)
    EMOPS_MAX_FAILURE_RATIO guard: stop the run above this HTTP failure ratio (0.5)
    EMOPS_GUARD_AFTER       ... checked from this many seconds in (10)
    EMOPS_RECORDS_DIR       write per-request CSV and events.jsonl here
    EMOPS_WORKER            this process's label in the records (e.g. its city)
    EMOPS_PRODUCTION        1: allow a production-inventory host (never needed in the lab)

Every answer is verified (loadtest/checks.py) and reported as a CHECK
pseudo-request named like the request it checked, so Locust's statistics and
the campaign's data precision both show it. The target host is checked by
loadtest/safety.py before any request: only loopback and the twin, unless
production is explicitly allowed.
"""

from __future__ import annotations

import logging
import os
import random
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import gevent
from locust import FastHttpUser, LoadTestShape, between, events, task
from locust.runners import MasterRunner, WorkerRunner

from emops.errors import EmopsError
from emops.marketing_contract import KEY_HEADER, REPLAYED_HEADER
from lab.marketing.schema import CITIES, TICKET_CATEGORIES
from loadtest import checks, safety, stages
from loadtest.records import RecordWriter, append_event
from loadtest.scoring import CHECK

log = logging.getLogger("emops.locust")
WAIT_MIN, WAIT_MAX = (float(x) for x in os.environ.get("EMOPS_WAIT", "0.5,1.5").split(","))
CUSTOMERS = int(os.environ.get("EMOPS_CUSTOMERS", "2000"))
MAX_FAILURE_RATIO = float(os.environ.get("EMOPS_MAX_FAILURE_RATIO", "0.5"))
GUARD_AFTER_S = float(os.environ.get("EMOPS_GUARD_AFTER", "10"))
GUARD_MAX_S = 24 * 3600  # the guard loop ends by itself after a day at most
RECORDS_DIR = os.environ.get("EMOPS_RECORDS_DIR")
WORKER = os.environ.get("EMOPS_WORKER", "local")
PRODUCTION = os.environ.get("EMOPS_PRODUCTION") == "1"
_checked: set[str] = set()


class ChecksumFailure(Exception):
    """A CHECK that failed: the answer was not what the database holds."""


# --- safety -------------------------------------------------------------------


def require_safe_host(host: str | None) -> None:
    """Exit the process (code 2) before any request if `host` is not an allowed target."""
    if not host or host in _checked:
        return
    try:
        safety.check_target(host, production=PRODUCTION)
    except EmopsError as exc:
        print(f"emops: error: {exc}", file=sys.stderr, flush=True)
        os._exit(2)  # in a greenlet too: nothing may be sent
    _checked.add(host)


# --- the user -----------------------------------------------------------------


class MarketingUser(FastHttpUser):
    """A clerk at a municipal company: look-ups, bills, payments, tickets, now and then a report."""

    wait_time = between(WAIT_MIN, WAIT_MAX)

    def on_start(self) -> None:
        require_safe_host(self.host)

    def _customer(self) -> int:
        return random.randint(1, CUSTOMERS)

    def _check(self, name: str, verdict: checks.Verdict, length: int) -> None:
        """Report one verification as a CHECK request (failure = data imprecision)."""
        self.environment.events.request.fire(
            request_type=CHECK,
            name=name,
            response_time=0,
            response_length=length,
            exception=None if verdict.ok else ChecksumFailure(verdict.message),
            context={},
            start_time=time.time(),
            url=None,
            response=None,
        )

    def _get_json(self, path: str, name: str, expect: checks.Expectation) -> Any:
        resp = self.client.get(path, name=name)
        if resp.status_code != 200:
            return None
        verdict = checks.check_json(resp.content, resp.headers.get(checks.checksum.HEADER), expect)
        self._check(name, verdict, len(resp.content or b""))
        return verdict.data if verdict.ok else None

    @task(10)
    def customer_lookup(self) -> None:
        cid = self._customer()
        self._get_json(f"/customers/{cid}", "/customers/[id]", checks.customer_is(cid))

    @task(8)
    def bill_query(self) -> None:
        cid = self._customer()
        self._get_json(
            f"/customers/{cid}/bills?months=3", "/customers/[id]/bills", checks.bills_of(cid, 3)
        )

    @task(4)
    def payment(self) -> None:
        """Look up the bills, pay 1 fen of an open one; now and then retry with the same key."""
        cid = self._customer()
        data = self._get_json(
            f"/customers/{cid}/bills?months=3", "/customers/[id]/bills", checks.bills_of(cid, 3)
        )
        open_bills = [b for b in (data or {}).get("bills", []) if b["paid_fen"] < b["amount_fen"]]
        if not open_bills:
            return
        body = {"customer_id": cid, "bill_id": random.choice(open_bills)["id"], "amount_fen": 1}
        key = f"emops-{uuid.uuid4().hex}"
        first = self._post_payment(body, key, "/payments")
        if first is not None and random.random() < 0.1:  # a client retrying after a timeout
            again = self._post_payment(body, key, "/payments (retry)")
            if again is not None:
                same = again.headers.get(checks.checksum.HEADER) == first.headers.get(
                    checks.checksum.HEADER
                )
                replayed = again.headers.get(REPLAYED_HEADER) == "true"
                message = "" if same and replayed else "retry was not replayed identically"
                self._check("/payments (retry)", checks.Verdict(same and replayed, message), 0)

    def _post_payment(self, body: dict[str, int], key: str, name: str) -> Any:
        with self.client.post(
            "/payments", json=body, headers={KEY_HEADER: key}, name=name, catch_response=True
        ) as resp:
            if resp.status_code in (409, 422):  # another clerk paid it off first: a right answer
                resp.success()
                return None
            if resp.status_code != 201:
                return None
        verdict = checks.check_json(
            resp.content, resp.headers.get(checks.checksum.HEADER), checks.payment_of(body, key)
        )
        if name == "/payments":
            self._check(name, verdict, len(resp.content or b""))
        return resp

    @task(3)
    def work_ticket(self) -> None:
        """Open a ticket, read it back, assign it."""
        cid = self._customer()
        body = {
            "customer_id": cid,
            "category": random.choice(TICKET_CATEGORIES),
            "description": "customer called the 95598 hotline (load test)",
        }
        resp = self.client.post("/tickets", json=body, name="/tickets")
        if resp.status_code != 201:
            return
        verdict = checks.check_json(
            resp.content, resp.headers.get(checks.checksum.HEADER), checks.ticket_is(cid, "open")
        )
        self._check("/tickets", verdict, len(resp.content or b""))
        if not verdict.ok:
            return
        tid = verdict.data["id"]
        self._get_json(f"/tickets/{tid}", "/tickets/[id]", checks.ticket_is(cid, "open", tid))
        resp = self.client.post(
            f"/tickets/{tid}/status", json={"status": "assigned"}, name="/tickets/[id]/status"
        )
        if resp.status_code == 200:
            verdict = checks.check_json(
                resp.content,
                resp.headers.get(checks.checksum.HEADER),
                checks.ticket_is(cid, "assigned", tid),
            )
            self._check("/tickets/[id]/status", verdict, len(resp.content or b""))

    @task(1)
    def report_export(self) -> None:
        """A city's bills as CSV: the bulk transfer of the mix."""
        resp = self.client.get(
            f"/reports/export?city={random.choice(CITIES)}", name="/reports/export"
        )
        if resp.status_code == 200:
            content = resp.content or b""
            self._check("/reports/export", checks.check_export(content), len(content))


# --- the shape ----------------------------------------------------------------


class StageShape(LoadTestShape):
    """Users over time from the campaign's stage table (EMOPS_STAGES)."""

    stages = stages.from_env()

    def tick(self) -> tuple[int, float] | None:
        return stages.shape_tick(self.stages, self.get_run_time())


# --- records, events and the failure guard ------------------------------------


def _records_dir() -> Path | None:
    if not RECORDS_DIR:
        return None
    path = Path(RECORDS_DIR)
    path.mkdir(parents=True, exist_ok=True)
    return path


def http_failure_ratio(stats: Any) -> tuple[float, int]:
    """Failed / all HTTP requests so far (CHECK pseudo-requests left out), and the count."""
    entries = [e for (_, method), e in stats.entries.items() if method != CHECK]
    total = sum(e.num_requests for e in entries)
    failed = sum(e.num_failures for e in entries)
    return (failed / total if total else 0.0), total


def _guard(environment: Any, directory: Path | None) -> None:
    """Stop the run when HTTP failures pass the ratio; note workers that go missing."""
    started = None
    missing: set[str] = set()
    for _ in range(GUARD_MAX_S):
        gevent.sleep(1.0)
        runner = environment.runner
        if runner is None or runner.state in ("stopped", "quitting"):
            if started is not None:
                return
            continue
        if isinstance(runner, MasterRunner) and directory is not None:
            for node in runner.clients.values():
                if node.state == "missing" and node.id not in missing:
                    missing.add(node.id)
                    append_event(directory, "worker_missing", worker=node.id)
        if runner.state not in ("spawning", "running"):
            continue
        started = started or time.monotonic()
        ratio, total = http_failure_ratio(runner.stats)
        if time.monotonic() - started >= GUARD_AFTER_S and total and ratio > MAX_FAILURE_RATIO:
            log.error("failure ratio %.2f > %.2f: stopping the run", ratio, MAX_FAILURE_RATIO)
            if directory is not None:
                append_event(directory, "guard_stop", ratio=ratio, requests=total)
            environment.process_exit_code = 3
            runner.quit()
            return


@events.init.add_listener
def _on_init(environment: Any, **_: Any) -> None:
    require_safe_host(environment.host)
    directory = _records_dir()
    if not isinstance(environment.runner, WorkerRunner):
        gevent.spawn(_guard, environment, directory)
    if isinstance(environment.runner, MasterRunner) or directory is None:
        return
    writer = RecordWriter(directory / f"requests-{WORKER}-{os.getpid()}.csv", WORKER)

    def record(
        request_type: str,
        name: str,
        response_time: float,
        response_length: int,
        exception: BaseException | None = None,
        start_time: float | None = None,
        **_: Any,
    ) -> None:
        start = start_time if start_time is not None else time.time() - response_time / 1000
        error = f"{type(exception).__name__}: {exception}" if exception else None
        writer.write(start, request_type, name, response_time or 0.0, response_length or 0, error)

    environment.events.request.add_listener(record)
    environment.events.quit.add_listener(lambda **_: writer.close())


@events.test_start.add_listener
def _on_test_start(environment: Any, **_: Any) -> None:
    require_safe_host(environment.host)
    directory = _records_dir()
    if directory is not None and not isinstance(environment.runner, WorkerRunner):
        append_event(directory, "test_start", host=environment.host)


@events.test_stop.add_listener
def _on_test_stop(environment: Any, **_: Any) -> None:
    directory = _records_dir()
    if directory is not None and not isinstance(environment.runner, WorkerRunner):
        append_event(directory, "test_stop")


@events.worker_connect.add_listener
def _on_worker_connect(client_id: str, **_: Any) -> None:
    directory = _records_dir()
    if directory is not None:
        append_event(directory, "worker_connect", worker=client_id)
