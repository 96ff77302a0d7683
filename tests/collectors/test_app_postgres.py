"""PostgreSQL metrics against a real primary and its streaming standby."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import asyncpg
from app_fakes import collect, pg_target, registry_of, runner_for
from marketing.conftest import Cluster, sql
from pg_pair import Standby

from collectors.app.targets import AppPlan

LAG = "emops_postgres_replication_lag_seconds"


def lag_of(pair: tuple[Cluster, Standby]) -> Callable[[], float | None]:
    """One fresh reading of both servers; the standby's lag (asserting the primary has none)."""
    primary, standby = pair
    plan = AppPlan(postgres=(pg_target("hq-db1", primary.port), pg_target("hq-db2", standby.port)))

    def read() -> float | None:
        get = collect(runner_for(plan)).get_sample_value
        assert get("emops_postgres_up", {"device": "hq-db2"}) == 1
        assert get(LAG, {"device": "hq-db1"}) is None  # a primary has no replication lag
        # which server takes writes: what a failover moves
        assert get("emops_postgres_primary", {"device": "hq-db1"}) == 1
        assert get("emops_postgres_primary", {"device": "hq-db2"}) == 0
        return get(LAG, {"device": "hq-db2"})

    return read


def wait_for(read: Callable[[], float | None], ok: Callable[[float | None], bool]) -> float | None:
    deadline = time.monotonic() + 15
    while True:
        value = read()
        if ok(value) or time.monotonic() > deadline:
            return value
        time.sleep(0.2)


def write(cluster: Cluster) -> int:
    """A committed row, flushed at once (the test clusters run synchronous_commit=off,
    which leaves WAL to the WAL writer, and the standby can only stream what is flushed);
    returns the primary's flushed WAL position after it."""
    dsn = cluster.dsn(synchronous_commit="on")  # asyncpg: unknown DSN params are settings
    sql(dsn, "CREATE TABLE IF NOT EXISTS lag_probe (at timestamptz)")
    sql(dsn, "INSERT INTO lag_probe VALUES (now())")
    return int(sql(dsn, "SELECT pg_current_wal_flush_lsn() AS lsn")[0]["lsn"])


def replayed(standby: Standby) -> int:
    return int(sql(standby.dsn(), "SELECT pg_last_wal_replay_lsn() AS lsn")[0]["lsn"])


def replication_state(primary: Cluster, standby: Standby) -> str:
    """What both servers say, for a failure message."""
    ours = "SELECT pg_last_wal_receive_lsn() AS received, pg_last_wal_replay_lsn() AS replayed"
    theirs = "SELECT pg_current_wal_flush_lsn() AS flushed"
    standby_says, primary_says = sql(standby.dsn(), ours)[0], sql(primary.dsn(), theirs)[0]
    return f"standby {dict(standby_says)}, primary {dict(primary_says)}"


def test_lag_while_replay_is_paused(pg_pair: tuple[Cluster, Standby]) -> None:
    """0 when caught up; > 0 while replay is paused and the primary writes; 0 after resume."""
    primary, standby = pg_pair
    read = lag_of(pg_pair)
    never = "SELECT pg_last_xact_replay_timestamp() IS NULL AS never"
    if sql(standby.dsn(), never)[0]["never"]:  # a fresh pair (this test comes first)
        # behind without any replayed commit to measure from: absent, not a false 0
        sql(standby.dsn(), "SELECT pg_wal_replay_pause()")
        try:
            flushed = write(primary)
            received = "SELECT pg_last_wal_receive_lsn() AS lsn"
            wait_for(lambda: int(sql(standby.dsn(), received)[0]["lsn"]), lambda n: n >= flushed)
            assert read() is None
        finally:
            sql(standby.dsn(), "SELECT pg_wal_replay_resume()")
    flushed = write(primary)  # something to replay, so the standby has a replay timestamp
    assert wait_for(lambda: replayed(standby), lambda lsn: lsn >= flushed) >= flushed
    assert read() == 0
    sql(standby.dsn(), "SELECT pg_wal_replay_pause()")
    try:
        paused = "SELECT pg_get_wal_replay_pause_state() = 'paused' AS p"
        assert wait_for(lambda: float(sql(standby.dsn(), paused)[0]["p"]), bool)
        time.sleep(0.3)  # so the lag is clearly above zero
        write(primary)
        lag = wait_for(read, lambda lag: lag is not None and lag > 0)
        assert lag is not None and 0.3 <= lag < 30, replication_state(primary, standby)
    finally:
        sql(standby.dsn(), "SELECT pg_wal_replay_resume()")
    assert wait_for(read, lambda lag: lag == 0) == 0


def test_connections_and_transactions(pg_pair: tuple[Cluster, Standby]) -> None:
    """Connection counts by state while sessions are held open; the transaction counter."""
    primary, _ = pg_pair
    runner = runner_for(AppPlan(postgres=(pg_target("hq-db1", primary.port),)))
    db = {"device": "hq-db1"}

    async def go() -> list[float]:
        idle = await asyncpg.connect(primary.dsn())
        in_tx = await asyncpg.connect(primary.dsn())
        tx = in_tx.transaction()
        await tx.start()
        await in_tx.execute("SELECT 1")
        try:
            await runner.collect_once()  # while one session idles and one is in a transaction
        finally:
            await tx.rollback()
            await asyncio.gather(idle.close(), in_tx.close())
        counts = [runner.store.postgres["hq-db1"].transactions]
        busy = await asyncpg.connect(primary.dsn())
        for _ in range(20):
            await busy.execute("SELECT 1")
        await busy.close()  # a backend flushes its statistics when it exits
        deadline = time.monotonic() + 10
        while counts[-1] - counts[0] < 20 and time.monotonic() < deadline:
            await asyncio.sleep(0.2)
            await runner.collect_once()
            counts.append(runner.store.postgres["hq-db1"].transactions)
        return counts

    try:
        counts = asyncio.run(go())
    finally:
        asyncio.run(runner.close())
    assert counts[-1] - counts[0] >= 20
    assert counts == sorted(counts)  # a counter
    get = registry_of(runner).get_sample_value
    assert get("emops_postgres_up", db) == 1
    assert get("emops_postgres_transactions_total", db) == counts[-1]


def test_connection_states(pg_pair: tuple[Cluster, Standby]) -> None:
    primary, _ = pg_pair
    runner = runner_for(AppPlan(postgres=(pg_target("hq-db1", primary.port),)))

    async def go() -> None:
        idle = await asyncpg.connect(primary.dsn())
        in_tx = await asyncpg.connect(primary.dsn())
        tx = in_tx.transaction()
        await tx.start()
        await in_tx.execute("SELECT 1")
        try:
            await runner.collect_once()
        finally:
            await tx.rollback()
            await asyncio.gather(idle.close(), in_tx.close(), runner.close())

    asyncio.run(go())
    get = registry_of(runner).get_sample_value

    def state(name: str) -> float | None:
        return get("emops_postgres_connections", {"device": "hq-db1", "state": name})

    assert state("idle") >= 1
    assert state("idle in transaction") >= 1
    assert state("active") >= 1  # the collector's own query
    assert state("fastpath function call") == 0  # every known state is exported


def test_dead_database_down_alone(pg_pair: tuple[Cluster, Standby], unused_port: int) -> None:
    primary, standby = pg_pair
    plan = AppPlan(
        postgres=(
            pg_target("hq-db1", primary.port),
            pg_target("hq-db2", standby.port),
            pg_target("hq-db3", unused_port),
            pg_target("hq-db4", primary.port, user="nobody"),
        )
    )
    get = collect(runner_for(plan)).get_sample_value
    for device, up in (("hq-db1", 1), ("hq-db2", 1), ("hq-db3", 0), ("hq-db4", 0)):
        assert get("emops_postgres_up", {"device": device}) == up, device
        assert get("emops_collector_up", {"collector": "postgres", "target": device}) == up
    assert get("emops_postgres_transactions_total", {"device": "hq-db3"}) is None
    for device, reason in (("hq-db3", "connect"), ("hq-db4", "auth")):
        key = {"collector": "postgres", "target": device, "reason": reason}
        assert get("emops_collector_errors_total", key) == 1
