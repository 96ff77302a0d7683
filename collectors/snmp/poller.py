"""Poll every target concurrently; keep the latest result of each.

Each target is polled under its own deadline, inside a bound on how many are
in flight, and its failure is its own: a dead, slow or garbage-answering agent
gives `up=False` with a reason for that target and never holds up the others
beyond its slot. Results are immutable and replace the previous one per
target, so a scrape reads a consistent snapshot without locks.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Literal

from collectors.snmp import ber
from collectors.snmp.oids import (
    HR_STORAGE_RAM,
    INTERFACES,
    PROCESSORS,
    STORAGE,
    SYS_OBJECT_ID,
    SYS_UPTIME,
    TIMETICKS,
    Table,
)
from collectors.snmp.profiles import (
    BUILTIN,
    Profile,
    ProfileSample,
    ProfileSet,
    load_profiles,
    samples,
)
from collectors.snmp.session import (
    RequestStats,
    Session,
    SnmpError,
    UsmCredentials,
    V2cSession,
    V3Engine,
    V3Session,
)
from collectors.snmp.walk import (
    DEFAULT_LIMITS,
    Columns,
    RowMemory,
    WalkLimits,
    WalkResult,
    walk_table,
)

log = logging.getLogger(__name__)
DEADLINE_GRACE = 0.05  # s: the backstop behind the walks' own deadline checks


@dataclass(frozen=True)
class Target:
    """One device to poll, with the inventory labels its metrics carry."""

    device: str
    host: str
    port: int = 161
    version: Literal["2c", "3"] = "3"
    community: str = field(default="", repr=False)
    usm: UsmCredentials | None = None
    site: str = ""
    role: str = ""
    platform: str = ""  # the inventory's hint for the device profile


@dataclass(frozen=True)
class InterfaceSample:
    index: int
    name: str
    in_octets: int | None = None
    out_octets: int | None = None
    in_errors: int | None = None
    out_errors: int | None = None
    in_discards: int | None = None
    out_discards: int | None = None
    oper_status: int | None = None
    admin_status: int | None = None
    high_speed_mbps: int | None = None


@dataclass(frozen=True)
class PollResult:
    """One poll of one target. On failure only the self-report fields are set."""

    target: Target
    up: bool
    duration_s: float
    reason: str = ""  # why not up
    uptime_s: float | None = None
    cpu_load_ratio: float | None = None
    memory_size_bytes: int | None = None
    memory_used_bytes: int | None = None
    interfaces: tuple[InterfaceSample, ...] = ()
    profile: str = ""  # the device profile used (collectors/profiles/)
    sys_object_id: bytes | None = None
    profile_samples: tuple[ProfileSample, ...] = ()
    profile_missing: tuple[str, ...] = ()  # groups the profile promises that gave nothing
    oids: int = 0  # values read (table cells and scalars)
    packets_total: int = 0
    retries_total: int = 0
    errors_total: Mapping[str, int] = field(default_factory=dict)


def _text(value: object) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else ""


def _int(value: object) -> int | None:
    return value if isinstance(value, int) else None


def interfaces_from(columns: Columns) -> tuple[InterfaceSample, ...]:
    """Rows of ifTable+ifXTable; a missing cell is None, a row needs only an index."""
    indexes = sorted({i for col in columns.values() for i in col})
    out = []
    for index in indexes:
        name = _text(columns["name"].get(index)) or _text(columns["descr"].get(index))
        out.append(
            InterfaceSample(
                index=index[0],
                name=name or f"ifIndex{index[0]}",
                in_octets=_int(columns["hc_in_octets"].get(index)),
                out_octets=_int(columns["hc_out_octets"].get(index)),
                in_errors=_int(columns["in_errors"].get(index)),
                out_errors=_int(columns["out_errors"].get(index)),
                in_discards=_int(columns["in_discards"].get(index)),
                out_discards=_int(columns["out_discards"].get(index)),
                oper_status=_int(columns["oper_status"].get(index)),
                admin_status=_int(columns["admin_status"].get(index)),
                high_speed_mbps=_int(columns["high_speed"].get(index)),
            )
        )
    return tuple(out)


def memory_from(columns: Columns) -> tuple[int | None, int | None]:
    """(size, used) bytes summed over hrStorageRam rows, or (None, None)."""
    size = used = 0
    found = False
    for index, kind in columns["type"].items():
        units = _int(columns["units"].get(index))
        if kind != HR_STORAGE_RAM or not units:
            continue
        found = True
        size += (_int(columns["size"].get(index)) or 0) * units
        used += (_int(columns["used"].get(index)) or 0) * units
    return (size, used) if found else (None, None)


def cpu_from(columns: Columns) -> float | None:
    loads = [v for v in columns["load"].values() if isinstance(v, int)]
    return sum(loads) / len(loads) / 100.0 if loads else None


def uptime_from(scalars: list[ber.VarBind]) -> float | None:
    """sysUpTime.0 in seconds; MalformedPacket if it is not a TimeTicks."""
    uptime = None
    for oid, value in scalars:
        if oid.startswith(SYS_UPTIME) and not isinstance(value, ber.NoValue):
            why = TIMETICKS.misfit(value)
            if why is not None:
                raise ber.MalformedPacket(f"sysUpTime: {why}")
            uptime = value / 100.0 if isinstance(value, int) else None
    return uptime


def sys_object_id_from(scalars: list[ber.VarBind]) -> bytes | None:
    """sysObjectID.0 (encoded OID), or None when absent or not an OID."""
    for oid, value in scalars:
        if oid.startswith(SYS_OBJECT_ID) and isinstance(value, bytes):
            return value
    return None


def _detail(exc: Exception) -> str:
    return exc.detail if isinstance(exc, SnmpError) and exc.detail else str(exc)


def _first(errors: BaseExceptionGroup) -> BaseException:
    """The SnmpError inside a task group's failure, else the first failure."""
    snmp = errors.subgroup(SnmpError)
    leaf: BaseException = (snmp or errors).exceptions[0]
    while isinstance(leaf, BaseExceptionGroup):
        leaf = leaf.exceptions[0]
    return leaf


class Poller:
    """Polls `targets`; `results` holds the latest `PollResult` per device."""

    def __init__(
        self,
        targets: Iterable[Target],
        *,
        timeout: float = 1.0,
        retries: int = 2,
        deadline: float = 10.0,
        max_in_flight: int = 64,
        max_repetitions: int = 25,
        max_v3_in_flight: int = 16,
        guard: Callable[[Target], str | None] | None = None,
        limits: WalkLimits = DEFAULT_LIMITS,
        profiles: ProfileSet | None = None,
    ) -> None:
        self.targets = {t.device: t for t in targets}
        self.guard = guard  # a reason not to send to this target now, or None
        self.timeout = timeout
        self.retries = retries
        self.deadline = deadline
        self.limits = limits  # caps per table walk; the deadline is set per poll
        self.max_in_flight = max_in_flight
        self.max_repetitions = max_repetitions
        self.results: dict[str, PollResult] = {}
        self.profiles = profiles or load_profiles()
        self._profile: dict[str, Profile] = {}  # device -> profile of its last poll
        self._sessions: dict[str, Session] = {}
        self._memory: dict[str, RowMemory] = {}
        self._v3: dict[UsmCredentials, V3Engine] = {}  # pysnmp keys users by name
        self._slots: asyncio.Semaphore | None = None
        # pysnmp spends ~80 us of CPU per OID: more v3 targets at once only queue
        # answers past their timeout
        self.max_v3_in_flight = max_v3_in_flight
        self._v3_slots: asyncio.Semaphore | None = None

    def _session(self, target: Target) -> Session:
        session = self._sessions.get(target.device)
        if session is None:
            if target.version == "2c":
                session = V2cSession(
                    target.host, target.port, target.community, self.timeout, self.retries
                )
            else:
                if target.usm is None:
                    raise ValueError(f"{target.device}: SNMPv3 target without credentials")
                # one engine per credential set: pysnmp's user table holds one
                # key per user name, so differing passwords would overwrite each other
                engine = self._v3.get(target.usm)
                if engine is None:
                    engine = self._v3[target.usm] = V3Engine()
                session = V3Session(
                    engine, target.host, target.port, target.usm, self.timeout, self.retries
                )
            self._sessions[target.device] = session
        return session

    async def poll_target(self, target: Target) -> PollResult:
        """Poll one target under the deadline; never raises for agent trouble."""
        refusal = self.guard(target) if self.guard else None
        if refusal:
            result = PollResult(target, up=False, duration_s=0.0, reason=refusal)
            self.results[target.device] = result
            return result
        session = self._session(target)
        memory = self._memory.setdefault(target.device, RowMemory())
        started = time.monotonic()
        deadline = asyncio.get_running_loop().time() + self.deadline
        limits = replace(self.limits, deadline=deadline)
        try:
            async with asyncio.timeout_at(deadline + DEADLINE_GRACE):
                result = await self._walk_all(target, session, memory, started, limits)
        except (SnmpError, ber.MalformedPacket) as exc:  # MalformedPacket: a value, an index
            reason = exc.reason if isinstance(exc, SnmpError) else "malformed"
            if reason == "malformed":  # the agent's fault, said once per poll, no traceback
                log.warning("%s: malformed answer: %s", target.device, _detail(exc))
            result = self._failed(target, session, started, reason)
        except TimeoutError:
            result = self._failed(target, session, started, "deadline")
        except Exception:  # a bug must cost one target's poll, not the exporter
            log.exception("polling %s failed", target.device)
            result = self._failed(target, session, started, "internal")
        self.results[target.device] = result
        return result

    async def _walk_all(
        self,
        target: Target,
        session: Session,
        memory: RowMemory,
        started: float,
        limits: WalkLimits,
    ) -> PollResult:
        m = self.max_repetitions
        scalars = (SYS_UPTIME, SYS_OBJECT_ID)
        profile = self._profile.get(target.device)
        try:  # the tables at once; the first failure cancels the rest
            async with asyncio.TaskGroup() as group:
                ifs_task = group.create_task(
                    walk_table(session, INTERFACES, memory, m, scalars, limits)
                )
                extra = self._profile_walks(group, target, profile, session, memory, limits)
                storage_task = group.create_task(
                    walk_table(session, STORAGE, memory, m, limits=limits)
                )
                cpu_task = group.create_task(
                    walk_table(session, PROCESSORS, memory, m, limits=limits)
                )
        except BaseExceptionGroup as errors:
            raise _first(errors) from None
        ifs, storage, cpu = ifs_task.result(), storage_task.result(), cpu_task.result()
        for table, walked in ((INTERFACES, ifs), (STORAGE, storage), (PROCESSORS, cpu)):
            table.check(walked.columns)  # nothing out of its MIB's range becomes a metric
        uptime = uptime_from(ifs.scalars)
        size, used = memory_from(storage.columns)
        sys_object_id = sys_object_id_from(ifs.scalars)
        chosen = self.profiles.select(sys_object_id, target.platform)
        if chosen is not profile:  # first poll, or a new sysObjectID (device swapped, re-imaged)
            self._profile[target.device] = chosen
            extra = await self._walk_profile(target, chosen, session, memory, limits)
        walked, extra_values = self._checked(target, session, chosen, extra)
        found, missing = samples(chosen, {**walked, BUILTIN: ifs.columns})  # ifName labels
        stats = session.stats
        return PollResult(
            target=target,
            up=True,
            duration_s=time.monotonic() - started,
            uptime_s=uptime,
            cpu_load_ratio=cpu_from(cpu.columns),
            memory_size_bytes=size,
            memory_used_bytes=used,
            interfaces=interfaces_from(ifs.columns),
            profile=chosen.name,
            sys_object_id=sys_object_id,
            profile_samples=tuple(found),
            profile_missing=tuple(missing),
            oids=ifs.values + storage.values + cpu.values + extra_values,
            packets_total=stats.packets,
            retries_total=stats.retries,
            errors_total=dict(stats.errors),
        )

    def _profile_walks(
        self,
        group: asyncio.TaskGroup,
        target: Target,
        profile: Profile | None,
        session: Session,
        memory: RowMemory,
        limits: WalkLimits,
    ) -> dict[str, asyncio.Task[WalkResult | None]]:
        """The profile's tables, walked alongside the built-in ones (known profile)."""
        if profile is None:
            return {}
        return {
            name: group.create_task(self._walk_own(target, session, table, memory, limits))
            for name, table in profile.tables.items()
        }

    async def _walk_own(
        self, target: Target, session: Session, table: Table, memory: RowMemory, limits: WalkLimits
    ) -> WalkResult | None:
        """One profile table; None when its values do not fit its MIB (a value out of
        range, a bad index): that costs only this table, not the device's poll."""
        try:
            return await walk_table(session, table, memory, self.max_repetitions, limits=limits)
        except SnmpError as exc:
            if exc.reason != "malformed":
                raise
            log.warning("%s: malformed answer: %s", target.device, _detail(exc))
            return None

    async def _walk_profile(
        self,
        target: Target,
        profile: Profile,
        session: Session,
        memory: RowMemory,
        limits: WalkLimits,
    ) -> dict[str, asyncio.Task[WalkResult | None]]:
        """The profile's tables after the fact: first poll of a device, or a new profile."""
        try:
            async with asyncio.TaskGroup() as group:
                tasks = self._profile_walks(group, target, profile, session, memory, limits)
        except BaseExceptionGroup as errors:
            raise _first(errors) from None
        return tasks

    @staticmethod
    def _checked(
        target: Target,
        session: Session,
        profile: Profile,
        tasks: Mapping[str, asyncio.Task[WalkResult | None]],
    ) -> tuple[dict[str, Columns], int]:
        """(table -> columns, values) of the profile's walks. A table whose values do not
        fit their MIB costs only that table: counted as `profile_malformed`, its metrics
        then reported missing; the device's other data stays."""
        walked: dict[str, Columns] = {}
        values = 0
        for name, task in tasks.items():
            result = task.result()
            if result is not None:
                try:
                    profile.tables[name].check(result.columns)
                except ber.MalformedPacket as exc:
                    log.warning("%s: %s", target.device, exc)
                    result = None
            if result is None:
                session.stats.error("profile_malformed")
                continue
            walked[name] = result.columns
            values += result.values
        return walked, values

    def _failed(self, target: Target, session: Session, started: float, reason: str) -> PollResult:
        stats: RequestStats = session.stats
        stats.error(reason)
        if reason in ("malformed", "socket"):
            session.close()  # start the next poll on a fresh socket
        return PollResult(
            target=target,
            up=False,
            duration_s=time.monotonic() - started,
            reason=reason,
            packets_total=stats.packets,
            retries_total=stats.retries,
            errors_total=dict(stats.errors),
        )

    async def _poll_in_slot(self, target: Target) -> PollResult:
        assert self._slots is not None and self._v3_slots is not None
        if target.version != "3":
            async with self._slots:
                return await self.poll_target(target)
        async with self._v3_slots, self._slots:  # wait for v3 room before taking a slot
            return await self.poll_target(target)

    async def poll_all(self) -> list[PollResult]:
        """One round over every target, at most `max_in_flight` at a time."""
        if self._slots is None or self._v3_slots is None:
            self._slots = asyncio.Semaphore(self.max_in_flight)
            self._v3_slots = asyncio.Semaphore(self.max_v3_in_flight)
        return list(await asyncio.gather(*(self._poll_in_slot(t) for t in self.targets.values())))

    async def run(self, interval: float, stop: asyncio.Event) -> None:
        """Poll every `interval` seconds until `stop` is set; an overrunning
        round delays the next one rather than overlapping it."""
        while not stop.is_set():
            began = time.monotonic()
            await self.poll_all()
            wait = max(0.0, interval - (time.monotonic() - began))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), wait)

    def close(self) -> None:
        for session in self._sessions.values():
            session.close()
        self._sessions.clear()
        for engine in self._v3.values():
            engine.close()
        self._v3.clear()
