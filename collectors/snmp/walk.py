"""Multi-column GETBULK walks: every column of a table in each request.

One request asks for the next `r` rows of all unfinished columns at once, so a
30-interface device with 11 columns costs two PDUs instead of 11 walks. The
repetition count adapts to the row count seen on the previous poll (rows + 1,
to see the end in the same answer), which keeps agents from computing rows
past the table that would only be thrown away.

Columns end independently (a column that leaves its prefix, endOfMibView);
missing rows and columns are simply absent from the result.

The built-in tables are indexed by one Integer32 (ifIndex, hrStorageIndex...), and
any other index there is `malformed`. A device profile's table may have any index
(`any_index`): VRRP rows are ifIndex.vrid, OSPF neighbours an IP address and an
integer, Huawei fans slot.serial; it is kept as its tuple of sub-identifiers.

An agent decides how much a walk costs, so each walk is bounded (`WalkLimits`):
rows per table, GETBULK requests and bytes of values kept end it with reason
`too_large`, the target's absolute deadline with `deadline`. A walk that goes
backwards, repeats itself or stalls, or a value outside its column's MIB syntax,
is `malformed` at once.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from collectors.snmp import ber
from collectors.snmp.oids import Syntax, Table
from collectors.snmp.session import Session, SnmpError, remaining

Index = tuple[int, ...]
Columns = dict[str, dict[Index, object]]  # column name -> index -> value
MAX_INDEX = (1 << 31) - 1  # a built-in table's index: one Integer32 (1..2^31-1)


@dataclass(frozen=True)
class WalkLimits:
    """Caps on one table walk; `deadline` is the target's (event-loop time), shared by
    its walks. Defaults: a 2,000-interface chassis fits; a hostile agent costs at most
    about 1 MiB of values plus a few MB of Python objects per walk."""

    max_rows: int = 2_000
    max_rounds: int = 500  # GETBULK requests (>= max_rows / 4: room for small answers)
    max_bytes: int = 1 << 20  # OID + value octets kept, as on the wire
    deadline: float | None = None


DEFAULT_LIMITS = WalkLimits()


@dataclass
class WalkResult:
    columns: Columns
    scalars: list[ber.VarBind]
    values: int  # values kept (table cells and scalars): the OIDs a benchmark counts
    requests: int


@dataclass
class RowMemory:
    """Rows each table had last time, per target: the next poll's repetitions."""

    rows: dict[str, int] = field(default_factory=dict)


def _index(oid: bytes, prefix_len: int, any_index: bool = False) -> Index:
    """The row index after a column prefix; `malformed` unless one Integer32 arc (or,
    with `any_index`, any well-formed sub-identifiers)."""
    suffix = oid[prefix_len:]
    if len(suffix) == 1 and 0 < suffix[0] < 0x80:  # the common single small index
        return (suffix[0],)
    try:
        index = ber.decode_arcs(suffix)
    except ber.MalformedPacket as exc:
        raise SnmpError("malformed", str(exc)) from None
    if any_index and index:
        return index
    if len(index) != 1 or not 0 < index[0] <= MAX_INDEX:
        raise SnmpError("malformed", f"bad index {index!r:.60}")
    return index


def _size(value: object) -> int:
    """Octets a value takes on the wire, near enough for a budget."""
    if isinstance(value, bytes):
        return len(value)
    if isinstance(value, int):
        return value.bit_length() // 8 + 1
    return 0


@dataclass
class _Walk:
    """One table walk between requests: where each column resumes and what was kept."""

    table: Table
    limits: WalkLimits
    max_repetitions: int
    expected: int | None  # rows last poll, while this one has not seen more
    pending_scalars: list[bytes]
    any_index: bool = False  # a profile table: indexes of any length
    columns: Columns = field(init=False)
    cursor: dict[str, bytes] = field(init=False)  # where each unfinished column resumes
    active: list[str] = field(init=False)
    last_index: dict[str, Index] = field(default_factory=dict)
    scalars: list[ber.VarBind] = field(default_factory=list)
    rows: int = 0
    rounds: int = 0
    kept_bytes: int = 0

    def __post_init__(self) -> None:
        self.columns = {name: {} for name in self.table.columns}
        self.cursor = dict(self.table.columns)
        self.active = list(self.table.columns)

    def request(self) -> tuple[list[bytes], int, int]:
        """(OIDs, non-repeaters, repetitions) of the next GETBULK; counts the round."""
        self.rounds += 1
        if self.rounds > self.limits.max_rounds:
            self._too_large(f"{self.limits.max_rounds} requests")
        reps = self.max_repetitions
        if self.expected is not None:
            reps = max(1, min(reps, self.expected - self.rows + 1))
        oids = self.pending_scalars + [self.cursor[n] for n in self.active]
        return oids, len(self.pending_scalars), reps

    def shrink(self, reps: int) -> bool:
        """After tooBig: ask for half as many rows; False when already at one."""
        if reps <= 1:
            return False
        self.max_repetitions = max(1, reps // 2)
        self.expected = None
        return True

    def take(self, varbinds: list[ber.VarBind], non_repeaters: int) -> None:
        """Keep one answer: scalars, then the columns' rows in request order."""
        if non_repeaters:
            self.scalars = varbinds[:non_repeaters]
            varbinds = varbinds[non_repeaters:]
            self.pending_scalars = []
        finished, rows = self._keep_rows(varbinds)
        self.rows += rows
        self.active = [n for n in self.active if n not in finished]
        if self.active and not rows and varbinds:
            raise SnmpError("malformed", "walk made no progress")
        if not varbinds:
            self.active = []  # an agent that answers nothing has nothing more
        if self.expected is not None and self.rows >= self.expected:
            self.expected = None  # the table grew: go on at full repetitions
        self._check_size()

    def _keep_rows(self, varbinds: list[ber.VarBind]) -> tuple[set[str], int]:
        """(columns that ended, rows this answer advanced). Answers come row by row
        (RFC 3416), so column c's cells are every width-th varbind from c."""
        width = len(self.active)
        finished: set[str] = set()
        rows = 0
        for c, name in enumerate(self.active):
            kept, ended = self._keep_column(name, varbinds[c::width])
            rows = max(rows, kept)
            if ended:
                finished.add(name)
        return finished, rows

    def _keep_column(self, name: str, cells: list[ber.VarBind]) -> tuple[int, bool]:
        """Store one column's cells of an answer: (cells kept, whether it ended).

        The hot path of a poll (every value read passes here), so one loop over
        locals: each cell's index must grow and its value fit the column's MIB
        syntax (`malformed`: never kept, never counted against the caps, so a 30 KB
        ifName ends the walk at its first row)."""
        prefix = self.table.columns[name]
        start = len(prefix)
        syntax = self.table.syntax.get(name)
        numbers = syntax.values if syntax is not None else None
        octets = syntax.max_octets if syntax is not None else 0
        store = self.columns[name]
        last = self.last_index.get(name)
        kept = kept_bytes = 0
        ended = False
        cursor = None
        for oid, value in cells:
            if value is ber.END_OF_MIB_VIEW_VALUE or len(oid) <= start:
                ended = True
                break
            if not oid.startswith(prefix):
                ended = True
                break
            if len(oid) == start + 1 and 0 < oid[start] < 0x80:  # one small sub-identifier
                index: Index = (oid[start],)
            else:
                index = _index(oid, start, self.any_index)
            if last is not None and index <= last:
                raise SnmpError("malformed", "OID not increasing")
            last = index
            cursor = oid
            kept += 1
            if type(value) is int and numbers is not None and value in numbers:
                kept_bytes += len(oid) + value.bit_length() // 8 + 1
            elif type(value) is bytes and numbers is None and len(value) <= octets:
                kept_bytes += len(oid) + len(value)
            elif isinstance(value, ber.NoValue):
                continue  # noSuchInstance: a hole in the column, not a value
            else:
                self._fit(name, syntax, value)
                kept_bytes += len(oid) + _size(value)
            store[index] = value
        if cursor is not None and last is not None:  # the column moved on
            self.cursor[name], self.last_index[name] = cursor, last
        self.kept_bytes += kept_bytes
        return kept, ended

    def _fit(self, name: str, syntax: Syntax | None, value: object) -> None:
        """`malformed` for a value outside its column's MIB syntax."""
        why = syntax.misfit(value) if syntax is not None else None
        if why is not None:
            raise SnmpError("malformed", f"{self.table.name}.{name}: {why}")

    def _check_size(self) -> None:
        if self.rows > self.limits.max_rows:
            self._too_large(f"more than {self.limits.max_rows} rows")
        if self.kept_bytes > self.limits.max_bytes:
            self._too_large(f"more than {self.limits.max_bytes} bytes")

    def _too_large(self, what: str) -> None:
        raise SnmpError("too_large", f"walk of {self.table.name}: {what}")

    def result(self, memory: RowMemory) -> WalkResult:
        memory.rows[self.table.name] = max((len(v) for v in self.columns.values()), default=0)
        kept = sum(len(v) for v in self.columns.values()) + len(self.scalars)
        return WalkResult(self.columns, self.scalars, kept, self.rounds)


async def walk_table(
    session: Session,
    table: Table,
    memory: RowMemory,
    max_repetitions: int = 25,
    scalars: tuple[bytes, ...] = (),
    limits: WalkLimits = DEFAULT_LIMITS,
    any_index: bool = False,
) -> WalkResult:
    """All rows of `table` within `limits`; `scalars` ride along as non-repeaters
    of the first request. `any_index`: rows may have multi-part indexes (profiles)."""
    expected = memory.rows.get(table.name)
    walk = _Walk(table, limits, max_repetitions, expected, list(scalars), any_index)
    while walk.active:
        remaining(limits.deadline)  # SnmpError `deadline` once the target's time is up
        oids, non_repeaters, reps = walk.request()
        try:
            varbinds = await session.bulk(oids, non_repeaters, reps, limits.deadline)
        except SnmpError as exc:
            if exc.reason == "too_big" and walk.shrink(reps):
                continue
            raise
        walk.take(varbinds, non_repeaters)
    return walk.result(memory)


async def walk_empty_tables(
    session: Session,
    tables: Mapping[str, Table],
    memory: RowMemory,
    max_repetitions: int = 25,
    limits: WalkLimits = DEFAULT_LIMITS,
    any_index: bool = False,
) -> dict[str, WalkResult]:
    """Tables that had no rows last poll, asked together: every column of all of them in
    one GETBULK of one repetition, instead of one request per table (a switch without
    VRRP, OSPF or sensors answers nothing there, poll after poll). A table that has rows
    again is walked on in the same walk. Raises as `walk_table` does, for all of them."""
    joint = Table(
        " + ".join(table.name for table in tables.values()),
        {f"{key}.{c}": oid for key, table in tables.items() for c, oid in table.columns.items()},
        {f"{key}.{c}": s for key, table in tables.items() for c, s in table.syntax.items()},
    )
    probe = RowMemory({joint.name: 0})  # expected rows 0: one repetition first
    walked = await walk_table(
        session, joint, probe, max_repetitions, limits=limits, any_index=any_index
    )
    out = {}
    for key, table in tables.items():
        columns = {c: walked.columns[f"{key}.{c}"] for c in table.columns}
        memory.rows[table.name] = max((len(cells) for cells in columns.values()), default=0)
        kept = sum(len(cells) for cells in columns.values())
        out[key] = WalkResult(columns, [], kept, walked.requests)
    return out
