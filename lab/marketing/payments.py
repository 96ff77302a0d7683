"""POST /payments: pay (part of) a bill, safely retryable with an Idempotency-Key header.

Load clients retry on timeouts while links fail over, so a payment must
happen at most once per key. In one transaction the bill row is locked, the key
is claimed by inserting the payment row (a concurrent retry waits, then sees it
and replays), the bill is updated and the reply is stored, so a replay returns
exactly the original `data` and checksum.
"""

from __future__ import annotations

import json
from typing import Any

import asyncpg
from aiohttp import web

from emops import marketing_contract as contract
from emops.marketing_contract import KEY_HEADER, REPLAYED_HEADER
from lab.marketing import inputs
from lab.marketing.customers import bill_view, unknown_customer
from lab.marketing.db import DB
from lab.marketing.replies import ApiError, bad, reply
from lab.marketing.stats import STATS

MAX_AMOUNT_FEN = 10**12
PRIOR_SQL = "SELECT request_sha256, response FROM payments WHERE idempotency_key = $1"
UPDATE_SQL = """
UPDATE bills SET paid_fen = paid_fen + $2,
    status = CASE WHEN paid_fen + $2 >= amount_fen THEN 'paid' ELSE 'partial' END
WHERE id = $1
RETURNING id, customer_id, period, kwh, amount_fen, paid_fen, status, due_date
"""
BILL_SQL = """
SELECT id, customer_id, period, kwh, amount_fen, paid_fen, status, due_date
FROM bills WHERE id = $1
"""


def idempotency_key(request: web.Request) -> str:
    key = request.headers.get(KEY_HEADER, "").strip()
    if not key:
        raise bad(KEY_HEADER, "header is required so a retried payment is not paid twice")
    if len(key) > 200 or not key.isprintable():
        raise bad(KEY_HEADER, "must be at most 200 printable characters")
    return key


def _replay(prior: Any, request_sha: str) -> web.Response:
    if prior["request_sha256"] != request_sha:
        raise ApiError(422, f"{KEY_HEADER}: already used for a different payment", KEY_HEADER)
    return reply(json.loads(prior["response"]), 201, {REPLAYED_HEADER: "true"})


async def post_payment(request: web.Request) -> web.Response:
    key = idempotency_key(request)
    body = await inputs.json_object(request)
    customer_id = inputs.body_int(body, "customer_id", high=inputs.INT4_MAX)
    bill_id = inputs.body_int(body, "bill_id")
    amount = inputs.body_int(body, "amount_fen", low=1, high=MAX_AMOUNT_FEN)
    payment = {"customer_id": customer_id, "bill_id": bill_id, "amount_fen": amount}
    request_sha = contract.digest(payment)
    async with request.app[DB].connection() as conn, conn.transaction():
        prior = await conn.fetchrow(PRIOR_SQL, key)
        if prior is None:
            data = await _pay(conn, key, request_sha, payment)
            prior = await conn.fetchrow(PRIOR_SQL, key) if data is None else None
    stats = request.app[STATS]
    if prior is not None:
        stats.payments["replayed"] += 1
        return _replay(prior, request_sha)
    stats.payments["accepted"] += 1
    stats.payments["amount_fen"] += amount
    return reply(data, 201)


async def _pay(
    conn: asyncpg.Connection, key: str, request_sha: str, payment: dict[str, int]
) -> dict[str, Any] | None:
    """Book the payment in the caller's transaction; None if a concurrent retry won the key.

    Any ApiError raised here rolls the transaction back, key claim included, so
    a rejected payment can be corrected and retried with the same key.
    """
    customer_id, bill_id, amount = payment["customer_id"], payment["bill_id"], payment["amount_fen"]
    if not await conn.fetchval("SELECT 1 FROM customers WHERE id = $1", customer_id):
        raise unknown_customer(customer_id)
    # Lock the bill before claiming the key: every payer takes the locks in this order
    # (bill row, then key), so racing payers queue instead of deadlocking.
    bill = await conn.fetchrow(BILL_SQL + " FOR NO KEY UPDATE", bill_id)
    if bill is None:
        raise ApiError(404, f"bill_id: no bill {bill_id}", "bill_id")
    if bill["customer_id"] != customer_id:
        raise ApiError(422, f"bill_id: bill {bill_id} belongs to another customer", "bill_id")
    payment_id = await conn.fetchval(
        "INSERT INTO payments (idempotency_key, request_sha256, customer_id, bill_id, amount_fen)"
        " VALUES ($1, $2, $3, $4, $5) ON CONFLICT (idempotency_key) DO NOTHING RETURNING id",
        key,
        request_sha,
        customer_id,
        bill_id,
        amount,
    )
    if payment_id is None:
        return None
    outstanding = bill["amount_fen"] - bill["paid_fen"]
    if outstanding == 0:
        raise ApiError(409, f"bill_id: bill {bill_id} is already paid", "bill_id")
    if amount > outstanding:
        raise ApiError(
            422, f"amount_fen: {amount} exceeds the {outstanding} fen outstanding", "amount_fen"
        )
    bill = await conn.fetchrow(UPDATE_SQL, bill_id, amount)
    data = {"payment_id": payment_id, "idempotency_key": key, **payment, "bill": bill_view(bill)}
    await conn.execute(
        "UPDATE payments SET response = $2 WHERE id = $1",
        payment_id,
        contract.canonical_json(data).decode("utf-8"),
    )
    return data
