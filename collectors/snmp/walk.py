"""Multi-column GETBULK walks: every column of a table in each request.

One request asks for the next `r` rows of all unfinished columns at once, so a
30-interface device with 11 columns costs two PDUs instead of 11 walks. The
repetition count adapts to the row count seen on the previous poll (rows + 1,
to see the end in the same answer), which keeps agents from computing rows
past the table that would only be thrown away.

Columns end independently (a column that leaves its prefix, endOfMibView);
missing rows and columns are simply absent from the result.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from collectors.snmp import ber
from collectors.snmp.oids import Table
from collectors.snmp.session import Session, SnmpError

Index = tuple[int, ...]
Columns = dict[str, dict[Index, object]]  # column name -> index -> value
MAX_ROUNDS = 10_000  # a looping agent ends here, not in an endless walk


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


def _index(oid: bytes, prefix_len: int) -> Index:
    suffix = oid[prefix_len:]
    if len(suffix) == 1 and suffix[0] < 0x80:  # the common single small index
        return (suffix[0],)
    return ber.decode_arcs(suffix)


async def walk_table(
    session: Session,
    table: Table,
    memory: RowMemory,
    max_repetitions: int = 25,
    scalars: tuple[bytes, ...] = (),
) -> WalkResult:
    """All rows of `table`; `scalars` ride along as non-repeaters of the first request."""
    prefixes = table.columns
    columns: Columns = {name: {} for name in prefixes}
    cursor = dict(prefixes)  # where each unfinished column resumes
    last_index: dict[str, Index] = {}
    active = list(prefixes)
    expected = memory.rows.get(table.name)
    rows_seen = 0
    scalar_values: list[ber.VarBind] = []
    pending_scalars = list(scalars)
    reps = max_repetitions
    rounds = 0
    while rounds < MAX_ROUNDS:
        rounds += 1
        if expected is not None:
            reps = max(1, min(max_repetitions, expected - rows_seen + 1))
        non_rep = len(pending_scalars)
        try:
            varbinds = await session.bulk(
                pending_scalars + [cursor[n] for n in active], non_rep, reps
            )
        except SnmpError as exc:
            if exc.reason == "too_big" and reps > 1:
                max_repetitions = max(1, reps // 2)
                expected = None
                reps = max_repetitions
                continue
            raise
        if non_rep:
            scalar_values = varbinds[:non_rep]
            varbinds = varbinds[non_rep:]
            pending_scalars = []
        width = len(active)
        finished: set[str] = set()
        advanced = False
        rows_in_answer = 0
        for i, (oid, value) in enumerate(varbinds):
            name = active[i % width]
            if name in finished:
                continue
            prefix = prefixes[name]
            if (
                value is ber.END_OF_MIB_VIEW_VALUE
                or not oid.startswith(prefix)
                or len(oid) == len(prefix)
            ):
                finished.add(name)
                continue
            index = _index(oid, len(prefix))
            previous = last_index.get(name)
            if previous is not None and index <= previous:
                raise SnmpError("malformed", "OID not increasing")
            last_index[name] = index
            if not isinstance(value, ber.NoValue):
                columns[name][index] = value
            cursor[name] = oid
            advanced = True
            rows_in_answer = max(rows_in_answer, i // width + 1)
        rows_seen += rows_in_answer
        active = [n for n in active if n not in finished]
        if not active:
            break
        if not advanced:
            if not varbinds:
                break  # an agent that answers nothing has nothing more
            raise SnmpError("malformed", "walk made no progress")
        if expected is not None and rows_seen >= expected:
            expected = None  # the table grew: go on at full repetitions
    else:
        raise SnmpError("malformed", f"walk of {table.name} did not end")
    memory.rows[table.name] = max((len(v) for v in columns.values()), default=0)
    kept = sum(len(v) for v in columns.values()) + len(scalar_values)
    return WalkResult(columns, scalar_values, kept, rounds)
