"""Metric families filled one unit (a device, a target) at a time, each unit under a guard.

A value the text format cannot carry (an int too large for a float, NaN, a
label that is not UTF-8-encodable text) raises only when the registry renders
the scrape, long after `collect()` returned: the whole `/metrics` answer is an
HTTP 500 and every device's metrics are lost for one agent's absurd counter.
So each unit's samples go into empty copies of the families first, are checked
there, and join the real families only if the whole unit is sound. A unit that
is not is dropped from this scrape, logged in one line, and counted by the
caller (`reason="bad_value"`); the other units are always served.
"""

from __future__ import annotations

import copy
import logging
import math
import threading
from collections.abc import Callable, Hashable, Mapping
from typing import TypeVar

from prometheus_client.core import Metric

log = logging.getLogger(__name__)

K = TypeVar("K", bound=Hashable)
BAD_VALUE = "bad_value"  # the errors_total reason of a unit dropped from a scrape


def _empty_like(family: Metric) -> Metric:
    staged = copy.copy(family)  # keeps the class and its label names
    staged.samples = []
    return staged


def _check(family: Metric) -> None:
    """Raises unless every sample renders: finite numeric value, text labels."""
    for sample in family.samples:
        if not math.isfinite(sample.value):  # OverflowError / TypeError for the rest
            raise ValueError(f"{sample.name} = {sample.value!r:.40}")
        for label in sample.labels.values():
            if not label.isascii():
                label.encode("utf-8")  # a lone surrogate would fail the whole scrape


def fill_guarded(
    families: Mapping[K, Metric], unit: str, fill: Callable[[Mapping[K, Metric]], object]
) -> bool:
    """Let `fill` add one unit's samples to `families`, all or nothing.

    `fill` gets empty copies of `families` (same keys); if it raises, or leaves
    a sample that could not be rendered, nothing is added, one line is logged
    and False returned.
    """
    staged = {key: _empty_like(family) for key, family in families.items()}
    try:
        fill(staged)
        for family in staged.values():
            _check(family)
    except Exception as exc:
        log.warning("dropped %s from this scrape: %s: %.200s", unit, type(exc).__name__, exc)
        return False
    for key, family in staged.items():
        families[key].samples.extend(family.samples)
    return True


class DropCounts:
    """How many scrapes dropped each unit: the `bad_value` error counters.

    Thread-safe: the exporter's HTTP server may run two scrapes at once.
    """

    def __init__(self) -> None:
        self._counts: dict[Hashable, int] = {}
        self._lock = threading.Lock()

    def add(self, unit: Hashable) -> None:
        with self._lock:
            self._counts[unit] = self._counts.get(unit, 0) + 1

    def get(self, unit: Hashable) -> int:
        return self._counts.get(unit, 0)
