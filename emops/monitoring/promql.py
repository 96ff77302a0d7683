"""Small helpers that write PromQL and alert templates from inventory names.

Names come from the inventory, so they are quoted and escaped here once rather
than by hand in every rule.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

_RE2_SPECIAL = set("\\.^$|?*+()[]{}")


def quote(value: str) -> str:
    """A PromQL string literal (double-quoted, JSON escaping is PromQL escaping)."""
    return json.dumps(value)


def any_of(values: Iterable[str]) -> str:
    """An anchored RE2 alternation matching exactly these values (for `=~`)."""
    escaped = ("".join("\\" + c if c in _RE2_SPECIAL else c for c in v) for v in sorted(values))
    return quote("|".join(escaped))


def selector(metric: str, **labels: str) -> str:
    """`metric{a="x", b=~"y|z"}`: a value starting with `~` is a regex match."""
    parts = []
    for name, value in labels.items():
        if value.startswith("~"):
            parts.append(f"{name}=~{quote(value[1:])}")
        else:
            parts.append(f"{name}={quote(value)}")
    return f"{metric}{{{', '.join(parts)}}}" if parts else metric


def devices_selector(metric: str, devices: Iterable[str], **labels: str) -> str:
    """`metric{device=~"a|b", ...}` for a set of inventory devices."""
    inner = [f"device=~{any_of(devices)}"]
    inner += [f"{k}={quote(v)}" for k, v in labels.items()]
    return f"{metric}{{{', '.join(inner)}}}"


def evidence(
    query: str, fmt: str = "{{ . | first | value }}", none: str = "no data", sort_by: str = ""
) -> str:
    """An annotation fragment that runs `query` when the alert fires and prints its value.

    `query` may use `%s` placeholders filled from the alert's labels, given as
    Go template arguments after a `|` (see `labelled`). This is how every alert
    states the evidence behind it: the reader sees each sensor's own reading.
    `sort_by` orders a listing (query results come in no fixed order).
    """
    pipeline = f"{query} | query" + (f' | sortByLabel "{sort_by}"' if sort_by else "")
    return f"{{{{ with {pipeline} }}}}{fmt}{{{{ else }}}}{none}{{{{ end }}}}"


def labelled(template: str, *labels: str) -> str:
    """A Go-template printf building a query from the alert's labels."""
    args = " ".join(f"$labels.{name}" for name in labels)
    return f"printf {json.dumps(template)} {args}"


def literal(query: str) -> str:
    """A fixed query as a Go template string argument."""
    return json.dumps(query)


def up_down(query: str, up: str = "up", down: str = "down", none: str = "no data") -> str:
    """Evidence that reads 1 as `up` and 0 as `down`."""
    fmt = f"{{{{ if eq (. | first | value) 1.0 }}}}{up}{{{{ else }}}}{down}{{{{ end }}}}"
    return evidence(query, fmt, none)


def camel(name: str) -> str:
    """`online-hall` -> `OnlineHall`: inventory names as alert-name prefixes."""
    return "".join(part[:1].upper() + part[1:] for part in name.replace("_", "-").split("-"))
