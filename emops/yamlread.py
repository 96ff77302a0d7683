"""One reader for every YAML input (inventory extras, campaigns, profiles).

Parsed YAML is plain dicts and lists; a `Reader` turns it into typed values field by
field and collects a `Problem` for every mistake instead of stopping at the first,
so a user fixes all of them in one pass (netlab style). Every problem carries:

- the place, `file:line`: from `Positions`, which knows where each mapping, list
  and key was read (`YamlMarks` for files read here, Ansible's origin tags for the
  inventory), else from the nearest field already read, else the source;
- the field (`faults[2].hold`), what is wrong, and a hint;
- a `Category`, so programs and tests can tell a typo from a bad value.

Mappings that list their `known` keys reject any other key with a did-you-mean
hint: a typo such as `lan_prefx:` is an error, never a silently ignored field.
A pipeline calls `checkpoint()` between its stages: checks across the whole model
never run on a model whose fields already failed (no cascades).
"""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Callable, Collection, Iterator, Mapping
from enum import StrEnum
from typing import Any, Protocol, TypeVar

import yaml

from emops.errors import EmopsError, Problem
from emops.files import read_yaml
from emops.units import parse_time

T = TypeVar("T")
_UNSET: Any = object()


class Category(StrEnum):
    """What kind of mistake a problem is."""

    UNKNOWN_KEY = "unknown key"  # a key the format does not have (a typo, usually)
    MISSING = "missing"  # a required key is absent
    TYPE = "wrong type"  # a mapping where a list belongs, text where a number does
    VALUE = "bad value"  # the right type, but not a value the field takes
    REFERENCE = "unknown name"  # names something that is not defined
    CONSISTENCY = "inconsistent"  # fields that each look right but disagree


def display_path(path: str) -> str:
    """`path` relative to the working directory when it lies below it (shorter lines)."""
    if os.path.isabs(path) and path.startswith(os.getcwd() + os.sep):
        return os.path.relpath(path)
    return path


class Positions(Protocol):
    """Where parsed values came from, as `file:line` ("" when unknown)."""

    def of(self, value: object) -> str: ...

    def of_key(self, mapping: object, key: object) -> str: ...


class NoPositions:
    """Data built in code (tests, defaults): nothing has a line."""

    def of(self, value: object) -> str:
        return ""

    def of_key(self, mapping: object, key: object) -> str:
        return ""


class YamlMarks:
    """Line of every mapping, list and mapping key of one YAML document.

    The data stays plain dicts and lists (safe to dump, compare and copy); the marks
    live beside it, keyed by object identity and holding a reference so that an id
    is never reused while the marks exist.
    """

    def __init__(self, path: str) -> None:
        self.path = path
        self._containers: dict[int, tuple[object, int]] = {}
        self._keys: dict[int, tuple[object, dict[object, int]]] = {}

    def _place(self, line: int) -> str:
        return f"{self.path}:{line}"

    def of(self, value: object) -> str:
        entry = self._containers.get(id(value))
        return self._place(entry[1]) if entry and entry[0] is value else ""

    def of_key(self, mapping: object, key: object) -> str:
        entry = self._keys.get(id(mapping))
        if not entry or entry[0] is not mapping or key not in entry[1]:
            return ""
        return self._place(entry[1][key])

    def parse(self, text: str) -> object:
        """The document in `text`, noting where each container and key starts."""
        loader = _MarkingLoader(text)
        try:
            data = loader.get_single_data()
        finally:
            loader.dispose()
        for obj, line in loader.containers:
            self._containers[id(obj)] = (obj, line)
        for node, lines in loader.key_lines:
            obj = loader.node_data[node]
            self._keys[id(obj)] = (obj, lines)
        return data


class _MarkingLoader(yaml.SafeLoader):
    """SafeLoader that records the line of each container and mapping key."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.containers: list[tuple[object, int]] = []
        self.key_lines: list[tuple[yaml.Node, dict[object, int]]] = []
        self.node_data: dict[yaml.Node, object] = {}

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        data = super().construct_object(node, deep)
        if isinstance(data, dict | list) and node not in self.node_data:
            self.node_data[node] = data
            self.containers.append((data, node.start_mark.line + 1))
        return data

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict:
        mapping = super().construct_mapping(node, deep)  # flattens `<<:` merges first
        lines: dict[object, int] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            if isinstance(key, str | int | float | bool) or key is None:
                lines.setdefault(key, key_node.start_mark.line + 1)
        self.key_lines.append((node, lines))
        return mapping


def read_marked_yaml(path: str | os.PathLike[str], field: str) -> tuple[object, YamlMarks]:
    """The YAML document at `path` and the line of each of its containers and keys; a
    missing or broken file is one EmopsError (emops.files.read_yaml)."""
    marks = YamlMarks(str(path))
    return read_yaml(path, field, parse=marks.parse), marks


def type_name(value: object) -> str:
    """The YAML-level type of `value` (Ansible wraps values in tagged subclasses)."""
    for kind in (bool, int, float, str, list, dict):
        if isinstance(value, kind):
            return kind.__name__
    return type(value).__name__


def _parent(field: str) -> str:
    """`faults[2]` of `faults[2].hold`, `links` of `links.x`; "" at the top."""
    match = re.fullmatch(r"(.+?)(\.[^.\[\]]+|\[[^\]]*\])", field)
    return match.group(1) if match else ""


def sub_field(field: str, key: object) -> str:
    return f"{field}.{key}" if field else str(key)


class Places(Mapping[str, str]):
    """Field -> `file:line` where it was first read. Resolved only when asked (for a
    problem): finding a position costs, and most fields never need theirs."""

    def __init__(self, positions: Positions) -> None:
        self._positions = positions
        self._data: dict[str, object] = {}  # two flat dicts: no object per field for the GC
        self._key: dict[str, object] = {}
        self._found: dict[str, str] = {}

    def note(self, field: str, data: object, key: object = _UNSET) -> None:
        if field not in self._data:
            self._data[field] = data
            self._key[field] = key

    def __getitem__(self, field: str) -> str:
        if field not in self._found:
            data, key = self._data[field], self._key[field]
            if key is _UNSET:
                found = self._positions.of(data)
            else:
                found = self._positions.of_key(data, key)
                if not found and isinstance(data, dict):
                    found = self._positions.of(data.get(key))
            self._found[field] = found
        return self._found[field]

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)


class Reader:
    """Reads typed fields out of parsed YAML, collecting every problem instead of stopping
    at one. `checkpoint()` ends a stage: it raises them all if there are any."""

    def __init__(self, source: str = "", positions: Positions | None = None) -> None:
        self.source = source
        self.positions: Positions = positions or NoPositions()
        self.problems: list[Problem] = []
        self.locations = Places(self.positions)  # field -> file:line, for model checks

    # --- places and problems --------------------------------------------------

    def place(self, field: str, *at: object) -> str:
        """Where to point for `field`: the first of `at` with a position, else where the
        field (or its nearest parent) was read, else the source."""
        for value in at:
            found = self.positions.of(value)
            if found:
                return found
        name = field
        while name:
            if self.locations.get(name):
                return self.locations[name]
            name = _parent(name)
        return self.source

    def problem(
        self,
        field: str,
        message: str,
        hint: str = "",
        *,
        at: object = _UNSET,
        host: str = "",
        category: Category = Category.VALUE,
    ) -> None:
        where = self.place(field) if at is _UNSET else self.place(field, at)
        self.problems.append(Problem(field, message, hint, where, host, category))

    def checkpoint(self) -> None:
        """End of a stage: raise every problem so far, so later stages (cross-checks)
        never work on a model whose fields already failed."""
        if self.problems:
            raise EmopsError(self.problems)

    def _read(self, field: str, data: object, key: object = _UNSET) -> None:
        """Remember where `field` (data[key], or data itself) was first read."""
        self.locations.note(field, data, key)

    # --- structure ------------------------------------------------------------

    def mapping(
        self, value: object, field: str, *, known: Collection[str] | None = None, at: object = None
    ) -> dict:
        """`value` as a mapping ({} when absent); with `known`, every other key is a problem."""
        if value is None:
            return {}
        if not isinstance(value, dict):
            where = self.place(field, value, at)
            message = f"must be a mapping, not {type_name(value)}"
            self.problems.append(Problem(field, message, "", where, category=Category.TYPE))
            return {}
        self._read(field, value)
        if known is not None:
            self.reject_unknown(value, field, known)
        return value

    def reject_unknown(self, data: dict, field: str, known: Collection[str]) -> None:
        for key in data:
            if key in known:
                continue
            close = difflib.get_close_matches(str(key), [str(k) for k in known], n=1)
            hint = f"did you mean {close[0]}?" if close else f"known: {', '.join(known)}"
            name = sub_field(field, key)
            where = self.positions.of_key(data, key) or self.place(field, key, data)
            self.problems.append(
                Problem(name, "unknown field", hint, where, category=Category.UNKNOWN_KEY)
            )

    def sequence(self, value: object, field: str, *, at: object = None) -> list:
        """`value` as a list ([] when absent)."""
        if value is None:
            return []
        if not isinstance(value, list):
            where = self.place(field, value, at)
            message = f"must be a list, not {type_name(value)}"
            self.problems.append(Problem(field, message, "", where, category=Category.TYPE))
            return []
        self._read(field, value)
        return value

    # --- fields -----------------------------------------------------------------

    def get(self, data: dict, key: str, field: str, default: Any = None) -> Any:
        """data[key] (or `default`), remembering where it was written."""
        self._read(field, data, key)
        return data.get(key, default)

    def require(self, data: object, key: str, field: str, *, host: str = "") -> Any:
        """data[key], or a `missing` problem (pointing at the mapping) and None."""
        if not isinstance(data, dict) or data.get(key) is None:
            self.problem(
                field, "is missing", f"add `{key}:`", at=data, host=host, category=Category.MISSING
            )
            return None
        return self.get(data, key, field)

    def convert(
        self,
        value: object,
        field: str,
        fn: Callable[..., T],
        hint: str = "",
        *,
        host: str = "",
        default: T | None = None,
    ) -> T | None:
        """fn(value) or, on failure, a problem at the value and `default`."""
        self._read(field, value)
        try:
            return fn(value)
        except EmopsError as exc:
            for p in exc.problems:
                self.problem(field, p.message, p.hint or hint, at=value, host=host)
        except (ValueError, TypeError) as exc:
            self.problem(field, f"{value!r}: {exc}", hint, at=value, host=host)
        return default

    def reference(
        self, data: dict, key: str, field: str, known: Collection[str], section: str
    ) -> Any:
        """data[key], which must name an entry of `known` (defined under `section:`)."""
        name = self.require(data, key, f"{field}.{key}")
        if name is not None and name not in known:
            self.problem(
                f"{field}.{key}",
                f"unknown {key} {name!r}",
                f"define it under {section}: ({', '.join(sorted(known)) or 'none'} known)",
                at=name,
                category=Category.REFERENCE,
            )
        return name

    def time(
        self, data: dict, key: str, field: str, default: float | None = None, zero: bool = False
    ) -> float:
        """A time such as `30s` (seconds); without a default, a required field."""
        if key not in data:
            if default is None:
                self.problem(field, "is required", "a time such as 30s", category=Category.MISSING)
                return 0.0
            return default
        value = self.get(data, key, field)
        result = self.convert(value, field, lambda v: parse_time(v, field, allow_zero=zero))
        return 0.0 if result is None else result

    def number(
        self,
        data: dict,
        key: str,
        field: str,
        default: float | None,
        low: float,
        high: float | None = None,
        whole: bool = False,
    ) -> float:
        """A plain number within low..high (`low` stands in for a bad one)."""
        value = self.get(data, key, field, default)
        if value is None:
            self.problem(field, "is required", category=Category.MISSING)
            return low
        ok_type = isinstance(value, int) if whole else isinstance(value, int | float)
        if isinstance(value, bool) or not ok_type:
            self.problem(
                field,
                f"{value!r} is not {'a whole number' if whole else 'a number'}",
                category=Category.TYPE,
            )
            return low
        if value < low or (high is not None and value > high):
            span = f"from {low:g} to {high:g}" if high is not None else f"at least {low:g}"
            self.problem(field, f"{value!r} must be {span}")
            return low
        return value

    def text(self, data: dict, key: str, field: str, default: str | None = None) -> str:
        """A non-empty name."""
        value = self.get(data, key, field, default)
        if not isinstance(value, str) or not value:
            missing = value is None
            self.problem(
                field,
                "is required" if missing else f"{value!r} is not a name",
                category=Category.MISSING if missing else Category.TYPE,
            )
            return ""
        return value
