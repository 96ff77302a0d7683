"""Customer lookup and bill query: the interactive reads of the business counter and 95598.

`customer_view` and `bill_view` fix how a row becomes JSON (dates as ISO text,
money as integer fen); load clients use them too, to rebuild `data` from SQL.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from lab.marketing import inputs
from lab.marketing.db import DB
from lab.marketing.replies import ApiError, reply

CUSTOMER_SQL = """
SELECT id, name, city, county, address, meter_id, tariff, balance_fen
FROM customers WHERE id = $1
"""
BILLS_SQL = """
SELECT id, customer_id, period, kwh, amount_fen, paid_fen, status, due_date
FROM bills WHERE customer_id = $1 ORDER BY period DESC LIMIT $2
"""
KNOWN_SQL = "SELECT true FROM customers WHERE id = $1"
MAX_MONTHS = 120


def customer_view(row: Any) -> dict[str, Any]:
    return {
        "id": row["id"],
        "name": row["name"],
        "city": row["city"],
        "county": row["county"],
        "address": row["address"],
        "meter_id": row["meter_id"],
        "tariff": row["tariff"],
        "balance_fen": row["balance_fen"],
    }


def bill_view(row: Any) -> dict[str, Any]:
    return {
        "id": row["id"],
        "customer_id": row["customer_id"],
        "period": row["period"].strftime("%Y-%m"),
        "kwh": row["kwh"],
        "amount_fen": row["amount_fen"],
        "paid_fen": row["paid_fen"],
        "status": row["status"],
        "due_date": row["due_date"].isoformat(),
    }


def unknown_customer(customer_id: int) -> ApiError:
    return ApiError(404, f"customer_id: no customer {customer_id}", "customer_id")


async def get_customer(request: web.Request) -> web.Response:
    customer_id = inputs.path_id(request, "customer_id", inputs.INT4_MAX)
    async with request.app[DB].connection() as conn:
        row = await conn.fetchrow(CUSTOMER_SQL, customer_id)
    if row is None:
        raise unknown_customer(customer_id)
    return reply(customer_view(row))


async def get_bills(request: web.Request) -> web.Response:
    customer_id = inputs.path_id(request, "customer_id", inputs.INT4_MAX)
    months = inputs.query_int(request, "months", 12, 1, MAX_MONTHS)
    async with request.app[DB].connection() as conn:
        rows = await conn.fetch(BILLS_SQL, customer_id, months)
        known = bool(rows) or await conn.fetchval(KNOWN_SQL, customer_id)
    if not known:
        raise unknown_customer(customer_id)
    bills = [bill_view(r) for r in rows]
    return reply({"customer_id": customer_id, "months": months, "bills": bills})
