"""The latest results of every application check, as immutable values.

The round (asyncio) writes, the /metrics thread reads: every value stored is
immutable and replaced whole, and readers copy each dict before iterating, so
a scrape never sees half an update nor a dict changing size under it.

Probe latency is the one thing that accumulates: a histogram per (service,
target, site). A probe that failed never answered, so it is counted only in the
+Inf bucket (its time still adds to the sum): a latency objective ("99 % within
500 ms") counts it as too slow, as a user would.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any

# 5 ms .. 5 s, with the 500 ms latency objective as a bucket bound
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, math.inf)
ProbeKey = tuple[str, str, str]  # service, target, site


@dataclass(frozen=True)
class Histogram:
    """Cumulative probe latency; `counts[i]` = observations <= BUCKETS[i]."""

    counts: tuple[int, ...] = (0,) * len(BUCKETS)
    total: float = 0.0

    def observe(self, seconds: float, answered: bool = True) -> Histogram:
        counts = tuple(
            c + (1 if (answered and seconds <= bound) or math.isinf(bound) else 0)
            for c, bound in zip(self.counts, BUCKETS, strict=True)
        )
        return Histogram(counts, self.total + seconds)

    @property
    def count(self) -> int:
        return self.counts[-1]


@dataclass(frozen=True)
class Health:
    """How the last collection of one (collector, target) went."""

    up: bool
    duration_s: float
    errors: Mapping[str, int] = field(default_factory=lambda: MappingProxyType({}))


@dataclass(frozen=True)
class PgSample:
    connections: Mapping[str, int]
    transactions: float
    standby: bool
    lag_s: float | None


@dataclass(frozen=True)
class MarketingSample:
    transactions: Mapping[str, float]
    failures: Mapping[str, float]
    payments: float


class Store:
    """Latest results by key; only the collection round writes."""

    def __init__(self) -> None:
        self.probe_success: dict[ProbeKey, bool] = {}
        self.latency: dict[ProbeKey, Histogram] = {}
        self.postgres: dict[str, PgSample] = {}
        self.marketing: dict[str, MarketingSample] = {}
        self.held: dict[str, frozenset[str]] = {}  # device -> addresses it holds now
        self.services: dict[tuple[str, str], bool] = {}  # (service, device) -> answered
        self.health: dict[tuple[str, str], Health] = {}

    def record_probe(self, key: ProbeKey, result: Mapping[str, Any]) -> None:
        ok = bool(result.get("ok"))
        self.probe_success[key] = ok
        if "duration_s" in result:  # refused by the safety rules: nothing was sent, no latency
            previous = self.latency.get(key, Histogram())
            self.latency[key] = previous.observe(float(result["duration_s"]), answered=ok)

    def record_postgres(self, device: str, result: Mapping[str, Any]) -> None:
        if result.get("ok"):
            self.postgres[device] = PgSample(
                MappingProxyType(dict(result["connections"])),
                float(result["transactions"]),
                bool(result["standby"]),
                None if result.get("lag_s") is None else float(result["lag_s"]),
            )
        else:
            self.postgres.pop(device, None)

    def record_marketing(self, device: str, result: Mapping[str, Any]) -> None:
        if result.get("ok"):
            self.marketing[device] = MarketingSample(
                MappingProxyType(dict(result["transactions"])),
                MappingProxyType(dict(result["failures"])),
                float(result["payments"].get("accepted", 0)),
            )
        else:
            self.marketing.pop(device, None)

    def record_service(self, key: tuple[str, str], result: Mapping[str, Any] | None) -> None:
        """`result` None: not checked (the vantage point is broken), so unknown, not down."""
        if result is None:
            self.services.pop(key, None)
        else:
            self.services[key] = bool(result.get("ok"))

    def record_held(self, device: str, addresses: frozenset[str] | None) -> None:
        if addresses is None:
            self.held.pop(device, None)  # unknown, not "holds nothing"
        else:
            self.held[device] = addresses

    def record_health(
        self, collector: str, target: str, up: bool, reasons: list[str], duration: float
    ) -> None:
        """`reasons`: the failures seen in this collection, counted per reason."""
        key = (collector, target)
        previous = self.health.get(key, Health(True, 0.0))
        errors = dict(previous.errors)
        for reason in reasons:
            errors[reason] = errors.get(reason, 0) + 1
        self.health[key] = replace(
            previous, up=up, duration_s=duration, errors=MappingProxyType(errors)
        )
