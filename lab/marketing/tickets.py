"""Work tickets (95598 calls, field work): create, read and move open -> assigned -> resolved.

A transition is applied with the row locked and recorded in ticket_events, so
two operators racing on one ticket get one success and one 409, never a skipped
state.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from lab.marketing import inputs, schema
from lab.marketing.customers import unknown_customer
from lab.marketing.db import DB
from lab.marketing.replies import ApiError, reply

# The only moves a ticket can make.
TRANSITIONS = {("open", "assigned"), ("assigned", "resolved")}
COLUMNS = "id, customer_id, category, description, status, created_at, updated_at"


def ticket_view(row: Any) -> dict[str, Any]:
    return {
        "id": row["id"],
        "customer_id": row["customer_id"],
        "category": row["category"],
        "description": row["description"],
        "status": row["status"],
        "created_at": row["created_at"].isoformat(),
        "updated_at": row["updated_at"].isoformat(),
    }


def unknown_ticket(ticket_id: int) -> ApiError:
    return ApiError(404, f"ticket_id: no ticket {ticket_id}", "ticket_id")


async def post_ticket(request: web.Request) -> web.Response:
    body = await inputs.json_object(request)
    customer_id = inputs.body_int(body, "customer_id", high=inputs.INT4_MAX)
    category = inputs.body_choice(body, "category", schema.TICKET_CATEGORIES)
    description = inputs.body_text(body, "description")
    async with request.app[DB].connection() as conn, conn.transaction():
        if not await conn.fetchval("SELECT 1 FROM customers WHERE id = $1", customer_id):
            raise unknown_customer(customer_id)
        row = await conn.fetchrow(
            "INSERT INTO tickets (customer_id, category, description) VALUES ($1, $2, $3)"
            f" RETURNING {COLUMNS}",
            customer_id,
            category,
            description,
        )
    return reply(ticket_view(row), 201)


async def get_ticket(request: web.Request) -> web.Response:
    ticket_id = inputs.path_id(request, "ticket_id")
    async with request.app[DB].connection() as conn:
        row = await conn.fetchrow(f"SELECT {COLUMNS} FROM tickets WHERE id = $1", ticket_id)
    if row is None:
        raise unknown_ticket(ticket_id)
    return reply(ticket_view(row))


async def post_status(request: web.Request) -> web.Response:
    ticket_id = inputs.path_id(request, "ticket_id")
    body = await inputs.json_object(request)
    target = inputs.body_choice(body, "status", schema.TICKET_STATUSES)
    async with request.app[DB].connection() as conn, conn.transaction():
        current = await conn.fetchval(
            "SELECT status FROM tickets WHERE id = $1 FOR UPDATE", ticket_id
        )
        if current is None:
            raise unknown_ticket(ticket_id)
        if (current, target) not in TRANSITIONS:
            raise ApiError(
                409, f"status: cannot move a ticket from {current} to {target}", "status"
            )
        row = await conn.fetchrow(
            f"UPDATE tickets SET status = $2, updated_at = now() WHERE id = $1 RETURNING {COLUMNS}",
            ticket_id,
            target,
        )
        await conn.execute(
            "INSERT INTO ticket_events (ticket_id, from_status, to_status) VALUES ($1, $2, $3)",
            ticket_id,
            current,
            target,
        )
    return reply(ticket_view(row))
