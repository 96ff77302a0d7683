"""`--local`: the system under test on loopback, so a campaign runs end to end without the twin.

A private PostgreSQL 15 cluster in a temporary directory (listening only on
127.0.0.1, its own socket directory, run as the `postgres` user when we are
root, since postgres refuses root), the generated customer base, and the
marketing service as a subprocess on a free loopback port. Everything is
stopped and removed on exit, whatever happened; nothing else on the machine is
touched. Every wait has a deadline.
"""

from __future__ import annotations

import asyncio
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from emops.errors import EmopsError

PG_BIN = Path("/usr/lib/postgresql/15/bin")
START_TIMEOUT_S = 60.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class PrivateCluster:
    """A throwaway PostgreSQL cluster on 127.0.0.1:`port`, owned by this process."""

    root: Path
    port: int

    def dsn(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def _run(self, *argv: str | Path) -> subprocess.CompletedProcess[str]:
        as_user: dict[str, Any] = {}
        if os.geteuid() == 0:
            pg = pwd.getpwnam("postgres")
            as_user = {"user": pg.pw_uid, "group": pg.pw_gid, "extra_groups": []}
        return subprocess.run(
            [str(a) for a in argv],
            cwd=self.root,
            capture_output=True,
            text=True,
            timeout=START_TIMEOUT_S,
            check=False,
            **as_user,
        )

    def start(self) -> None:
        if not (PG_BIN / "initdb").exists():
            raise EmopsError.of(
                "--local", "PostgreSQL 15 is not installed", "apt-get install -y postgresql"
            )
        sock = self.root / "sock"
        sock.mkdir()
        if os.geteuid() == 0:
            pg = pwd.getpwnam("postgres")
            for path in (self.root, sock):
                os.chown(path, pg.pw_uid, pg.pw_gid)
        data = self.root / "data"
        done = self._run(
            PG_BIN / "initdb", "-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8",
            "--locale=C", "--no-sync",
        )  # fmt: skip
        if done.returncode != 0:
            raise EmopsError.of("--local", f"initdb failed: {done.stderr.strip()[-300:]}")
        options = (
            f"-c listen_addresses=127.0.0.1 -c port={self.port} -c unix_socket_directories={sock} "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
        )
        done = self._run(
            PG_BIN / "pg_ctl", "-D", data, "-l", self.root / "postgres.log", "-o", options,
            "-w", "-t", str(int(START_TIMEOUT_S)), "start",
        )  # fmt: skip
        if done.returncode != 0:
            raise EmopsError.of(
                "--local", f"PostgreSQL did not start: {done.stderr.strip()[-300:]}"
            )

    def stop(self) -> None:
        self._run(
            PG_BIN / "pg_ctl", "-D", self.root / "data", "stop", "-m", "fast", "-w", "-t", "30"
        )


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
    from lab.marketing import datagen

    root = Path(tempfile.mkdtemp(prefix="emops-campaign-pg-"))
    cluster = PrivateCluster(root, free_port())
    service: subprocess.Popen | None = None
    started = False
    try:
        cluster.start()
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
