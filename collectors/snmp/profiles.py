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
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from collectors.snmp import ber
from collectors.snmp.oids import OBJECT_IDENTIFIER, SYNTAXES, Table
from collectors.snmp.walk import Columns, Index
from emops.errors import EmopsError
from emops.yamlread import Category, Reader, read_marked_yaml, sub_field

PROFILE_DIR = Path(__file__).resolve().parents[1] / "profiles"
FALLBACK = "generic"
METRIC_TYPES = ("gauge", "counter")
_PROFILE_KEYS = ("description", "match", "tables", "metrics")
_METRIC_KEYS = (
    "name",
    "help",
    "type",
    "group",
    "table",
    "column",
    "scale",
    "scale_by",
    "labels",
    "skip_zero",
    "where",
)
_LABEL_KEYS = ("table", "column", "via")


@dataclass(frozen=True)
class LabelSpec:
    """A label read from `table.column` at the metric row's index, or at the index
    held in the metric table's column `via` (cpmCPUTotalPhysicalIndex -> entPhysicalName)."""

    name: str
    table: str
    column: str
    via: str = ""


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
    where: tuple[str, str] | None = None  # (column, text): only rows whose column reads so


@dataclass(frozen=True)
class Profile:
    name: str
    source: str  # the file, for messages
    description: str
    sysobjectids: tuple[bytes, ...]  # encoded OID prefixes
    platforms: tuple[str, ...]
    tables: Mapping[str, Table]  # our table name -> Table (walked; named profile.table)
    metrics: tuple[MetricSpec, ...]

    @property
    def groups(self) -> tuple[str, ...]:
        """The data this profile promises; each is reported missing when it yields nothing."""
        return tuple(sorted({m.group for m in self.metrics}))


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
    if problems:
        raise EmopsError(problems)
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


def read_profile(path: Path) -> Profile:
    """One profile file (its name is the profile's name)."""
    raw, marks = read_marked_yaml(path, "profile")
    r = Reader(str(path), marks)
    data = r.mapping(raw, "", known=_PROFILE_KEYS)
    match = r.mapping(data.get("match"), "match", known=("sysobjectid", "platform"))
    prefixes = tuple(
        encoded
        for i, oid in enumerate(r.sequence(match.get("sysobjectid"), "match.sysobjectid"))
        if (encoded := _oid(r, oid, f"match.sysobjectid[{i}]")) is not None
    )
    platforms = tuple(str(p) for p in r.sequence(match.get("platform"), "match.platform"))
    tables = _tables(r, path.stem, r.mapping(data.get("tables"), "tables"))
    metrics = tuple(
        spec
        for i, item in enumerate(r.sequence(data.get("metrics"), "metrics"))
        if (spec := _metric(r, item, f"metrics[{i}]", tables)) is not None
    )
    r.checkpoint()
    description = str(data.get("description") or "")
    return Profile(path.stem, str(path), description, prefixes, platforms, tables, metrics)


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
        t = r.mapping(item, field, known=("columns",))
        columns: dict[str, bytes] = {}
        syntax = {}
        given = r.mapping(t.get("columns"), f"{field}.columns")
        if not given:
            r.problem(field, "has no columns", "add `columns:` with oid and syntax each")
        for col, spec in given.items():
            cfield = f"{field}.columns.{col}"
            c = r.mapping(spec, cfield, known=("oid", "syntax"))
            oid = _oid(r, r.require(c, "oid", f"{cfield}.oid"), f"{cfield}.oid")
            kind = r.require(c, "syntax", f"{cfield}.syntax")
            if kind is not None and kind not in SYNTAXES:
                r.problem(
                    f"{cfield}.syntax", f"unknown syntax {kind!r}", f"one of {', '.join(SYNTAXES)}"
                )
            if oid is not None and kind in SYNTAXES:
                columns[str(col)] = oid
                syntax[str(col)] = SYNTAXES[kind]
        tables[str(name)] = Table(f"{profile}.{name}", columns, syntax)
    return tables


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
    skip_zero = _column(r, m, "skip_zero", field, columns)
    labels = []
    for label, spec in r.mapping(m.get("labels"), f"{field}.labels").items():
        lfield = f"{field}.labels.{label}"
        s = r.mapping(spec, lfield, known=_LABEL_KEYS)
        ltable = s.get("table", table)
        if "table" in s:
            ltable = r.reference(s, "table", lfield, tables, "tables")
        lcolumns = tables[ltable].columns if ltable in tables else {}
        lcolumn = _column(r, s, "column", lfield, lcolumns, required=True)
        via = _column(r, s, "via", lfield, columns)
        labels.append(LabelSpec(str(label), str(ltable), lcolumn, via))
    scale = r.number(m, "scale", f"{field}.scale", 1.0, -1e18)
    scale_by = _column(r, m, "scale_by", field, columns)
    where = None
    if "where" in m:
        w = r.mapping(m["where"], f"{field}.where", known=("column", "equals"))
        wcolumn = _column(r, w, "column", f"{field}.where", columns, required=True)
        equals = r.require(w, "equals", f"{field}.where.equals")
        where = (wcolumn, str(equals))
    return MetricSpec(
        name,
        str(m.get("help") or ""),
        str(kind),
        r.text(m, "group", f"{field}.group"),
        str(table),
        column,
        float(scale),
        tuple(labels),
        skip_zero,
        scale_by,
        where,
    )


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


def _text(value: object) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return "" if value is None else str(value)


def _label(spec: LabelSpec, index: Index, walked: Mapping[str, Columns], row: Columns) -> str:
    at = index
    if spec.via:
        pointer = row.get(spec.via, {}).get(index)
        at = (pointer,) if isinstance(pointer, int) else ()
    value = walked.get(spec.table, {}).get(spec.column, {}).get(at)
    if isinstance(value, bytes) and spec.table in walked:
        text = _text(value).strip()
        if text:
            return text
    elif isinstance(value, int):
        return str(value)
    return ".".join(map(str, index))  # the row's own index: stable when the name is missing


def samples(
    profile: Profile, walked: Mapping[str, Columns]
) -> tuple[list[ProfileSample], list[str]]:
    """(samples, groups that yielded nothing) from the profile's walked tables."""
    out: list[ProfileSample] = []
    found: set[str] = set()
    for m in profile.metrics:
        row = walked.get(m.table, {})
        seen: set[tuple[str, ...]] = set()
        for index, value in sorted(row.get(m.column, {}).items()):
            if not isinstance(value, int):
                continue
            if m.skip_zero and not row.get(m.skip_zero, {}).get(index):
                continue
            if m.where and _text(row.get(m.where[0], {}).get(index)) != m.where[1]:
                continue
            factor = row.get(m.scale_by, {}).get(index) if m.scale_by else 1
            if not isinstance(factor, int):
                continue
            labels = tuple(_label(spec, index, walked, row) for spec in m.labels)
            if labels in seen:
                if not labels:  # one series only: the first matching row
                    continue
                # two modules of one name: keep both, apart
                labels = (f"{labels[0]} [{'.'.join(map(str, index))}]", *labels[1:])
            seen.add(labels)
            out.append(ProfileSample(m, labels, value * factor * m.scale))
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
