"""POST /payments: booking against ground truth, idempotent retries, and rejected payments."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest

from emops import marketing_contract as contract
from lab.marketing.app import Config

BILL_TRUTH = """
SELECT id, customer_id, to_char(period, 'YYYY-MM') AS period, kwh, amount_fen, paid_fen, status,
       to_char(due_date, 'YYYY-MM-DD') AS due_date
FROM bills WHERE id = $1
"""


@pytest.fixture(scope="module")
def unpaid_bills(primary_dsn, query):
    """Hands out a different unpaid bill to each test, so tests do not pay each other's bills."""
    rows = query(
        primary_dsn,
        "SELECT id, customer_id, amount_fen FROM bills WHERE status = 'unpaid' AND amount_fen > 100"
        " AND customer_id % 7 = 3 ORDER BY id",
    )
    return iter(rows)


def key() -> dict[str, str]:
    return {"Idempotency-Key": f"test-{uuid.uuid4()}"}


def test_payment_books_and_matches_ground_truth(service, primary_dsn, query, unpaid_bills) -> None:
    bill_id, customer_id, amount = next(unpaid_bills)
    headers = key()
    body = {"customer_id": customer_id, "bill_id": bill_id, "amount_fen": 100}
    reply = service.post("/payments", body, headers=headers)
    assert reply.status == 201
    data = contract.verify_json(reply.body, reply.headers["X-Emops-Checksum"])
    truth = dict(query(primary_dsn, BILL_TRUTH, bill_id)[0])
    assert truth["paid_fen"] == 100 and truth["status"] == "partial"
    payment_id = query(
        primary_dsn,
        "SELECT id FROM payments WHERE idempotency_key = $1",
        headers["Idempotency-Key"],
    )[0][0]
    expected = {"payment_id": payment_id, "idempotency_key": headers["Idempotency-Key"], **body,
                "bill": truth}  # fmt: skip
    assert data == expected

    rest = {**body, "amount_fen": amount - 100}
    paid = service.post("/payments", rest, headers=key()).json()["data"]["bill"]
    assert (paid["paid_fen"], paid["status"]) == (amount, "paid")
    assert dict(query(primary_dsn, BILL_TRUTH, bill_id)[0]) == paid


def test_retry_with_same_key_pays_once_and_replays(service, primary_dsn, query, unpaid_bills):
    bill_id, customer_id, _ = next(unpaid_bills)
    headers = key()
    body = {"customer_id": customer_id, "bill_id": bill_id, "amount_fen": 50}
    first = service.post("/payments", body, headers=headers)
    second = service.post("/payments", body, headers=headers)
    assert first.status == second.status == 201
    assert second.headers.get("Idempotent-Replayed") == "true"
    assert first.json()["data"] == second.json()["data"]
    assert first.headers["X-Emops-Checksum"] == second.headers["X-Emops-Checksum"]
    assert query(primary_dsn, "SELECT paid_fen FROM bills WHERE id = $1", bill_id)[0][0] == 50
    assert (
        query(primary_dsn, "SELECT count(*) FROM payments WHERE bill_id = $1", bill_id)[0][0] == 1
    )


def test_concurrent_retries_with_one_key_pay_once(service, primary_dsn, query, unpaid_bills):
    bill_id, customer_id, _ = next(unpaid_bills)
    headers = key()
    body = {"customer_id": customer_id, "bill_id": bill_id, "amount_fen": 70}
    with ThreadPoolExecutor(8) as pool:
        replies = list(
            pool.map(lambda _: service.post("/payments", body, headers=headers), range(8))
        )
    assert {r.status for r in replies} == {201}
    assert len({r.headers["X-Emops-Checksum"] for r in replies}) == 1
    assert query(primary_dsn, "SELECT paid_fen FROM bills WHERE id = $1", bill_id)[0][0] == 70
    assert (
        query(primary_dsn, "SELECT count(*) FROM payments WHERE bill_id = $1", bill_id)[0][0] == 1
    )


def test_racing_full_payments_settle_the_bill_once(service, primary_dsn, query, unpaid_bills):
    bill_id, customer_id, amount = next(unpaid_bills)
    body = {"customer_id": customer_id, "bill_id": bill_id, "amount_fen": amount}
    with ThreadPoolExecutor(6) as pool:
        replies = list(pool.map(lambda _: service.post("/payments", body, headers=key()), range(6)))
    assert sorted(r.status for r in replies) == [201] + [409] * 5
    assert query(primary_dsn, "SELECT paid_fen, status FROM bills WHERE id = $1", bill_id)[0] == (
        amount, "paid",
    )  # fmt: skip
    assert (
        query(primary_dsn, "SELECT count(*) FROM payments WHERE bill_id = $1", bill_id)[0][0] == 1
    )


def test_same_key_for_a_different_payment_is_rejected(service, unpaid_bills) -> None:
    bill_id, customer_id, _ = next(unpaid_bills)
    headers = key()
    body = {"customer_id": customer_id, "bill_id": bill_id, "amount_fen": 10}
    assert service.post("/payments", body, headers=headers).status == 201
    reply = service.post("/payments", {**body, "amount_fen": 11}, headers=headers)
    assert reply.status == 422
    assert reply.json()["error"]["field"] == "Idempotency-Key"


def test_overpayment_and_paid_bill_are_rejected_and_roll_back(
    service, primary_dsn, query, unpaid_bills
) -> None:
    bill_id, customer_id, amount = next(unpaid_bills)
    body = {"customer_id": customer_id, "bill_id": bill_id, "amount_fen": amount + 1}
    headers = key()
    over = service.post("/payments", body, headers=headers)
    assert over.status == 422 and over.json()["error"]["field"] == "amount_fen"
    # The rejected attempt did not keep the key: the corrected retry goes through.
    fixed = service.post("/payments", {**body, "amount_fen": amount}, headers=headers)
    assert fixed.status == 201
    again = service.post("/payments", {**body, "amount_fen": 1}, headers=key())
    assert again.status == 409 and again.json()["error"]["field"] == "bill_id"
    assert (
        query(primary_dsn, "SELECT count(*) FROM payments WHERE bill_id = $1", bill_id)[0][0] == 1
    )


def test_bill_of_another_customer_is_rejected(service, unpaid_bills) -> None:
    bill_id, customer_id, _ = next(unpaid_bills)
    body = {"customer_id": customer_id + 1, "bill_id": bill_id, "amount_fen": 10}
    reply = service.post("/payments", body, headers=key())
    assert reply.status == 422 and reply.json()["error"]["field"] == "bill_id"


def test_stats_count_payments(start_service, primary_dsn, unpaid_bills) -> None:
    svc = start_service(Config(dsn=primary_dsn))
    bill_id, customer_id, _ = next(unpaid_bills)
    body = {"customer_id": customer_id, "bill_id": bill_id, "amount_fen": 30}
    headers = key()
    svc.post("/payments", body, headers=headers)
    svc.post("/payments", body, headers=headers)
    svc.post("/payments", {**body, "amount_fen": -1}, headers=key())
    data = svc.get("/stats").json()["data"]
    assert data["payments"] == {"accepted": 1, "replayed": 1, "amount_fen": 30}
    assert data["transactions"]["payment"] == 2 and data["failures"]["bad_input"] == 1
