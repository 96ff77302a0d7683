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
from collections.abc import Callable, Iterable, Mapping, Set
from dataclasses import dataclass, field, replace
from typing import Literal

from collectors.snmp import ber
from collectors.snmp.oids import (
    HR_STORAGE_RAM,
    INTERFACES,
    INTERFACES_HC,
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
)
from collectors.snmp.usm_session import UsmSession
from collectors.snmp.walk import (
    DEFAULT_LIMITS,
    Columns,
    RowMemory,
    WalkLimits,
    WalkResult,
    walk_empty_tables,
    walk_table,
)

log = logging.getLogger(__name__)
# profile table -> its walk, or why it gave nothing this poll (profile_malformed,
# profile_error): a reason for emops_snmp_errors_total, never the device's failure
Walked = dict[str, WalkResult | str]
TABLE_REASONS = {"malformed": "profile_malformed", "pdu_error": "profile_error"}
DEADLINE_GRACE = 0.05  # s: the backstop behind the walks' own deadline checks
SPEED_CEILING = (1 << 32) - 1  # ifSpeed's "faster than I can say": read ifHighSpeed
BLANK = " \t\x00"  # an ifName of only these is no name
Row = tuple[int, str]  # an interface across polls: ifIndex and name


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
    """One IF-MIB row. `in_octets`/`out_octets` are ifHCIn/OutOctets, else (no 64-bit
    counter in the row) ifIn/OutOctets; `counter_bits` says which: 64, 32, or None."""

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
    high_speed_mbps: int | None = None  # ifHighSpeed
    speed_bps: int | None = None  # ifSpeed
    counter_bits: int | None = None

    @property
    def speed_bits_per_second(self) -> int | None:
        """ifSpeed where it is exact and agrees with ifHighSpeed (a 2,048 kbit/s E1 reads
        ifHighSpeed 2, a 64 kbit/s line 0), else ifHighSpeed x 10^6 (faster than ifSpeed's
        2^32-1 ceiling, or an agent whose ifSpeed wrapped), else ifSpeed."""
        high, low = self.high_speed_mbps, self.speed_bps
        if high is None:
            return low
        if low is not None and low < SPEED_CEILING and (low + 500_000) // 1_000_000 == high:
            return low  # IF-MIB: ifHighSpeed n means n-500,000 .. n+499,999 bit/s
        return high * 1_000_000


@dataclass
class CounterMemory:
    """Per device, across polls: the rows (ifIndex and name) whose octet counters were
    64-bit since its last reboot. Such a row never falls back to its 32-bit counter (an
    agent that misses ifHCInOctets once would read as a counter reset, then a jump of the
    whole 64-bit value); it is left out for that poll instead. An ifIndex reused for
    another interface (a new name) starts afresh. `need_32` is False while every row
    has 64-bit counters: the 32-bit columns are then not walked at all."""

    wide: set[Row] = field(default_factory=set)
    uptime_s: float | None = None
    need_32: bool = True

    def update(self, uptime_s: float | None) -> None:
        """Forget the rows after a reboot (sysUpTime went back): ifIndexes may be renumbered."""
        if uptime_s is not None and self.uptime_s is not None and uptime_s < self.uptime_s:
            self.wide.clear()
            self.need_32 = True
        self.uptime_s = uptime_s

    def learn(self, interfaces: Iterable[InterfaceSample]) -> None:
        """Remember this poll's 64-bit rows; walk the 32-bit columns next time only if
        some other row has no 64-bit counters."""
        rows = list(interfaces)
        self.wide.update((i.index, i.name) for i in rows if i.counter_bits == 64)
        self.need_32 = any(
            i.counter_bits != 64 and (i.index, i.name) not in self.wide for i in rows
        )


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


def interface_name(index: int, name: object, descr: object) -> str:
    """ifName, else ifDescr, else "ifIndex N": blank or NUL-padded text counts as none."""
    for value in (name, descr):
        text = _text(value)
        if text.strip(BLANK):
            return text
    return f"ifIndex {index}"


def _octets(
    row: Mapping[str, object], key: Row, wide: Set[Row]
) -> tuple[object, object, int | None]:
    """(in, out, bits): the 64-bit counters where the row has any, else the 32-bit ones,
    unless the row had 64-bit ones before (then none this poll)."""
    hc_in, hc_out = row.get("hc_in_octets"), row.get("hc_out_octets")
    if hc_in is not None or hc_out is not None:
        return hc_in, hc_out, 64
    low_in, low_out = row.get("in_octets"), row.get("out_octets")
    if key in wide or (low_in is None and low_out is None):
        return None, None, None
    return low_in, low_out, 32


def interfaces_from(columns: Columns, wide: Set[Row] = frozenset()) -> tuple[InterfaceSample, ...]:
    """Rows of ifTable+ifXTable; a missing cell (or column) is None, a row needs only an
    index. `wide`: (ifIndex, name) of rows whose octet counters were 64-bit before."""
    indexes = sorted({i for col in columns.values() for i in col})
    out = []
    for index in indexes:
        row = {column: cells.get(index) for column, cells in columns.items()}
        name = interface_name(index[0], row.get("name"), row.get("descr"))
        in_octets, out_octets, bits = _octets(row, (index[0], name), wide)
        out.append(
            InterfaceSample(
                index=index[0],
                name=name,
                in_octets=_int(in_octets),
                out_octets=_int(out_octets),
                in_errors=_int(row.get("in_errors")),
                out_errors=_int(row.get("out_errors")),
                in_discards=_int(row.get("in_discards")),
                out_discards=_int(row.get("out_discards")),
                oper_status=_int(row.get("oper_status")),
                admin_status=_int(row.get("admin_status")),
                high_speed_mbps=_int(row.get("high_speed")),
                speed_bps=_int(row.get("speed")),
                counter_bits=bits,
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
        self._counters: dict[str, CounterMemory] = {}
        self._slots: asyncio.Semaphore | None = None

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
                session = UsmSession(
                    target.host, target.port, target.usm, self.timeout, self.retries
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
        counters = self._counters.setdefault(target.device, CounterMemory())
        if_table = INTERFACES if counters.need_32 else INTERFACES_HC
        try:  # the tables at once; the first failure cancels the rest
            async with asyncio.TaskGroup() as group:
                ifs_task = group.create_task(
                    walk_table(session, if_table, memory, m, scalars, limits)
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
        # every value was held to its column's MIB syntax as the walk kept it (walk.py)
        ifs, storage, cpu = ifs_task.result(), storage_task.result(), cpu_task.result()
        uptime = uptime_from(ifs.scalars)
        size, used = memory_from(storage.columns)
        sys_object_id = sys_object_id_from(ifs.scalars)
        chosen = self.profiles.select(sys_object_id, target.platform)
        if chosen is not profile:  # first poll, or a new sysObjectID (device swapped, re-imaged)
            self._profile[target.device] = chosen
            extra = await self._walk_profile(target, chosen, session, memory, limits)
        walked, extra_values = self._checked(session, extra)
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
            interfaces=self._interfaces(counters, chosen, ifs.columns, uptime),
            profile=chosen.name,
            sys_object_id=sys_object_id,
            profile_samples=tuple(found),
            profile_missing=tuple(missing),
            oids=ifs.values + storage.values + cpu.values + extra_values,
            packets_total=stats.packets,
            retries_total=stats.retries,
            errors_total=dict(stats.errors),
        )

    @staticmethod
    def _interfaces(
        counters: CounterMemory, profile: Profile, columns: Columns, uptime: float | None
    ) -> tuple[InterfaceSample, ...]:
        """The IF-MIB rows to export: octets of the right width, the profile's
        `interfaces.exclude` names (NULL0, InLoopBack0...) left out."""
        counters.update(uptime)
        kept = tuple(
            ifc
            for ifc in interfaces_from(columns, counters.wide)
            if not any(pattern.search(ifc.name) for pattern in profile.interface_exclude)
        )
        counters.learn(kept)
        return kept

    def _profile_walks(
        self,
        group: asyncio.TaskGroup,
        target: Target,
        profile: Profile | None,
        session: Session,
        memory: RowMemory,
        limits: WalkLimits,
    ) -> list[asyncio.Task[Walked]]:
        """The profile's tables, walked alongside the built-in ones (known profile); those
        that had no rows last poll asked together in one request."""
        if profile is None:
            return []
        tables = profile.tables
        empty = {k: t for k, t in tables.items() if memory.rows.get(t.name) == 0}
        if len(empty) < 2:
            empty = {}
        tasks = [
            group.create_task(self._walk_own(target, session, {key: table}, memory, limits))
            for key, table in tables.items()
            if key not in empty
        ]
        if empty:
            tasks.append(group.create_task(self._walk_own(target, session, empty, memory, limits)))
        return tasks

    async def _walk_own(
        self,
        target: Target,
        session: Session,
        tables: Mapping[str, Table],
        memory: RowMemory,
        limits: WalkLimits,
    ) -> Walked:
        """Profile tables (one, or several empty last poll, in one walk). A table whose
        values do not fit its MIB (a value out of range, a bad index), or that the agent
        answers with an error status (a vendor subagent behind snmpd's AgentX that did not
        answer in time gives genErr), gives its reason instead of its walk: that costs only
        this table, not the device's poll, so a joint walk that meets one is done again
        table by table."""
        m = self.max_repetitions
        try:
            if len(tables) > 1:
                return await walk_empty_tables(session, tables, memory, m, limits, any_index=True)
            (key, table), *_ = tables.items()
            return {key: await walk_table(session, table, memory, m, limits=limits, any_index=True)}
        except SnmpError as exc:
            if exc.reason not in TABLE_REASONS:
                raise
            if len(tables) > 1:
                out: Walked = {}
                for key, table in tables.items():
                    out.update(await self._walk_own(target, session, {key: table}, memory, limits))
                return out
            log.warning("%s: %s answer: %s", target.device, exc.reason, _detail(exc))
            return dict.fromkeys(tables, TABLE_REASONS[exc.reason])

    async def _walk_profile(
        self,
        target: Target,
        profile: Profile,
        session: Session,
        memory: RowMemory,
        limits: WalkLimits,
    ) -> list[asyncio.Task[Walked]]:
        """The profile's tables after the fact: first poll of a device, or a new profile."""
        try:
            async with asyncio.TaskGroup() as group:
                tasks = self._profile_walks(group, target, profile, session, memory, limits)
        except BaseExceptionGroup as errors:
            raise _first(errors) from None
        return tasks

    @staticmethod
    def _checked(
        session: Session, tasks: Iterable[asyncio.Task[Walked]]
    ) -> tuple[dict[str, Columns], int]:
        """(table -> columns, values) of the profile's walks. A table that gave a reason
        instead (`_walk_own`) costs only that table: the reason is counted, its metrics are
        then reported missing; the device's other data stays."""
        walked: dict[str, Columns] = {}
        values = 0
        for task in tasks:
            for name, result in task.result().items():  # values held to their MIB as walked
                if isinstance(result, str):
                    session.stats.error(result)
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
        assert self._slots is not None
        async with self._slots:
            return await self.poll_target(target)

    async def poll_all(self) -> list[PollResult]:
        """One round over every target, at most `max_in_flight` at a time."""
        if self._slots is None:
            self._slots = asyncio.Semaphore(self.max_in_flight)
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
