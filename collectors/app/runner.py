"""One collection round of every application check, repeated each interval.

Every check runs under its own timeout inside one bound on checks in flight, so
a dead, slow or frozen target costs only its own slot; its failure becomes a 0
and a reason in the store. Probes are grouped by vantage point: VIP probes from
each `--probe-from` device, server probes from wherever direct checks run.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from collectors.app.results import Result, failure
from collectors.app.store import Store
from collectors.app.targets import AppPlan, HttpTarget
from collectors.app.vantage import Vantage
from collectors.app.vrrp import AddressSource, VrrpReadError

log = logging.getLogger("collectors.app.runner")
VANTAGE_REASONS = ("agent", "no_netns")  # the vantage point is broken, not the target


@dataclass
class ProbeJob:
    """The probes one vantage point runs each round."""

    vantage: Vantage
    targets: list[HttpTarget]


class AppRunner:
    """Runs the plan's checks from their vantage points and writes results to `store`."""

    def __init__(
        self,
        plan: AppPlan,
        store: Store,
        probe_from: list[Vantage],
        direct: Callable[[str], Vantage],
        addresses: AddressSource | None,
        timeout: float,
        customer_id: int = 1,
        max_in_flight: int = 32,
    ) -> None:
        self.plan = plan
        self.store = store
        self.direct = direct
        self.addresses = addresses
        self.timeout = timeout
        self.customer_id = customer_id
        self._slots = asyncio.Semaphore(max_in_flight)
        self.jobs: dict[str, ProbeJob] = {}
        for vantage in probe_from:
            self._job(vantage).targets.extend(plan.vip_probes)
        for target in plan.server_probes:
            self._job(direct(target.owner)).targets.append(target)

    def _job(self, vantage: Vantage) -> ProbeJob:
        return self.jobs.setdefault(vantage.name, ProbeJob(vantage, []))

    @property
    def vantages(self) -> list[Vantage]:
        seen = {job.vantage.name: job.vantage for job in self.jobs.values()}
        devices = [t.owner for t in (*self.plan.stats, *self.plan.services)]
        devices += [t.device for t in self.plan.postgres]
        for device in devices:
            vantage = self.direct(device)
            seen.setdefault(vantage.name, vantage)
        return list(seen.values())

    async def _call(self, vantage: Vantage, host: str, op: str, args: dict) -> tuple[Result, float]:
        """One check, refused without sending if the safety rules say so; (result, wall s)."""
        reason = vantage.refuse(host)
        if reason is not None:
            return failure(reason, f"{host} from {vantage.name}"), 0.0
        async with self._slots:
            started = time.perf_counter()
            result = await vantage.call(op, args, self.timeout)
            return result, time.perf_counter() - started

    async def _probe(self, job: ProbeJob, target: HttpTarget) -> Result:
        args = {"url": target.url, "customer_id": self.customer_id}
        result, _ = await self._call(job.vantage, target.host, "probe", args)
        self.store.record_probe((target.service, target.target, job.vantage.site), result)
        return result

    async def _probe_job(self, job: ProbeJob) -> None:
        started = time.perf_counter()
        results = await asyncio.gather(*(self._probe(job, t) for t in job.targets))
        reasons = [r["error"] for r in results if not r.get("ok")]
        up = not any(r in VANTAGE_REASONS for r in reasons)
        self.store.record_health(
            "probe", job.vantage.name, up, reasons, time.perf_counter() - started
        )

    async def _stats(self, target: HttpTarget) -> None:
        device = target.owner
        result, took = await self._call(
            self.direct(device), target.host, "stats", {"url": target.url}
        )
        self.store.record_marketing(device, result)
        self._health("marketing", device, result, took)

    async def _service(self, target: HttpTarget) -> None:
        """The server's own service, from the server itself: a failed GET is the
        measurement; only a broken vantage point leaves the service unknown."""
        device = target.owner
        result, took = await self._call(
            self.direct(device), target.host, "service", {"url": target.url}
        )
        broken = result.get("error") in VANTAGE_REASONS
        self.store.record_service((target.service, device), None if broken else result)
        reasons = [str(result["error"])] if broken else []
        self.store.record_health("service", device, not broken, reasons, took)

    async def _postgres(self, device: str, host: str, args: dict) -> None:
        result, took = await self._call(self.direct(device), host, "postgres", args)
        self.store.record_postgres(device, result)
        self._health("postgres", device, result, took)

    async def _vrrp(self, device: str) -> None:
        assert self.addresses is not None
        started = time.perf_counter()
        try:
            async with self._slots:
                held = await self.addresses.held(device, self.timeout)
            result: Result = {"ok": True}
        except VrrpReadError as exc:
            held, result = None, failure(exc.reason, str(exc))
        self.store.record_held(device, held)
        self._health("vrrp", device, result, time.perf_counter() - started)

    def _health(self, collector: str, target: str, result: Result, took: float) -> None:
        ok = bool(result.get("ok"))
        if not ok:
            log.debug("%s %s: %s %s", collector, target, result.get("error"), result.get("detail"))
        reasons = [] if ok else [str(result.get("error"))]
        self.store.record_health(collector, target, ok, reasons, took)

    async def collect_once(self) -> None:
        """One round of everything; returns when every check has answered or timed out."""
        checks: list[Awaitable[None]] = [self._probe_job(job) for job in self.jobs.values()]
        checks += [self._stats(t) for t in self.plan.stats]
        checks += [self._service(t) for t in self.plan.services]
        checks += [self._postgres(t.device, t.host, t.connect_args()) for t in self.plan.postgres]
        if self.addresses is not None:
            devices = sorted({d for v in self.plan.vrrp for d in v.devices})
            checks += [self._vrrp(d) for d in devices]
        for outcome in await asyncio.gather(*checks, return_exceptions=True):
            if isinstance(outcome, Exception):  # a bug, not a target's failure: keep serving
                log.error("check failed", exc_info=outcome)

    async def run(self, interval: float, stop: asyncio.Event) -> None:
        """Rounds every `interval` seconds until `stop` is set."""
        while not stop.is_set():
            started = time.monotonic()
            await self.collect_once()
            wait = max(0.0, interval - (time.monotonic() - started))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), wait)

    async def close(self) -> None:
        await asyncio.gather(*(v.close() for v in self.vantages))
