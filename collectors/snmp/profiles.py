"""Device profiles: what to walk on a platform family and which emops metrics it gives.

A profile is a YAML file under collectors/profiles/ (docs/collectors.md, "Device
profiles"), so supporting a new platform is a file, not code. Each file names
tables of numeric column OIDs with their MIB syntax (the walks' bounds checks
apply to them as to the built-in tables) and metrics built from the columns:
name, type, scale, labels from other columns (e.g. ENTITY-MIB entPhysicalName),
and a `group` (cpu, memory, temperature...) whose absence on a device is
reported, never silent.

A device gets the profile whose `match.sysobjectid` prefix is the longest match
of its sysObjectID; without one, a profile listing the inventory's `platform`;
else `generic`.

A profile may `extends: generic` to inherit its tables and metrics (the standard
MIBs every vendor implements: ENTITY-SENSOR, VRRP, OSPF). Its own metrics come
first: where a vendor reading and a generic one give the same series, the
vendor's wins (the first of two samples with one name and label set is kept).
It promises the groups of its own metrics, or exactly those it lists under
`promises:`; inherited metrics promise nothing.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from collectors.snmp import ber
from collectors.snmp.oids import (
    INTERFACES,
    IP_ADDRESS,
    OBJECT_IDENTIFIER,
    SYNTAXES,
    Syntax,
    Table,
)
from collectors.snmp.walk import Columns, Index
from emops.errors import EmopsError
from emops.yamlread import Category, Reader, read_marked_yaml, sub_field

PROFILE_DIR = Path(__file__).resolve().parents[1] / "profiles"
FALLBACK = "generic"
METRIC_TYPES = ("gauge", "counter")
LABEL_FORMATS = ("text", "ip")
BUILTIN = "interfaces"  # the built-in IF-MIB walk, readable by labels (ifName by ifIndex)
MAX_POW10 = 30  # |exponent| beyond this is an absurd value from the device: row left out
_PROFILE_KEYS = ("description", "extends", "match", "tables", "metrics", "promises", "interfaces")
_METRIC_KEYS = (
    "name",
    "help",
    "type",
    "group",
    "table",
    "column",
    "map",
    "scale",
    "scale_by",
    "pow10",
    "decibels",
    "labels",
    "skip_zero",
    "where",
)
_LABEL_KEYS = ("table", "column", "via", "index", "format", "value", "fallback", "strip")
_WHERE_KEYS = ("column", "index", "equals", "in", "not_in", "matches")


@dataclass(frozen=True)
class LabelSpec:
    """Where a label's value comes from. The key to look up is the metric row's index,
    or a slice of it (`index: "0:1"`: the ifIndex of a VRRP row ifIndex.vrid), or the
    index held in the row's column `via` (cpmCPUTotalPhysicalIndex -> entPhysicalName).
    With `column`, the label is `table.column` at that key; when the device has no such
    row, `fallback` (a template with {} for the key) or else the row's own index (stable);
    without `column`, the key itself; with
    `value`, a constant. `format: ip` renders 4 octets or 4 arcs as a dotted address."""

    name: str
    table: str = ""
    column: str = ""
    via: str = ""
    index: tuple[int, int | None] | None = None
    format: str = "text"
    value: str = ""
    fallback: str = ""
    strip: re.Pattern[str] | None = None  # removed from the text ("Te1/0/1 Receive Power Sensor")


@dataclass(frozen=True)
class Condition:
    """One `where` condition on a row: its `column` (or, with `index` >= 0, that
    sub-identifier of the row index) read as text must be in `values`, or not in
    `excluded`, or match `pattern`. Every condition of a metric must hold."""

    column: str = ""
    index: int = -1
    values: frozenset[str] | None = None
    excluded: frozenset[str] = frozenset()
    pattern: re.Pattern[str] | None = None

    def holds(self, index: tuple[int, ...], row: Columns) -> bool:
        if self.index >= 0:
            text = str(index[self.index]) if self.index < len(index) else ""
        else:
            text = _text(row.get(self.column, {}).get(index))
        if self.values is not None and text not in self.values:
            return False
        if text in self.excluded:
            return False
        return self.pattern is None or self.pattern.search(text) is not None


@dataclass(frozen=True)
class Pow10:
    """value *= 10 ** (times * (row[column] + offset)): ENTITY-SENSOR-MIB's
    entPhySensorScale (times 3, offset -9: units(9) is 10^0) and Precision (times -1)."""

    column: str
    times: int
    offset: int = 0


@dataclass(frozen=True)
class MetricSpec:
    name: str
    help: str
    type: str
    group: str
    table: str
    column: str
    scale: float = 1.0
    labels: tuple[LabelSpec, ...] = ()
    skip_zero: str = ""  # a column of the same table: rows where it is 0 or absent are skipped
    scale_by: str = ""  # a column of the same table the value is multiplied by (hrStorageUnits)
    where: tuple[Condition, ...] = ()  # rows for which every condition holds
    map: Mapping[int, float] | None = None  # raw -> exported (states); other raw values skipped
    pow10: tuple[Pow10, ...] = ()
    decibels: float | None = None  # reference: value -> 10 log10(value / reference), last


@dataclass(frozen=True)
class Profile:
    name: str
    source: str  # the file, for messages
    description: str
    sysobjectids: tuple[bytes, ...]  # encoded OID prefixes
    platforms: tuple[str, ...]
    tables: Mapping[str, Table]  # our table name -> Table (walked; named profile.table)
    metrics: tuple[MetricSpec, ...]
    groups: tuple[str, ...] = ()  # promised: each is reported missing when it yields nothing
    interface_exclude: tuple[re.Pattern[str], ...] = field(default=())  # on ifName


@dataclass(frozen=True)
class ProfileSample:
    spec: MetricSpec  # shared: name, type, help and label names
    labels: tuple[str, ...]  # values of spec.labels, in order
    value: float


class ProfileSet:
    """Every loaded profile; `select` picks one per device."""

    def __init__(self, profiles: Iterable[Profile]) -> None:
        self.profiles = {p.name: p for p in profiles}
        self.fallback = self.profiles[FALLBACK]
        self.metrics = {m.name: m for p in self.profiles.values() for m in p.metrics}

    def select(self, sys_object_id: bytes | None, platform: str = "") -> Profile:
        """Longest sysObjectID prefix match; else the `platform` hint; else generic."""
        best: tuple[int, str] | None = None
        if sys_object_id:
            for p in self.profiles.values():
                for prefix in p.sysobjectids:
                    if sys_object_id.startswith(prefix) and (best is None or len(prefix) > best[0]):
                        best = (len(prefix), p.name)
        if best is not None:
            return self.profiles[best[1]]
        for p in sorted(self.profiles.values(), key=lambda p: p.name):
            if platform and platform in p.platforms:
                return p
        return self.fallback


# --- reading ------------------------------------------------------------------


def load_profiles(directory: Path = PROFILE_DIR) -> ProfileSet:
    """Every *.yml profile in `directory`; all mistakes at once, one line each with
    file:line (EmopsError), unknown keys refused with a did-you-mean hint."""
    problems = []
    profiles = []
    for path in sorted(directory.glob("*.yml")):
        try:
            profiles.append(read_profile(path))
        except EmopsError as exc:
            problems.extend(exc.problems)
    if problems:  # a parent's mistakes come again with each profile extending it: once
        raise EmopsError(list(dict.fromkeys(problems)))
    names = {p.name for p in profiles}
    if FALLBACK not in names:
        raise EmopsError.of(
            "profiles",
            f"no {FALLBACK}.yml",
            "the fallback profile is required",
            where=str(directory),
        )
    _check_consistent(profiles)
    return ProfileSet(profiles)


def _check_consistent(profiles: list[Profile]) -> None:
    """One metric name means one type and one label set in every profile: a
    Prometheus family cannot mix them."""
    seen: dict[str, tuple[str, tuple[str, ...], str]] = {}
    for p in profiles:
        for m in p.metrics:
            shape = (m.type, tuple(label.name for label in m.labels))
            first = seen.setdefault(m.name, (*shape, p.source))
            if first[:2] != shape:
                raise EmopsError.of(
                    f"metrics.{m.name}",
                    f"type/labels {shape} differ from {first[2]}'s {first[:2]}",
                    "use the same type and label names, or another metric name",
                    where=p.source,
                )


def read_profile(path: Path, _chain: tuple[str, ...] = ()) -> Profile:
    """One profile file (its name is the profile's name), with what it extends."""
    raw, marks = read_marked_yaml(path, "profile")
    r = Reader(str(path), marks)
    data = r.mapping(raw, "", known=_PROFILE_KEYS)
    parent = _parent(r, path, data, (*_chain, path.stem))
    match = r.mapping(data.get("match"), "match", known=("sysobjectid", "platform"))
    prefixes = tuple(
        encoded
        for i, oid in enumerate(r.sequence(match.get("sysobjectid"), "match.sysobjectid"))
        if (encoded := _oid(r, oid, f"match.sysobjectid[{i}]")) is not None
    )
    platforms = tuple(str(p) for p in r.sequence(match.get("platform"), "match.platform"))
    own_tables = _tables(r, path.stem, r.mapping(data.get("tables"), "tables"))
    tables = {**(parent.tables if parent else {}), **own_tables}
    metrics = tuple(
        spec
        for i, item in enumerate(r.sequence(data.get("metrics"), "metrics"))
        if (spec := _metric(r, item, f"metrics[{i}]", tables)) is not None
    )
    groups = _promises(r, data, metrics)
    exclude = _interface_filter(r, data)
    r.checkpoint()
    if parent is not None:
        metrics += parent.metrics
        exclude = parent.interface_exclude + exclude
    description = str(data.get("description") or "")
    return Profile(
        path.stem, str(path), description, prefixes, platforms, tables, metrics, groups, exclude
    )


def _parent(r: Reader, path: Path, data: dict, chain: tuple[str, ...]) -> Profile | None:
    """The profile `extends:` names, read from the same directory."""
    name = data.get("extends")
    if name is None:
        return None
    r.get(data, "extends", "extends")
    parent = path.with_name(f"{name}.yml")
    if not isinstance(name, str) or not parent.is_file():
        known = sorted(p.stem for p in path.parent.glob("*.yml") if p.stem not in chain)
        r.problem(
            "extends",
            f"no profile {name!r}",
            f"name one of {', '.join(known)}",
            at=name,
            category=Category.REFERENCE,
        )
        return None
    if name in chain:
        r.problem("extends", f"{' -> '.join((*chain, name))} is a cycle", "extend generic")
        return None
    try:
        return read_profile(parent, chain)
    except EmopsError as exc:  # the parent's own lines: that is where the fix goes
        r.problems.extend(exc.problems)
        return None


def _promises(r: Reader, data: dict, metrics: tuple[MetricSpec, ...]) -> tuple[str, ...]:
    own = {m.group for m in metrics}
    if "promises" not in data:
        return tuple(sorted(own))
    listed = [str(g) for g in r.sequence(r.get(data, "promises", "promises"), "promises")]
    for i, group in enumerate(listed):
        if group not in own:
            r.problem(
                f"promises[{i}]",
                f"no metric of this profile has group {group!r}",
                f"one of {', '.join(sorted(own)) or 'none'}",
                at=group,
                category=Category.REFERENCE,
            )
    return tuple(sorted(set(listed)))


def _interface_filter(r: Reader, data: dict) -> tuple[re.Pattern[str], ...]:
    section = r.mapping(data.get("interfaces"), "interfaces", known=("exclude",))
    patterns = []
    for i, text in enumerate(r.sequence(section.get("exclude"), "interfaces.exclude")):
        field_ = f"interfaces.exclude[{i}]"
        compiled = r.convert(
            text, field_, _regex, "a Python regular expression matched on ifName, e.g. ^NULL"
        )
        if compiled is not None:
            patterns.append(compiled)
    return tuple(patterns)


def _regex(text: object) -> re.Pattern[str]:
    if not isinstance(text, str):
        raise TypeError("is not text")
    try:
        return re.compile(text)
    except re.error as exc:
        raise ValueError(str(exc)) from None


def _oid(r: Reader, value: object, field: str) -> bytes | None:
    def parse(v: object) -> bytes:
        if not isinstance(v, str):
            raise ValueError("is not a dotted OID")
        return ber.encode_oid(v)

    try:
        return r.convert(value, field, parse, "a numeric OID such as 1.3.6.1.4.1.9.1")
    except ber.MalformedPacket as exc:
        r.problem(field, str(exc), "a numeric OID such as 1.3.6.1.4.1.9.1", at=value)
        return None


def _tables(r: Reader, profile: str, data: dict) -> dict[str, Table]:
    tables = {}
    for name, item in data.items():
        field = sub_field("tables", name)
        if name == BUILTIN:
            r.problem(field, f"{BUILTIN!r} is the built-in IF-MIB walk", "name the table otherwise")
            continue
        t = r.mapping(item, field, known=("columns",))
        columns: dict[str, bytes] = {}
        syntax = {}
        given = r.mapping(t.get("columns"), f"{field}.columns")
        if not given:
            r.problem(field, "has no columns", "add `columns:` with oid and syntax each")
        for col, spec in given.items():
            cfield = f"{field}.columns.{col}"
            c = r.mapping(spec, cfield, known=("oid", "syntax", "range"))
            oid = _oid(r, r.require(c, "oid", f"{cfield}.oid"), f"{cfield}.oid")
            kind = r.require(c, "syntax", f"{cfield}.syntax")
            if kind is not None and kind not in SYNTAXES:
                r.problem(
                    f"{cfield}.syntax", f"unknown syntax {kind!r}", f"one of {', '.join(SYNTAXES)}"
                )
            if oid is not None and kind in SYNTAXES:
                columns[str(col)] = oid
                syntax[str(col)] = _narrowed(r, c, cfield, SYNTAXES[kind])
        tables[str(name)] = Table(f"{profile}.{name}", columns, syntax)
    return tables


def _narrowed(r: Reader, c: dict, field: str, base: Syntax) -> Syntax:
    """`range: [lo, hi]`: the MIB's own constraint (hwEntityCpuUsage Integer32 (0..100)),
    so an absurd value is malformed at the walk like one outside the base type."""
    if "range" not in c:
        return base
    bounds = r.sequence(c["range"], f"{field}.range")
    whole = all(isinstance(b, int) and not isinstance(b, bool) for b in bounds)
    if base.values is None or len(bounds) != 2 or not whole or bounds[0] > bounds[1]:
        r.problem(f"{field}.range", f"{bounds!r} is not [low, high]", "e.g. [0, 100], integers")
        return base
    low, high = bounds
    if low not in base.values or high not in base.values:
        r.problem(f"{field}.range", f"[{low}, {high}] is outside {base.name}", "narrow it")
        return base
    return Syntax(f"{base.name} ({low}..{high})", range(low, high + 1))


def _metric(r: Reader, item: object, field: str, tables: Mapping[str, Table]) -> MetricSpec | None:
    m = r.mapping(item, field, known=_METRIC_KEYS)
    name = r.text(m, "name", f"{field}.name")
    if name and not name.startswith("emops_"):
        r.problem(
            f"{field}.name", f"{name!r} does not start with emops_", "name it emops_<what>_<unit>"
        )
    kind = r.get(m, "type", f"{field}.type", "gauge")
    if kind not in METRIC_TYPES:
        r.problem(f"{field}.type", f"unknown type {kind!r}", f"one of {', '.join(METRIC_TYPES)}")
    table = r.reference(m, "table", field, tables, "tables")
    columns = tables[table].columns if table in tables else {}
    column = _column(r, m, "column", field, columns, required=True)
    labels = tuple(
        _label_spec(r, spec, f"{field}.labels.{label}", str(label), str(table), tables)
        for label, spec in r.mapping(m.get("labels"), f"{field}.labels").items()
    )
    return MetricSpec(
        name,
        str(m.get("help") or ""),
        str(kind),
        r.text(m, "group", f"{field}.group"),
        str(table),
        column,
        float(r.number(m, "scale", f"{field}.scale", 1.0, -1e18)),
        labels,
        _column(r, m, "skip_zero", field, columns),
        _column(r, m, "scale_by", field, columns),
        _where(r, m, field, columns),
        _value_map(r, m, field),
        _pow10(r, m, field, columns),
        _decibels(r, m, field),
    )


def _label_spec(
    r: Reader, item: object, field: str, name: str, table: str, tables: Mapping[str, Table]
) -> LabelSpec:
    s = r.mapping(item, field, known=_LABEL_KEYS)
    if "value" in s:
        return LabelSpec(name, value=r.text(s, "value", f"{field}.value"))
    columns = tables[table].columns if table in tables else {}
    index = _index_slice(r, s, field) if "index" in s else None
    via = _column(r, s, "via", field, columns)
    if via and index is not None:
        r.problem(field, "has both via and index", "keep one: where the key comes from")
    fmt = r.get(s, "format", f"{field}.format", "")
    if fmt and fmt not in LABEL_FORMATS:
        r.problem(
            f"{field}.format", f"unknown format {fmt!r}", f"one of {', '.join(LABEL_FORMATS)}"
        )
    ltable, lcolumn = "", ""
    if "column" in s or "table" in s:
        known = {**tables, BUILTIN: INTERFACES}
        ltable = r.reference(s, "table", field, known, "tables") if "table" in s else table
        lcolumns = known[ltable].columns if ltable in known else {}
        lcolumn = _column(r, s, "column", field, lcolumns, required=True)
        if not fmt and ltable in known and known[ltable].syntax.get(lcolumn) is IP_ADDRESS:
            fmt = "ip"
    elif index is None and not via:
        r.problem(field, "says nowhere to read the label", "add column:, index: or value:")
    strip = None
    if "strip" in s:
        strip = r.convert(s["strip"], f"{field}.strip", _regex, "a regular expression")
    fallback = r.get(s, "fallback", f"{field}.fallback", "")
    if fallback and (not isinstance(fallback, str) or "{}" not in fallback):
        r.problem(
            f"{field}.fallback", f"{fallback!r} has no {{}}", 'a template such as "ifIndex {}"'
        )
        fallback = ""
    return LabelSpec(
        name,
        str(ltable),
        lcolumn,
        via,
        index,
        str(fmt or "text"),
        fallback=str(fallback),
        strip=strip,
    )


def _index_slice(r: Reader, s: dict, field: str) -> tuple[int, int | None] | None:
    """`index: 1` (one sub-identifier) or `index: "1:5"` / `"1:"` (a slice)."""

    def parse(value: object) -> tuple[int, int | None]:
        if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
            return value, value + 1
        if isinstance(value, str) and re.fullmatch(r"\d+:\d*", value):
            start, _, end = value.partition(":")
            if end and int(end) <= int(start):
                raise ValueError("is an empty slice")
            return int(start), int(end) if end else None
        raise ValueError("is not a sub-identifier position")

    return r.convert(
        r.get(s, "index", f"{field}.index"), f"{field}.index", parse, 'e.g. 0 or "1:5"'
    )


def _where(r: Reader, m: dict, field: str, columns: Mapping[str, bytes]) -> tuple[Condition, ...]:
    """`where:` one condition or a list of them, all of which must hold."""
    if "where" not in m:
        return ()
    given = m["where"]
    items = given if isinstance(given, list) else [given]
    conditions = []
    for i, item in enumerate(items):
        wfield = f"{field}.where[{i}]" if isinstance(given, list) else f"{field}.where"
        w = r.mapping(item, wfield, known=_WHERE_KEYS)
        if ("column" in w) == ("index" in w):
            r.problem(wfield, "needs exactly one of column: and index:", "what the test reads")
            continue
        column = _column(r, w, "column", wfield, columns) if "column" in w else ""
        position = int(r.number(w, "index", f"{wfield}.index", 0, 0, 127, whole=True))
        tests = [k for k in ("equals", "in", "not_in", "matches") if k in w]
        if not tests:
            r.problem(wfield, "tests nothing", "add equals:, in:, not_in: or matches:")
            continue
        values = None
        if "equals" in w or "in" in w:
            if "equals" in w and "in" in w:
                r.problem(wfield, "has both equals: and in:", "keep one")
            listed = [w["equals"]] if "equals" in w else r.sequence(w["in"], f"{wfield}.in")
            values = frozenset(str(t) for t in listed)
        excluded = frozenset(str(t) for t in r.sequence(w.get("not_in"), f"{wfield}.not_in"))
        pattern = None
        if "matches" in w:
            pattern = r.convert(w["matches"], f"{wfield}.matches", _regex, "a regular expression")
        conditions.append(
            Condition(column, position if "index" in w else -1, values, excluded, pattern)
        )
    return tuple(conditions)


def _decibels(r: Reader, m: dict, field: str) -> float | None:
    """`decibels: {reference: 1000}`: microwatts -> dBm (rows of 0 or less left out)."""
    if "decibels" not in m:
        return None
    d = r.mapping(m["decibels"], f"{field}.decibels", known=("reference",))
    return float(r.number(d, "reference", f"{field}.decibels.reference", None, 1e-30))


def _value_map(r: Reader, m: dict, field: str) -> dict[int, float] | None:
    """`map: {1: 1, 2: 0}`: vendor state codes -> the exported value."""
    if "map" not in m:
        return None
    given = r.mapping(m["map"], f"{field}.map")
    out = {}
    for raw, value in given.items():
        ok = isinstance(raw, int) and isinstance(value, int | float)
        if not ok or isinstance(raw, bool) or isinstance(value, bool):
            r.problem(
                f"{field}.map", f"{raw!r}: {value!r} is not number: number", "e.g. {1: 1, 2: 0}"
            )
            continue
        out[raw] = float(value)
    if not out and not r.problems:
        r.problem(f"{field}.map", "is empty", "map each state code, e.g. {1: 1, 2: 0}")
    return out


def _pow10(r: Reader, m: dict, field: str, columns: Mapping[str, bytes]) -> tuple[Pow10, ...]:
    out = []
    for i, item in enumerate(r.sequence(m.get("pow10"), f"{field}.pow10")):
        pfield = f"{field}.pow10[{i}]"
        p = r.mapping(item, pfield, known=("column", "times", "offset"))
        column = _column(r, p, "column", pfield, columns, required=True)
        times = r.number(p, "times", f"{pfield}.times", None, -30, 30, whole=True)
        offset = r.number(p, "offset", f"{pfield}.offset", 0, -1000, 1000, whole=True)
        out.append(Pow10(column, int(times), int(offset)))
    return tuple(out)


def _column(
    r: Reader,
    data: dict,
    key: str,
    field: str,
    columns: Mapping[str, bytes],
    required: bool = False,
) -> str:
    if key not in data and not required:
        return ""
    name = r.require(data, key, f"{field}.{key}")
    if name is not None and columns and name not in columns:
        r.problem(
            f"{field}.{key}",
            f"unknown column {name!r}",
            f"one of the table's columns: {', '.join(columns)}",
            at=name,
            category=Category.REFERENCE,
        )
    return str(name or "")


# --- turning walked columns into samples --------------------------------------------


def _text(value: object, fmt: str = "text") -> str:
    if isinstance(value, bytes):
        if fmt == "ip" and len(value) == 4:
            return ".".join(map(str, value))
        return value.decode("utf-8", "replace").strip()
    return "" if value is None else str(value)


def _key(spec: LabelSpec, index: Index, row: Columns) -> Index:
    if spec.via:
        pointer = row.get(spec.via, {}).get(index)
        return (pointer,) if isinstance(pointer, int) else ()
    if spec.index is not None:
        return index[spec.index[0] : spec.index[1]]
    return index


def _label(spec: LabelSpec, index: Index, walked: Mapping[str, Columns], row: Columns) -> str:
    if spec.value:
        return spec.value
    key = _key(spec, index, row)
    dotted = ".".join(map(str, key))
    if spec.column:
        text = _text(walked.get(spec.table, {}).get(spec.column, {}).get(key), spec.format)
        if spec.strip is not None:
            text = spec.strip.sub("", text).strip()
        if text:
            return text
        if spec.fallback:
            return spec.fallback.format(dotted)
        return ".".join(map(str, index))  # the row's own index: stable when the name is missing
    return dotted  # the key itself: a VRID, a neighbour address (`format: ip`: same dots)


def _value(m: MetricSpec, raw: object, index: Index, row: Columns) -> float | None:
    """The exported value of one row, or None when the row is left out."""
    if not isinstance(raw, int):
        return None
    value: float = raw
    if m.map is not None:
        if raw not in m.map:
            return None
        value = m.map[raw]
    if m.skip_zero and not row.get(m.skip_zero, {}).get(index):
        return None
    if not all(c.holds(index, row) for c in m.where):
        return None
    if m.scale_by:
        factor = row.get(m.scale_by, {}).get(index)
        if not isinstance(factor, int):
            return None
        value *= factor
    for p in m.pow10:
        exponent = row.get(p.column, {}).get(index)
        if not isinstance(exponent, int) or abs(p.times * (exponent + p.offset)) > MAX_POW10:
            return None
        value *= 10.0 ** (p.times * (exponent + p.offset))
    value *= m.scale
    if m.decibels is not None:
        if value <= 0:
            return None  # no light at all: no reading, not -inf dBm
        value = 10 * math.log10(value / m.decibels)
    return value


def samples(
    profile: Profile, walked: Mapping[str, Columns]
) -> tuple[list[ProfileSample], list[str]]:
    """(samples, promised groups that yielded nothing) from the profile's walked tables
    (and the built-in `interfaces` walk, for labels)."""
    out: list[ProfileSample] = []
    found: set[str] = set()
    seen: dict[str, dict[tuple[str, ...], MetricSpec]] = {}  # name -> labels -> spec
    for m in profile.metrics:
        row = walked.get(m.table, {})
        taken = seen.setdefault(m.name, {})
        for index, raw in sorted(row.get(m.column, {}).items()):
            value = _value(m, raw, index, row)
            if value is None:
                continue
            labels = tuple(_label(spec, index, walked, row) for spec in m.labels)
            if labels in taken:
                if taken[labels] is not m or not labels:
                    continue  # another metric (the vendor's own) gave this series first
                # two modules of one name: keep both, apart
                labels = (f"{labels[0]} [{'.'.join(map(str, index))}]", *labels[1:])
            taken[labels] = m
            out.append(ProfileSample(m, labels, value))
            found.add(m.group)
    return out, [g for g in profile.groups if g not in found]


def oid_text(value: bytes | None) -> str:
    """A sysObjectID as dotted text ("" when absent or not an OID)."""
    if not value or OBJECT_IDENTIFIER.misfit(value):
        return ""
    try:
        arcs = ber.decode_arcs(value)
    except ber.MalformedPacket:
        return ""
    first = min(arcs[0] // 40, 2)
    return ".".join(map(str, (first, arcs[0] - 40 * first, *arcs[1:])))
