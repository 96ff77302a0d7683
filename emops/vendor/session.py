"""One netmiko session per device: back up, push, verify, roll back.

The sequence a network engineer does by hand, in code:

1. connect and read the running config; write it to the controller (backup);
2. compute the lines of the intent the device lacks; none -> unchanged, stop;
3. push them with the dialect's error pattern, so a rejected line raises;
4. read the running config again and check every intended line is there;
5. save; on any failure in 3-5, push the delta back to the backup and check
   the device equals the backup again.

Check mode stops after 2 with the diff. Nothing here knows Ansible: the
module in playbooks/library is a thin wrapper, the tests call it directly too.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from netmiko import BaseConnection, ConnectHandler
from netmiko.exceptions import ConfigInvalidException

from emops.files import write_atomic
from emops.vendor import cliconf
from emops.vendor.dialects import Dialect, dialect


@dataclass(frozen=True)
class Target:
    """How to reach one device's CLI over SSH."""

    host: str
    device_type: str  # netmiko name: cisco_ios, huawei
    username: str
    port: int = 22
    password: str | None = None
    key_file: str | None = None
    timeout: float = 30.0

    @property
    def dialect(self) -> Dialect:
        return dialect(self.device_type)


@dataclass
class PushOutcome:
    """What happened, for the module's result (changed, diff, timings)."""

    changed: bool = False
    failed: bool = False
    msg: str = ""
    before: str = ""  # running config before (cleaned)
    after: str = ""  # running config after, or the simulated merge in check mode
    commands: list[str] = field(default_factory=list)
    rolled_back: bool | None = None  # None: no rollback was needed
    rollback_commands: list[str] = field(default_factory=list)
    backup_path: str | None = None
    timings: dict[str, float] = field(default_factory=dict)


class PushFailed(Exception):
    """A pushed line was rejected, verification found lines missing, or save failed."""


def open_connection(target: Target) -> BaseConnection:
    """Log in over SSH (key or password) and land at the privileged prompt."""
    params: dict[str, object] = {
        "device_type": target.device_type,
        "host": target.host,
        "port": target.port,
        "username": target.username,
        "conn_timeout": target.timeout,
        "allow_agent": False,
    }
    if target.key_file:
        params |= {"use_keys": True, "key_file": target.key_file}
    if target.password:
        params["password"] = target.password
    return ConnectHandler(**params)


@contextmanager
def connection(target: Target) -> Iterator[BaseConnection]:
    """A netmiko connection, always disconnected."""
    conn = open_connection(target)
    try:
        yield conn
    finally:
        conn.disconnect()


def read_running(conn: BaseConnection, dialect: Dialect) -> str:
    """The device's running configuration, as its CLI prints it."""
    return str(conn.send_command(dialect.show_running, read_timeout=120))


class _Clock:
    """Adds the wall time of each stage to a timings dict (seconds, ms resolution)."""

    def __init__(self, timings: dict[str, float]) -> None:
        self.timings = timings

    @contextmanager
    def __call__(self, stage: str) -> Iterator[None]:
        start = time.monotonic()
        try:
            yield
        finally:
            self.timings[stage] = round(self.timings.get(stage, 0) + time.monotonic() - start, 3)


@dataclass(frozen=True)
class Plan:
    commands: list[str]  # what to send, indented, with block ends
    missing: cliconf.Tree  # the intent lines the device lacks
    verifiable: cliconf.Tree  # the intent lines that must show afterwards


def plan(
    intent: str, running: str, d: Dialect, write_only: list[str], push_write_only: bool
) -> Plan:
    """Which intent lines to send. Write-only lines (secrets the device never
    shows back) are neither compared nor verified, and sent only on request;
    silent defaults (`no shutdown`) go out with any block being pushed."""
    intent_tree = cliconf.parse(intent, d)
    # a port left with nothing to verify (only `no shutdown`) counts as present
    verifiable = cliconf.comparable(cliconf.without(intent_tree, [*write_only, *d.silent]), d)
    missing = cliconf.difference(verifiable, cliconf.parse(running, d))
    if push_write_only:
        secret_only = cliconf.without(intent_tree, d.silent)
        missing = cliconf.merge(missing, cliconf.difference(secret_only, verifiable))
    missing = cliconf.with_silent(missing, intent_tree, d.silent)
    return Plan(cliconf.lines(missing, d), missing, verifiable)


def push(
    target: Target,
    intent: str,
    *,
    backup_path: Path | None = None,
    check: bool = False,
    save: bool = True,
    rollback: bool = True,
    write_only: list[str] | None = None,
    push_write_only: bool = False,
) -> PushOutcome:
    """Bring the device's running config to contain `intent` (see module docstring)."""
    d = target.dialect
    out = PushOutcome()
    clock = _Clock(out.timings)
    started = time.monotonic()
    with clock("connect"):
        conn = open_connection(target)
    try:
        with clock("backup"):
            running = read_running(conn, d)
            out.before = cliconf.clean_for_backup(running, d)
            if backup_path is not None and not check:
                write_atomic(backup_path, out.before, "backup_dir")
                out.backup_path = str(backup_path)
        patterns = list(d.write_only if write_only is None else write_only)
        todo = plan(intent, running, d, patterns, push_write_only)
        out.commands, out.changed = todo.commands, bool(todo.commands)
        if not todo.commands:
            out.after, out.msg = out.before, "running config already holds the intent"
        elif check:
            merged = cliconf.merge(cliconf.parse(running, d), todo.missing)
            out.after = cliconf.text(merged)
            out.msg = f"check mode: would push {len(todo.commands)} lines"
        else:
            _Apply(conn, d, out, clock).run(todo, running, save, rollback)
    finally:
        conn.disconnect()
    out.timings["total"] = round(time.monotonic() - started, 3)
    return out


@dataclass
class _Apply:
    """Push, verify, save; on failure converge back to the backup."""

    conn: BaseConnection
    d: Dialect
    out: PushOutcome
    clock: _Clock

    def run(self, todo: Plan, running: str, save: bool, rollback: bool) -> None:
        try:
            self.push(todo.commands)
            self.verify(todo.verifiable)
            if save:
                self.save()
            self.out.msg = f"pushed {len(todo.commands)} lines, verified"
        except PushFailed as exc:
            self.out.failed, self.out.msg = True, str(exc)
            if rollback:
                with self.clock("rollback"):
                    self.roll_back(cliconf.parse(running, self.d))
                self.out.msg += "; rolled back" if self.out.rolled_back else "; ROLLBACK INCOMPLETE"

    def push(self, commands: list[str]) -> None:
        with self.clock("push"):
            try:
                self.conn.send_config_set(commands, error_pattern=self.d.error_pattern)
            except ConfigInvalidException as exc:
                self.conn.exit_config_mode()
                raise PushFailed(f"device rejected a line: {exc}") from None

    def verify(self, verifiable: cliconf.Tree) -> None:
        with self.clock("verify"):
            after = read_running(self.conn, self.d)
            self.out.after = cliconf.clean_for_backup(after, self.d)
            if absent := cliconf.difference(verifiable, cliconf.parse(after, self.d)):
                shown = " | ".join(cliconf.text(absent).splitlines()[:5])
                raise PushFailed(f"verify: lines missing after the push: {shown}")

    def save(self) -> None:
        with self.clock("save"):
            reply = str(self.conn.save_config())
            if re.search(self.d.error_pattern, reply, re.MULTILINE):
                raise PushFailed(f"save failed: {reply.strip()[-200:]}")

    def roll_back(self, backup: cliconf.Tree, rounds: int = 3) -> None:
        """Converge the running config back to the backup: push the delta, read
        back, and retry what is left with shorter negations (a device may refuse
        `no X args` yet accept `no X`), until equal or out of rounds."""
        self.out.rolled_back = False
        for trim in range(rounds + 1):
            running = read_running(self.conn, self.d)
            self.out.after = cliconf.clean_for_backup(running, self.d)
            current = cliconf.parse(running, self.d)
            if cliconf.same(current, backup, self.d):
                self.out.rolled_back = True
                return
            if trim == rounds:
                return
            commands = cliconf.rollback_commands(current, backup, self.d, trim=trim)
            self.out.rollback_commands += commands
            self.conn.send_config_set(commands)  # best effort: the read-back decides


def fetch_backup(target: Target) -> str:
    """The device's running config as stored in a backup (volatile lines dropped)."""
    with connection(target) as conn:
        return cliconf.clean_for_backup(read_running(conn, target.dialect), target.dialect)
