"""Connection pools to the business database (primary) and the statistical standby (replica).

Pools start empty (`min_size=0`), so the service comes up even while its
database is down (a fault the campaigns inject) and answers 503 until it is
back, instead of crash-looping. Each pool tags its sessions with an
`application_name` so `pg_stat_activity` on either server shows who is reading.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

import asyncpg
from aiohttp import web

from emops.errors import EmopsError

PRIMARY_APP_NAME = "emops-marketing"
REPLICA_APP_NAME = "emops-marketing-replica"
CONNECT_TIMEOUT_S = 3.0
QUERY_TIMEOUT_S = 15.0

# Outage, restart, failover, overload or a transient conflict, as asyncpg reports them:
# the client gets a 503 and may retry.
UNAVAILABLE: tuple[type[BaseException], ...] = (
    OSError,
    TimeoutError,
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.exceptions.OperatorInterventionError,
    asyncpg.exceptions.ReadOnlySQLTransactionError,
    asyncpg.exceptions.TooManyConnectionsError,
    asyncpg.exceptions.DeadlockDetectedError,  # transient: a retry succeeds
    asyncpg.exceptions.SerializationError,
)


def check_dsn(dsn: str, option: str) -> str:
    """Reject a DSN that cannot be a PostgreSQL URL before the service starts."""
    parts = urlsplit(dsn)
    if parts.scheme not in ("postgresql", "postgres") or not (parts.hostname or parts.path):
        raise EmopsError.of(option, f"{dsn!r} is not a PostgreSQL URL", "postgresql://user@host/db")
    return dsn


def _settings(dsn: str, app_name: str) -> dict[str, str]:
    """Tag sessions with our application_name unless the DSN already sets one."""
    if "application_name" in parse_qs(urlsplit(dsn).query):
        return {}
    return {"application_name": app_name}


@dataclass
class Databases:
    """The primary pool, and the replica pool (the primary again when no replica is given)."""

    primary: asyncpg.Pool
    replica: asyncpg.Pool
    has_replica: bool
    acquired: Counter[str]

    @classmethod
    async def open(cls, dsn: str, replica_dsn: str | None, pool_size: int) -> Databases:
        async def pool(url: str, app_name: str, size: int) -> asyncpg.Pool:
            return await asyncpg.create_pool(
                url,
                min_size=0,
                max_size=size,
                timeout=CONNECT_TIMEOUT_S,
                command_timeout=QUERY_TIMEOUT_S,
                max_inactive_connection_lifetime=60,
                server_settings=_settings(url, app_name),
            )

        primary = await pool(dsn, PRIMARY_APP_NAME, pool_size)
        if replica_dsn is None:
            return cls(primary, primary, False, Counter())
        replica = await pool(replica_dsn, REPLICA_APP_NAME, max(2, pool_size // 2))
        return cls(primary, replica, True, Counter())

    async def close(self) -> None:
        pools = [self.primary, self.replica] if self.has_replica else [self.primary]
        await asyncio.gather(*(pool.close() for pool in pools))

    @asynccontextmanager
    async def connection(self, role: str = "primary") -> AsyncIterator[asyncpg.Connection]:
        """A pooled connection to `primary` or `replica`, counted for /stats."""
        pool = self.replica if role == "replica" and self.has_replica else self.primary
        name = "replica" if pool is self.replica and self.has_replica else "primary"
        async with pool.acquire(timeout=CONNECT_TIMEOUT_S + 2) as conn:
            self.acquired[name] += 1
            yield conn

    async def ping(self, role: str) -> bool:
        """True if a trivial query answers within the connect timeout."""
        try:
            async with self.connection(role) as conn:
                return await conn.fetchval("SELECT 1", timeout=CONNECT_TIMEOUT_S) == 1
        except (*UNAVAILABLE, asyncpg.PostgresError):
            return False


DB: web.AppKey[Databases] = web.AppKey("db", Databases)
