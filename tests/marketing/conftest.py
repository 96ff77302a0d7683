"""Fixtures for the marketing service tests: a private PostgreSQL cluster and a running service.

The cluster is lab.postgres_local's, the same one `emops campaign run --local`
starts: its own temp directory, 127.0.0.1 on a free port, its own unix socket
directory, run as the `postgres` OS user when the tests run as root (postgres
refuses root), stopped with `pg_ctl stop -m fast` on its own data directory
afterwards, so nothing else on the machine is touched.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import tempfile
import threading
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from aiohttp import web
from testkit import missing

from lab.marketing import datagen
from lab.marketing.app import Config, create_app
from lab.postgres_local import PG_BIN, PrivateCluster, free_port, installed  # noqa: F401 (pg_pair)

PRIMARY_CUSTOMERS = 2_000
REPLICA_CUSTOMERS = 1_200


def _install_postgres() -> str | None:
    """Install PostgreSQL 15 with apt if it is missing; the reason it cannot be, or None."""
    if installed():
        return None
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        return "PostgreSQL 15 binaries absent and not root with apt-get to install them"
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = ["apt-get", "install", "-y", "-qq", "postgresql"]
    if subprocess.run(install, env=env, capture_output=True).returncode != 0:
        subprocess.run(["apt-get", "update", "-qq"], env=env, capture_output=True)
        done = subprocess.run(install, env=env, capture_output=True, text=True)
        if done.returncode != 0:
            return f"PostgreSQL absent and apt-get install failed: {done.stderr.strip()[-300:]}"
    return None if installed() else "postgresql installed but no 15/bin/initdb"


Cluster = PrivateCluster  # the name the collector tests import and subclass (pg_pair)


@pytest.fixture(scope="session")
def cluster() -> Iterator[Cluster]:
    reason = _install_postgres()
    if reason:
        missing(reason)
    root = Path(tempfile.mkdtemp(prefix="emops-pg-"))
    cluster = Cluster(root, free_port())
    started = False
    try:
        cluster.init()
        try:
            cluster.start()
        except RuntimeError:  # the port was taken between probing and binding: once more
            cluster.port = free_port()
            cluster.start()
        started = True
        yield cluster
    finally:
        if started:
            cluster.stop()
        shutil.rmtree(root, ignore_errors=True)


def sql(dsn: str, query: str, *args: Any) -> list[asyncpg.Record]:
    """Ground truth: one direct query, outside the service."""

    async def fetch() -> list[asyncpg.Record]:
        conn = await asyncpg.connect(dsn)
        try:
            return await conn.fetch(query, *args)
        finally:
            await conn.close()

    return asyncio.run(fetch())


def create_database(cluster: Cluster, name: str) -> str:
    sql(cluster.dsn(), f'DROP DATABASE IF EXISTS "{name}"')
    sql(cluster.dsn(), f'CREATE DATABASE "{name}"')
    return cluster.dsn(name)


@pytest.fixture(scope="session")
def make_database(cluster: Cluster) -> Callable[[str], str]:
    """A fresh empty database in the session cluster; returns its DSN."""
    return lambda name: create_database(cluster, name)


@pytest.fixture(scope="session")
def primary_dsn(cluster: Cluster) -> str:
    """The main test database: 2,000 customers, seed 1, all cities."""
    dsn = create_database(cluster, "marketing")
    asyncio.run(datagen.generate(dsn, datagen.Plan(customers=PRIMARY_CUSTOMERS), log=print))
    return dsn


@pytest.fixture(scope="session")
def replica_dsn(cluster: Cluster) -> str:
    """A different database standing in for the standby, so its answers are recognisable."""
    dsn = create_database(cluster, "marketing_standby")
    plan = datagen.Plan(customers=REPLICA_CUSTOMERS, seed=7)
    asyncio.run(datagen.generate(dsn, plan, log=print))
    return dsn


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class Service:
    """The real aiohttp app on a free loopback port, its event loop in a background thread."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.loop = asyncio.new_event_loop()
        self.app: web.Application | None = None
        self.port = 0
        self._runner: web.AppRunner | None = None
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def _serve(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_until_complete(self._start())
        self._ready.set()
        self.loop.run_forever()

    async def _start(self) -> None:
        self.app = create_app(self.config)
        self._runner = web.AppRunner(self.app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = self._runner.addresses[0][1]

    def start(self) -> Service:
        self._thread.start()
        if not self._ready.wait(30):
            raise RuntimeError("service did not start")
        return self

    def stop(self) -> None:
        assert self._runner is not None
        asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self.loop).result(30)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(30)
        self.loop.close()

    def run(self, coro: Any) -> Any:
        """Run a coroutine on the service's loop (to look inside its pools)."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(30)

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        headers: dict[str, str] | None = None,
        raw: bytes | None = None,
    ) -> Reply:
        data = raw if raw is not None else None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(
            f"http://127.0.0.1:{self.port}{path}",
            data=data,
            method=method,
            headers={"Content-Type": "application/json", **(headers or {})},
        )
        try:
            with urllib.request.urlopen(req, timeout=60) as resp:
                return Reply(resp.status, dict(resp.headers), resp.read())
        except urllib.error.HTTPError as err:
            return Reply(err.code, dict(err.headers), err.read())

    def get(self, path: str) -> Reply:
        return self.request("GET", path)

    def post(self, path: str, body: Any = None, **kw: Any) -> Reply:
        return self.request("POST", path, body, **kw)


@pytest.fixture(scope="session")
def service(primary_dsn: str, replica_dsn: str) -> Iterator[Service]:
    """The service on the primary with the standby stand-in as its replica."""
    svc = Service(Config(dsn=primary_dsn, replica_dsn=replica_dsn)).start()
    yield svc
    svc.stop()


@pytest.fixture(scope="session")
def service_no_replica(primary_dsn: str) -> Iterator[Service]:
    svc = Service(Config(dsn=primary_dsn)).start()
    yield svc
    svc.stop()


@pytest.fixture(scope="session")
def start_service() -> Iterator[Callable[[Config], Service]]:
    """Start extra services for a test; all are stopped at the end of the session."""
    started: list[Service] = []

    def start(config: Config) -> Service:
        started.append(Service(config).start())
        return started[-1]

    yield start
    for svc in started:
        svc.stop()


@pytest.fixture
def unused_port() -> int:
    """A loopback TCP port nothing listens on (a database that is down)."""
    return free_port()


@pytest.fixture(scope="session")
def query() -> Callable[..., list[asyncpg.Record]]:
    return sql
