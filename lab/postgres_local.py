"""A private PostgreSQL 15 cluster in a temporary directory, owned by the process that starts it.

One implementation for the two places that need a throwaway database on this
machine without touching the system's own: `emops campaign run --local`
(loadtest/local.py) and the test suite (tests/marketing/conftest.py, reused by
the collector tests). The cluster listens only on 127.0.0.1 on its own port,
keeps its unix socket in its own directory, runs as the `postgres` OS user when
we are root (postgres refuses to run as root), and is stopped with
`pg_ctl stop -m fast` on its own data directory, so nothing else is touched.
"""

from __future__ import annotations

import os
import pwd
import socket
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PG_BIN = Path("/usr/lib/postgresql/15/bin")
START_WAIT_S = 60  # pg_ctl start -w -t: how long the server may take to accept connections


def installed() -> bool:
    """Whether Debian's PostgreSQL 15 server binaries are present."""
    return (PG_BIN / "initdb").exists()


def free_port() -> int:
    """A loopback TCP port that was free a moment ago (the kernel's choice)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ClusterError(RuntimeError):
    """initdb or `pg_ctl start` failed; the caller words it for its audience.

    A RuntimeError so that a caller can retry a start on another port without
    knowing this class.
    """

    def __init__(self, step: str, stderr: str, log_tail: str = "") -> None:
        self.step = step  # "initdb" or "pg_ctl start"
        self.stderr = stderr
        self.log_tail = log_tail  # the end of the server log, when it got that far
        super().__init__(f"{step} failed: {stderr}" + (f"\n{log_tail}" if log_tail else ""))


@dataclass
class PrivateCluster:
    """A throwaway PostgreSQL cluster on 127.0.0.1:`port` with its files under `root`.

    `init()` then `start()`, and `stop()` when done; removing `root` is the
    caller's (it made the directory). The knobs differ between a load test
    (more connections) and the tests (longer command timeouts on a busy CI).
    """

    root: Path
    port: int
    max_connections: int = 100
    command_timeout_s: float = 120.0  # each initdb / pg_ctl call
    stop_wait_s: int = 60  # pg_ctl stop -w -t

    @property
    def data(self) -> Path:
        return self.root / "data"

    def dsn(self, database: str = "postgres", **params: str) -> str:
        """A libpq URL; `params` become query parameters (asyncpg: server settings)."""
        query = "&".join(f"{k}={v}" for k, v in params.items())
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}" + (
            f"?{query}" if query else ""
        )

    def _run(self, *argv: str | Path) -> subprocess.CompletedProcess[str]:
        """Run a PostgreSQL tool in `root`, as the postgres user when we are root."""
        as_user: dict[str, Any] = {}
        if os.geteuid() == 0:
            pg = pwd.getpwnam("postgres")
            as_user = {"user": pg.pw_uid, "group": pg.pw_gid, "extra_groups": []}
        return subprocess.run(
            [str(a) for a in argv],
            cwd=self.root,
            capture_output=True,
            text=True,
            timeout=self.command_timeout_s,
            check=False,
            **as_user,
        )

    def init(self) -> None:
        """The socket directory and an empty cluster (trust auth, UTF8, C locale)."""
        sock = self.root / "sock"
        sock.mkdir()
        if os.geteuid() == 0:
            pg = pwd.getpwnam("postgres")
            for path in (self.root, sock):
                os.chown(path, pg.pw_uid, pg.pw_gid)
        done = self._run(
            PG_BIN / "initdb", "-D", self.data, "-U", "postgres", "-A", "trust", "-E", "UTF8",
            "--locale=C", "--no-sync",
        )  # fmt: skip
        if done.returncode != 0:
            raise ClusterError("initdb", done.stderr)

    def start(self) -> None:
        """Start the server and wait until it accepts connections (durability off: scratch)."""
        options = (
            f"-c listen_addresses=127.0.0.1 -c port={self.port} "
            f"-c unix_socket_directories={self.root / 'sock'} "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off "
            f"-c max_connections={self.max_connections}"
        )
        log = self.root / "postgres.log"
        done = self._run(
            PG_BIN / "pg_ctl", "-D", self.data, "-l", log, "-o", options,
            "-w", "-t", str(START_WAIT_S), "start",
        )  # fmt: skip
        if done.returncode != 0:
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            raise ClusterError("pg_ctl start", done.stderr, tail)

    def stop(self) -> None:
        """Fast shutdown of this cluster only (its own data directory)."""
        self._run(
            PG_BIN / "pg_ctl", "-D", self.data, "stop", "-m", "fast",
            "-w", "-t", str(self.stop_wait_s),
        )  # fmt: skip
