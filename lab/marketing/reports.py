"""GET /reports/export?city=X: a city's bills as streamed CSV, read from the statistical standby.

Statistical analysis runs on the replica so bulk reads do not load the
business primary; with no replica configured the primary answers. Rows stream
straight from PostgreSQL's COPY to the client (megabytes per city without
buffering them), hashed on the way, and end with the checksum trailer line.
Until the first byte is sent a database failure is still a 503 JSON reply;
after that the connection is cut, so the client sees a truncated export (no
trailer), never a complete-looking wrong one.
"""

from __future__ import annotations

import hashlib
import logging

from aiohttp import web

from emops import marketing_contract as contract
from lab.marketing import inputs, schema
from lab.marketing.db import DB
from lab.marketing.stats import STATS

log = logging.getLogger(__name__)
EXPORT_TIMEOUT_S = 3600.0  # COPY runs as fast as the client reads, over shaped WAN links
EXPORT_COLUMNS = (
    "bill_id", "customer_id", "county", "tariff", "period",
    "kwh", "amount_fen", "paid_fen", "status",
)  # fmt: skip
EXPORT_SQL = """
SELECT b.id AS bill_id, b.customer_id, c.county, c.tariff, to_char(b.period, 'YYYY-MM') AS period,
       b.kwh, b.amount_fen, b.paid_fen, b.status
FROM bills b JOIN customers c ON c.id = b.customer_id
WHERE c.city = $1
ORDER BY b.id
"""
SOURCE_HEADER = "X-Emops-Source"
# Set on a request whose export was cut off: counted as a failure, not a transaction.
ABORTED: web.RequestKey[bool] = web.RequestKey("emops_export_aborted", bool)


async def export_city(request: web.Request) -> web.StreamResponse:
    city = inputs.query_choice(request, "city", schema.CITIES)
    db, stats = request.app[DB], request.app[STATS]
    source = "replica" if db.has_replica else "primary"
    resp = web.StreamResponse(
        headers={
            "Content-Type": "text/csv; charset=utf-8",
            "Content-Disposition": f'attachment; filename="bills-{city}.csv"',
            "Cache-Control": "no-store",
            "X-Emops-Export-Trailer": "#emops-export sha256=<hex> rows=<n>",
            SOURCE_HEADER: source,
        }
    )
    hasher = hashlib.sha256()
    sent = 0

    async def send(chunk: bytes) -> None:
        nonlocal sent
        if not resp.prepared:
            await resp.prepare(request)
        hasher.update(chunk)
        sent += len(chunk)
        await resp.write(chunk)

    try:
        async with db.connection("replica") as conn:
            status = await conn.copy_from_query(
                EXPORT_SQL, city, output=send, format="csv", header=True, timeout=EXPORT_TIMEOUT_S
            )
        rows = int(status.split()[-1])
        await send(contract.export_trailer(hasher.hexdigest(), rows))
        await resp.write_eof()
    except Exception as exc:
        if not resp.prepared:
            raise  # nothing sent yet: the middleware answers with a JSON error
        stats.failures["export_aborted"] += 1
        request[ABORTED] = True
        log.warning("export of %s aborted after %d bytes: %s", city, sent, exc)
        if request.transport is not None:
            request.transport.close()
        return resp
    stats.exports[f"from_{source}"] += 1
    stats.exports["rows"] += rows
    stats.exports["bytes"] += sent
    return resp
