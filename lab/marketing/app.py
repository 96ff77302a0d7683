"""The aiohttp application: routes, database pools, and the middleware that keeps errors JSON.

Every failure leaves as a JSON envelope with a status code and the offending
field (4xx for bad input, 503 while the database is unreachable), and is
counted in /stats by kind; tracebacks go to the log, never to the client.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import asyncpg
from aiohttp import web

from lab.marketing import customers, payments, reports, tickets
from lab.marketing.db import DB, UNAVAILABLE, Databases
from lab.marketing.replies import FAILURE_KINDS, ApiError, error_reply, reply
from lab.marketing.stats import STATS, Stats

log = logging.getLogger(__name__)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(frozen=True)
class Config:
    dsn: str
    replica_dsn: str | None = None
    pool_size: int = 10


async def healthz(request: web.Request) -> web.Response:
    """200 while the primary answers (what the load balancer needs); replica state is shown."""
    db: Databases = request.app[DB]
    primary = await db.ping("primary")
    replica = ("ok" if await db.ping("replica") else "down") if db.has_replica else "none"
    data = {
        "status": "ok" if primary else "down",
        "primary": "ok" if primary else "down",
        "replica": replica,
    }
    if not primary:
        request.app[STATS].failures["db_unavailable"] += 1
    return reply(data, 200 if primary else 503)


async def get_stats(request: web.Request) -> web.Response:
    return reply(request.app[STATS].snapshot(request.app[DB].acquired))


@web.middleware
async def json_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Turn every failure into a JSON error reply and count transactions and failures."""
    stats: Stats = request.app[STATS]
    try:
        resp = await handler(request)
    except ApiError as exc:
        status, message, field = exc.status, exc.message, exc.field
    except web.HTTPException as exc:  # unknown route, wrong method, body too large
        status, message, field = exc.status, exc.reason, None
        if status == 413:
            message, field = f"body: larger than {request.client_max_size} bytes", "body"
    except UNAVAILABLE as exc:
        log.warning("database unavailable: %s: %s", type(exc).__name__, exc)
        status, message, field = 503, "database unavailable, try again", None
    except asyncpg.PostgresError:
        log.exception("database error")
        status, message, field = 500, "internal database error", None
    except Exception:
        log.exception("unexpected error")
        status, message, field = 500, "internal error", None
    else:
        route = request.match_info.route.name
        if route and resp.status < 400 and not request.get(reports.ABORTED):
            stats.transactions[route] += 1
        return resp
    stats.failures[FAILURE_KINDS.get(status, f"http_{status}")] += 1
    return error_reply(status, message, field)


def create_app(config: Config) -> web.Application:
    """The service; its pools open on startup and close on cleanup."""
    app = web.Application(middlewares=[json_errors], client_max_size=64 * 1024)
    app[STATS] = Stats()

    async def pools(app: web.Application):
        app[DB] = await Databases.open(config.dsn, config.replica_dsn, config.pool_size)
        yield
        await app[DB].close()

    app.cleanup_ctx.append(pools)
    app.router.add_get("/healthz", healthz, name="healthz")
    app.router.add_get("/stats", get_stats, name="stats")
    app.router.add_get("/customers/{id}", customers.get_customer, name="customer")
    app.router.add_get("/customers/{id}/bills", customers.get_bills, name="bills")
    app.router.add_post("/payments", payments.post_payment, name="payment")
    app.router.add_post("/tickets", tickets.post_ticket, name="ticket_create")
    app.router.add_get("/tickets/{id}", tickets.get_ticket, name="ticket_get")
    app.router.add_post("/tickets/{id}/status", tickets.post_status, name="ticket_status")
    app.router.add_get("/reports/export", reports.export_city, name="export")
    return app
