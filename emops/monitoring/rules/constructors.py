"""Rule constructors: every alert gets the same shape (severity, summary, description)."""

from __future__ import annotations

import textwrap

SEVERITIES = ("page", "info")


def expr(text: str) -> str:
    """A PromQL expression written as an indented block in the source."""
    return textwrap.dedent(text).strip()


def record(name: str, query: str, labels: dict[str, str] | None = None) -> dict:
    rule: dict = {"record": name, "expr": expr(query)}
    if labels:
        rule["labels"] = dict(sorted(labels.items()))
    return rule


def alert(
    name: str,
    query: str,
    *,
    severity: str,
    summary: str,
    description: str,
    wait: str | None = None,
    labels: dict[str, str] | None = None,
) -> dict:
    """An alerting rule. `wait` is its `for:`; `description` names the sensors that agreed."""
    if severity not in SEVERITIES:
        raise ValueError(f"severity {severity!r} is not one of {SEVERITIES}")
    rule: dict = {"alert": name, "expr": expr(query)}
    if wait:
        rule["for"] = wait
    rule["labels"] = dict(sorted({**(labels or {}), "severity": severity}.items()))
    rule["annotations"] = {"summary": summary, "description": " ".join(description.split())}
    return rule


def rule_group(name: str, rules: list[dict], interval: str | None = None) -> dict:
    result: dict = {"name": name}
    if interval:
        result["interval"] = interval
    result["rules"] = rules
    return result
