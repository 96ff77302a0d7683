"""`--local`: the system under test on loopback, so a campaign runs end to end without the twin.

A private PostgreSQL 15 cluster in a temporary directory (lab.postgres_local:
listening only on 127.0.0.1, its own socket directory, run as the `postgres`
user when we are root, since postgres refuses root), the generated customer
base, and the marketing service as a subprocess on a free loopback port.
Everything is stopped and removed on exit, whatever happened; nothing else on
the machine is touched. Every wait has a deadline.
"""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from emops.errors import EmopsError
from lab.postgres_local import ClusterError, PrivateCluster, free_port, installed

START_TIMEOUT_S = 60.0


def private_cluster(root: Path) -> PrivateCluster:
    """The campaign's cluster: room for the Locust users' connections, short command timeouts."""
    return PrivateCluster(
        root, free_port(), max_connections=200, command_timeout_s=START_TIMEOUT_S, stop_wait_s=30
    )


def start_cluster(cluster: PrivateCluster) -> None:
    """initdb and start, with the problems worded for `--local` (the CLI prints them)."""
    if not installed():
        raise EmopsError.of(
            "--local", "PostgreSQL 15 is not installed", "apt-get install -y postgresql"
        )
    try:
        cluster.init()
        cluster.start()
    except ClusterError as err:
        what = "initdb failed" if err.step == "initdb" else "PostgreSQL did not start"
        raise EmopsError.of("--local", f"{what}: {err.stderr.strip()[-300:]}") from err


def start_service(dsn: str, log_path: Path, pool_size: int = 20) -> tuple[subprocess.Popen, str]:
    """The marketing service on a free loopback port; returns the process and its URL."""
    log = open(log_path, "ab")  # noqa: SIM115 - the child keeps writing to it
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "lab.marketing.service",
            "--listen",
            "127.0.0.1:0",
            "--dsn",
            dsn,
            "--pool-size",
            str(pool_size),
        ],
        stdout=subprocess.PIPE,
        stderr=log,
        stdin=subprocess.DEVNULL,
    )
    log.close()
    assert proc.stdout is not None
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        line = proc.stdout.readline().decode(errors="replace").strip()
        if line.startswith("listening on "):
            return proc, line.removeprefix("listening on ")
        if not line and proc.poll() is not None:
            break
    stop_process(proc)
    raise EmopsError.of("--local", f"the marketing service did not start (see {log_path})")


def stop_process(proc: subprocess.Popen, timeout: float = 10.0) -> int | None:
    """SIGTERM, then SIGKILL after `timeout`; the exit code."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout)
    return proc.returncode


@contextmanager
def local_system(
    customers: int, log_dir: Path, echo: Callable[[str], None] = print
) -> Iterator[str]:
    """PostgreSQL + generated data + the marketing service on loopback; yields its URL."""
    from lab.marketing import datagen  # loads asyncpg (~0.1 s): only for a --local campaign

    root = Path(tempfile.mkdtemp(prefix="emops-campaign-pg-"))
    cluster = private_cluster(root)
    service: subprocess.Popen | None = None
    started = False
    try:
        start_cluster(cluster)
        started = True
        echo(f"local: PostgreSQL on 127.0.0.1:{cluster.port}, generating {customers} customers")
        asyncio.run(
            datagen.generate(cluster.dsn(), datagen.Plan(customers=customers), log=lambda _: None)
        )
        service, url = start_service(cluster.dsn(), log_dir / "service.log")
        echo(f"local: marketing service at {url}")
        yield url
    finally:
        if service is not None:
            stop_process(service)
        if started:
            cluster.stop()
        shutil.rmtree(root, ignore_errors=True)
