"""Where a check leaves from: the exporter's own process, or an agent in a twin namespace.

In the twin the machine reaches devices only over the management network, and
what matters for a user-path probe is the path itself (WAN link, firewall,
load balancer). So a check can run from a device: `AgentVantage` keeps one
`collectors.app.agent` process per vantage device, started with
`ip netns exec <device>`, and talks JSON lines to it. Inside a namespace the
lab is the whole world (the twin never routes out of the machine), so any lab
address may be contacted from there; from the exporter's own process the SNMP
exporter's rule applies (a lab address only over a connected route).

A broken vantage point (namespace gone, agent dead or frozen with its device)
answers every call with a failure result, and the agent is started again on a
later call: the collectors report it, nothing raises.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import os
import sys
import time
from abc import ABC, abstractmethod
from ipaddress import ip_address
from pathlib import Path
from typing import Any

from collectors.app.agent import LINE_LIMIT
from collectors.app.ops import Ops
from collectors.app.results import Result, failure
from collectors.safety import connected_networks, unsafe_reason
from emops.netaddr import LOOPBACK
from emops.topology.model import LAB_PREFIX

log = logging.getLogger("collectors.app.vantage")
ROOT = Path(__file__).resolve().parents[2]  # the repository: the agent imports from here
NETNS_DIR = Path("/run/netns")
GRACE_S = 1.0  # beyond a check's own timeout, for the pipe and the agent's scheduling
HOST = "host"  # the name of the exporter's own vantage point


class Vantage(ABC):
    """A place checks run from; `site` is the `site` label of what it measures."""

    def __init__(self, name: str, site: str, production: bool) -> None:
        self.name = name
        self.site = site
        self.production = production

    @abstractmethod
    def refuse(self, host: str) -> str | None:
        """The reason packets to `host` may not be sent from here, or None."""

    @abstractmethod
    async def _run(self, op: str, args: dict[str, Any], timeout: float) -> Result: ...

    async def call(self, op: str, args: dict[str, Any], timeout: float) -> Result:
        """Run check `op` with its own `timeout`; always returns a result."""
        try:
            async with asyncio.timeout(timeout + GRACE_S):
                return await self._run(op, {**args, "timeout": timeout}, timeout)
        except TimeoutError:
            return failure("timeout", f"{self.name} did not answer within {timeout:g} s")

    async def close(self) -> None:
        return None


class LocalVantage(Vantage):
    """Checks from the exporter's own process (the machine's namespace, or HQ in production)."""

    def __init__(self, site: str, production: bool, name: str = HOST) -> None:
        super().__init__(name, site, production)
        self._ops = Ops()
        self._routes: tuple[float, list] = (0.0, [])

    def refuse(self, host: str) -> str | None:
        now = time.monotonic()
        if now - self._routes[0] > 1.0:  # the route table, re-read at most once a second
            self._routes = (now, connected_networks())
        return unsafe_reason(host, self.production, self._routes[1])

    async def _run(self, op: str, args: dict[str, Any], timeout: float) -> Result:
        return await self._ops.run(op, args)

    async def close(self) -> None:
        await self._ops.close()


class AgentVantage(Vantage):
    """Checks from an agent process started with `argv_prefix` (e.g. `ip netns exec DEV`)."""

    def __init__(
        self,
        name: str,
        site: str,
        production: bool,
        argv_prefix: list[str],
        restart_after_s: float = 2.0,
    ) -> None:
        super().__init__(name, site, production)
        self.argv = [*argv_prefix, sys.executable, "-m", "collectors.app.agent"]
        self.restart_after_s = restart_after_s
        self._proc: asyncio.subprocess.Process | None = None
        self._reader: asyncio.Task | None = None
        self._pending: dict[int, asyncio.Future[Result]] = {}
        self._ids = itertools.count(1)
        self._started_at = -1e9
        self._starting = asyncio.Lock()

    def refuse(self, host: str) -> str | None:
        """Inside the twin any lab address is safe; elsewhere only with --production."""
        address = ip_address(host)
        if address in LOOPBACK or address in LAB_PREFIX or self.production:
            return None
        return "not_lab"

    def unavailable(self) -> Result | None:
        """Why the agent cannot run at all (checked before each start), or None."""
        return None

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None and self._proc.returncode is None else None

    async def _ensure(self) -> Result | None:
        """Start the agent if it is not running; a failure result if it cannot be."""
        async with self._starting:
            if self.pid is not None:
                return None
            problem = self.unavailable()
            if problem is not None:
                return problem
            if time.monotonic() - self._started_at < self.restart_after_s:
                return failure("agent", f"agent of {self.name} restarting")
            self._started_at = time.monotonic()
            env = {**os.environ, "PYTHONPATH": str(ROOT)}
            try:
                self._proc = await asyncio.create_subprocess_exec(
                    *self.argv,
                    stdin=asyncio.subprocess.PIPE,
                    stdout=asyncio.subprocess.PIPE,
                    cwd=ROOT,
                    env=env,
                    limit=LINE_LIMIT,
                    start_new_session=True,  # a terminal's Ctrl-C is the exporter's to handle
                )
            except OSError as exc:
                return failure("agent", f"cannot start agent of {self.name}: {exc}")
            self._reader = asyncio.create_task(self._read(self._proc))
            log.info("agent for %s started (pid %d)", self.name, self._proc.pid)
            return None

    async def _read(self, proc: asyncio.subprocess.Process) -> None:
        """Hand each answer to its caller; on EOF fail whatever is still waiting."""
        assert proc.stdout is not None
        try:
            while line := await proc.stdout.readline():
                with contextlib.suppress(ValueError, KeyError, TypeError):
                    answer = json.loads(line)
                    future = self._pending.pop(int(answer["id"]))
                    if not future.done():
                        future.set_result(dict(answer["result"]))
        except (ValueError, ConnectionError):  # a line beyond LINE_LIMIT, a broken pipe
            pass
        code = await proc.wait() if proc.returncode is None else proc.returncode
        if self._proc is proc:  # not closed by us: worth a line in the log
            log.warning("agent for %s exited (%s)", self.name, code)
        for future in self._pending.values():
            if not future.done():
                future.set_result(failure("agent", f"agent of {self.name} exited ({code})"))
        self._pending.clear()

    async def _run(self, op: str, args: dict[str, Any], timeout: float) -> Result:
        problem = await self._ensure()
        if problem is not None:
            return problem
        proc = self._proc
        assert proc is not None and proc.stdin is not None
        request_id = next(self._ids)
        future: asyncio.Future[Result] = asyncio.get_running_loop().create_future()
        self._pending[request_id] = future
        request = {"id": request_id, "op": op, "args": args}
        try:
            proc.stdin.write(json.dumps(request, separators=(",", ":")).encode() + b"\n")
            await proc.stdin.drain()
            return await future
        except ConnectionError:
            return failure("agent", f"agent of {self.name} is gone")
        finally:
            self._pending.pop(request_id, None)

    async def close(self) -> None:
        """Close the agent's stdin (it exits on EOF); kill it if it does not."""
        proc, self._proc = self._proc, None
        self._started_at = -1e9  # closed on purpose: the next call may start it at once
        if proc is None:
            return
        if proc.stdin is not None:
            proc.stdin.close()
        try:
            await asyncio.wait_for(proc.wait(), 3.0)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()  # our own child, by its pid
            await proc.wait()
        if self._reader is not None:
            await self._reader


class NamespaceVantage(AgentVantage):
    """An agent inside the twin device `netns` (the device's network namespace)."""

    def __init__(self, netns: str, site: str, production: bool = False) -> None:
        super().__init__(netns, site, production, ["ip", "netns", "exec", netns])
        self.netns = netns

    def unavailable(self) -> Result | None:
        if not (NETNS_DIR / self.netns).exists():
            return failure("no_netns", f"no network namespace {self.netns!r} (is the twin up?)")
        return None
