"""Business counters from the real service's GET /stats, and a dead app server beside it."""

from __future__ import annotations

from collections.abc import Callable

from app_fakes import collect, runner_for
from marketing.conftest import Service

from collectors.app.targets import AppPlan, HttpTarget
from lab.marketing.app import Config


def stats_target(device: str, port: int) -> HttpTarget:
    return HttpTarget("marketing", device, "127.0.0.1", port, "/stats", device)


def test_counters_match_the_service(
    start_service: Callable[[Config], Service],
    primary_dsn: str,
    query: Callable,
    unused_port: int,
) -> None:
    svc = start_service(Config(dsn=primary_dsn))  # a private process: its counts are ours
    for path in ("/customers/1", "/customers/2", "/customers/1/bills?months=2", "/customers/0"):
        svc.get(path)
    bill = query(
        primary_dsn,
        "SELECT id, customer_id FROM bills WHERE status <> 'paid' ORDER BY id LIMIT 1",
    )[0]
    paid = svc.post(
        "/payments",
        {"customer_id": bill["customer_id"], "bill_id": bill["id"], "amount_fen": 1},
        headers={"Idempotency-Key": "emops-app-collector-test"},
    )
    assert paid.status == 201
    plan = AppPlan(stats=(stats_target("hq-app1", svc.port), stats_target("hq-app2", unused_port)))
    get = collect(runner_for(plan)).get_sample_value
    truth = svc.get("/stats").json()["data"]  # after ours: it also counts our read of /stats

    def tx(kind: str) -> float | None:
        return get("emops_marketing_transactions_total", {"device": "hq-app1", "kind": kind})

    assert tx("customer") == truth["transactions"]["customer"] == 2
    assert tx("bills") == truth["transactions"]["bills"] == 1
    assert tx("payment") == 1
    assert tx("stats") is None and truth["transactions"]["stats"] == 1  # ours came after
    failures = {"device": "hq-app1", "kind": "bad_input"}
    assert get("emops_marketing_failures_total", failures) == truth["failures"]["bad_input"]
    assert get("emops_marketing_payments_total", {"device": "hq-app1"}) == 1
    up = "emops_collector_up"
    assert get(up, {"collector": "marketing", "target": "hq-app1"}) == 1
    # the dead app server: a signal, no counters, the other unaffected
    assert get(up, {"collector": "marketing", "target": "hq-app2"}) == 0
    assert get("emops_marketing_payments_total", {"device": "hq-app2"}) is None
    errors = {"collector": "marketing", "target": "hq-app2", "reason": "connect"}
    assert get("emops_collector_errors_total", errors) == 1
    duration = {"collector": "marketing", "target": "hq-app1"}
    assert 0 < get("emops_collector_scrape_duration_seconds", duration) < 2
