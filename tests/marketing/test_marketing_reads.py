"""Customer lookup, bill query, health and stats, checked against a direct SQL read."""

from __future__ import annotations

import hashlib
import json

import pytest

from emops import marketing_contract as contract
from lab.marketing.app import Config

CUSTOMER_TRUTH = """
SELECT id, name, city, county, address, meter_id, tariff, balance_fen FROM customers WHERE id = $1
"""
BILLS_TRUTH = """
SELECT id, customer_id, to_char(period, 'YYYY-MM') AS period, kwh, amount_fen, paid_fen, status,
       to_char(due_date, 'YYYY-MM-DD') AS due_date
FROM bills WHERE customer_id = $1 ORDER BY period DESC LIMIT $2
"""


def independent_checksum(data: object) -> str:
    """The documented contract, computed without the module under test."""
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return "sha256=" + hashlib.sha256(canonical.encode("utf-8")).hexdigest()


@pytest.mark.parametrize("customer_id", [1, 777, 2_000])
def test_customer_matches_ground_truth(service, primary_dsn, query, customer_id: int) -> None:
    reply = service.get(f"/customers/{customer_id}")
    assert reply.status == 200
    expected = dict(query(primary_dsn, CUSTOMER_TRUTH, customer_id)[0])
    assert reply.json()["data"] == expected
    assert reply.headers["X-Emops-Checksum"] == independent_checksum(expected)


@pytest.mark.parametrize("months", [1, 3, 12])
def test_bills_match_ground_truth(service, primary_dsn, query, months: int) -> None:
    reply = service.get(f"/customers/42/bills?months={months}")
    assert reply.status == 200
    bills = [dict(r) for r in query(primary_dsn, BILLS_TRUTH, 42, months)]
    expected = {"customer_id": 42, "months": months, "bills": bills}
    assert len(bills) == months
    assert contract.verify_json(reply.body, reply.headers["X-Emops-Checksum"]) == expected
    assert reply.headers["X-Emops-Checksum"] == independent_checksum(expected)


def test_bills_default_to_twelve_months_and_cap_at_what_exists(service) -> None:
    assert len(service.get("/customers/9/bills").json()["data"]["bills"]) == 12
    assert len(service.get("/customers/9/bills?months=24").json()["data"]["bills"]) == 12


def test_healthz_reports_primary_and_replica(service, service_no_replica) -> None:
    reply = service.get("/healthz")
    assert reply.status == 200
    assert reply.json()["data"] == {"status": "ok", "primary": "ok", "replica": "ok"}
    assert service_no_replica.get("/healthz").json()["data"]["replica"] == "none"


def test_database_down_gives_503_json_not_a_crash(start_service, unused_port: int) -> None:
    svc = start_service(Config(dsn=f"postgresql://postgres@127.0.0.1:{unused_port}/none"))
    health = svc.get("/healthz")
    assert health.status == 503 and health.json()["data"]["primary"] == "down"
    contract.verify_json(health.body, health.headers["X-Emops-Checksum"])
    lookup = svc.get("/customers/1")
    assert lookup.status == 503
    assert lookup.json()["error"]["message"].startswith("database unavailable")
    stats = svc.get("/stats").json()["data"]
    assert stats["failures"]["db_unavailable"] == 2


def test_stats_count_transactions_and_failures(start_service, primary_dsn) -> None:
    svc = start_service(Config(dsn=primary_dsn))
    for path in ("/customers/1", "/customers/2", "/customers/1/bills", "/customers/x"):
        svc.get(path)
    reply = svc.get("/stats")
    data = contract.verify_json(reply.body, reply.headers["X-Emops-Checksum"])
    assert data["transactions"] == {"customer": 2, "bills": 1}
    assert data["failures"] == {"bad_input": 1}
    assert data["db_connections_used"] == {"primary": 3}
