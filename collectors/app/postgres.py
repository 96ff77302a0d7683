"""One PostgreSQL reading: connections by state, transactions, replication lag.

A fresh connection per reading, so `up` means "a client can connect and query
now", which is what the service needs; a held connection would stay up through
a pg_hba or max_connections problem that new clients hit.

Replication lag is PostgreSQL's usual definition: on a standby, now minus the
commit time of the last replayed transaction, and 0 whenever everything
received has been replayed (an idle primary must not look like a growing lag).
It is absent on a primary, and on a standby that has never replayed anything
and is not caught up (no timestamp to measure from).
"""

from __future__ import annotations

import asyncpg  # loaded only by agents that read a database: ops.py imports this on use

from collectors.app.results import Result, failure

CONNECTIONS_SQL = """
    SELECT coalesce(state, 'unknown') AS state, count(*) AS n
    FROM pg_stat_activity WHERE backend_type = 'client backend' GROUP BY 1
"""
TRANSACTIONS_SQL = (
    "SELECT coalesce(sum(xact_commit + xact_rollback), 0)::float8 FROM pg_stat_database"
)
# NULL (absent) when behind without a replay timestamp: not greatest(0, ...), which would
# turn that NULL into 0 and call a standby that has replayed nothing "caught up".
LAG_SQL = """
    SELECT CASE
      WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0::float8
      ELSE extract(epoch FROM now() - pg_last_xact_replay_timestamp())::float8
    END
"""
# States pg_stat_activity reports for client backends; exported as 0 when absent
# so a series does not vanish when, say, nothing is idle in a transaction.
STATES = (
    "active",
    "idle",
    "idle in transaction",
    "idle in transaction (aborted)",
    "fastpath function call",
    "disabled",
)


def _reason(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError):
        return "timeout"
    if isinstance(
        exc, asyncpg.InvalidAuthorizationSpecificationError | asyncpg.InvalidPasswordError
    ):
        return "auth"
    if isinstance(exc, asyncpg.PostgresError):
        return "query"
    if isinstance(exc, OSError):
        return "connect"
    return "error"


async def sample(
    host: str, port: int, user: str, database: str, password: str | None, timeout: float
) -> Result:
    """Read one server; {"ok": False, "error": reason} when it cannot be read."""
    try:
        conn = await asyncpg.connect(
            host=host,
            port=port,
            user=user,
            password=password,
            database=database,
            timeout=timeout,
            command_timeout=timeout,
            server_settings={"application_name": "emops-app-collector"},
        )
    except Exception as exc:  # connect errors come in many types; all mean "down"
        return failure(_reason(exc), str(exc))
    try:
        rows = await conn.fetch(CONNECTIONS_SQL)
        transactions = await conn.fetchval(TRANSACTIONS_SQL)
        standby = bool(await conn.fetchval("SELECT pg_is_in_recovery()"))
        lag = await conn.fetchval(LAG_SQL) if standby else None
    except Exception as exc:
        return failure(_reason(exc), str(exc))
    finally:
        try:
            await conn.close(timeout=timeout)  # a clean goodbye: no "unexpected EOF" in its log
        except Exception:
            conn.terminate()
    connections = dict.fromkeys(STATES, 0) | {r["state"]: int(r["n"]) for r in rows}
    return {
        "ok": True,
        "connections": connections,
        "transactions": float(transactions),
        "standby": standby,
        "lag_s": None if lag is None else max(0.0, float(lag)),  # clocks: never negative
    }
