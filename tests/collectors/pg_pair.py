"""A real PostgreSQL primary and streaming standby in temp directories, for the lag tests.

Built on the marketing tests' `Cluster` (own port on 127.0.0.1, own socket
directory, run as the `postgres` user when root): the standby is a
`pg_basebackup -R` copy of the primary, so it streams from it as the twin's
hq-db2 does from hq-db1. Both are stopped with `pg_ctl stop` on their own data
directories.
"""

from __future__ import annotations

import os
import pwd
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from marketing.conftest import PG_BIN, Cluster, free_port


class Standby(Cluster):
    """A cluster made by cloning a running primary instead of initdb."""

    def clone(self, primary: Cluster) -> None:
        (self.root / "sock").mkdir()
        if os.geteuid() == 0:
            pg = pwd.getpwnam("postgres")
            for path in (self.root, self.root / "sock"):
                os.chown(path, pg.pw_uid, pg.pw_gid)
        done = self._run(
            PG_BIN / "pg_basebackup",
            "-h", "127.0.0.1", "-p", str(primary.port), "-U", "postgres",
            "-D", self.data, "-R", "-X", "stream", "-c", "fast", "--no-sync",
        )  # fmt: skip
        if done.returncode != 0:
            raise RuntimeError(f"pg_basebackup failed: {done.stderr}")


@contextmanager
def running_pair() -> Iterator[tuple[Cluster, Standby]]:
    """(primary, standby), both running; both stopped and removed on exit."""
    primary = Cluster(Path(tempfile.mkdtemp(prefix="emops-pg-primary-")), free_port())
    standby = Standby(Path(tempfile.mkdtemp(prefix="emops-pg-standby-")), free_port())
    started: list[Cluster] = []
    try:
        primary.init()
        primary.start()
        started.append(primary)
        standby.clone(primary)
        standby.start()
        started.append(standby)
        yield primary, standby
    finally:
        for cluster in reversed(started):
            cluster.stop()
        for cluster in (primary, standby):
            shutil.rmtree(cluster.root, ignore_errors=True)
