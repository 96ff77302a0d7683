"""Confidence intervals: a mean over a campaign's runs (Student t) and a proportion
over its samples (Wilson).

The paper averages 8 runs and shows no spread; emops reports the interval too,
so a reader can tell a real difference between two campaigns from run-to-run
noise. Eight runs are far too few for a normal approximation, hence Student's
t. The stdlib has no t quantile, so the two-sided 95% critical values are a
table (the classic one in every statistics textbook); between tabulated degrees
of freedom the next lower one is used, which errs on the wide side.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

# Two-sided 95% (upper 0.975 quantile) critical values of Student's t by degrees of freedom.
T_975: dict[int, float] = {
    1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365, 8: 2.306,
    9: 2.262, 10: 2.228, 11: 2.201, 12: 2.179, 13: 2.160, 14: 2.145, 15: 2.131,
    16: 2.120, 17: 2.110, 18: 2.101, 19: 2.093, 20: 2.086, 21: 2.080, 22: 2.074,
    23: 2.069, 24: 2.064, 25: 2.060, 26: 2.056, 27: 2.052, 28: 2.048, 29: 2.045,
    30: 2.042, 40: 2.021, 60: 2.000, 120: 1.980,
}  # fmt: skip
Z_975 = 1.960  # the limit for infinite degrees of freedom


def t_critical(df: int) -> float:
    """The 0.975 quantile of Student's t with `df` degrees of freedom (df >= 1)."""
    if df < 1:
        raise ValueError(f"degrees of freedom must be at least 1, got {df}")
    if df in T_975:
        return T_975[df]
    lower = [d for d in T_975 if d < df]
    return T_975[max(lower)] if df <= 120 else Z_975


@dataclass(frozen=True)
class Interval:
    """Mean of n values with its 95% interval; low/high are None when n < 2."""

    n: int
    mean: float | None
    low: float | None
    high: float | None

    @property
    def half_width(self) -> float | None:
        if self.mean is None or self.high is None:
            return None
        return self.high - self.mean


def mean_interval(values: Sequence[float | None]) -> Interval:
    """Mean and 95% t-interval of the values that are not None (or NaN).

    A metric can be undefined in a run (alarm precision with no alert at all);
    such runs are left out rather than counted as 0, and n says how many remain.
    """
    xs = [float(v) for v in values if v is not None and not math.isnan(v)]
    if not xs:
        return Interval(0, None, None, None)
    mean = statistics.fmean(xs)
    if len(xs) < 2:
        return Interval(1, mean, None, None)
    half = t_critical(len(xs) - 1) * statistics.stdev(xs) / math.sqrt(len(xs))
    return Interval(len(xs), mean, mean - half, mean + half)


@dataclass(frozen=True)
class Proportion:
    """k successes of n trials with the 95% Wilson score interval (None when n = 0).

    A campaign's detection rate, alarm precision and false-alarm rate are
    proportions of a few dozen samples, often 0 or n: the normal ("Wald")
    interval then has zero width and claims certainty. Wilson's does not:
    0 false alarms in 24 quiet windows still allows 14 % (upper bound).
    """

    k: int
    n: int
    low: float | None
    high: float | None

    @property
    def rate(self) -> float | None:
        return None if self.n == 0 else self.k / self.n


def wilson(k: int, n: int, z: float = Z_975) -> Proportion:
    """The Wilson score interval of k in n (0 <= k <= n)."""
    if not 0 <= k <= n:
        raise ValueError(f"successes {k} must be within 0..{n}")
    if n == 0:
        return Proportion(0, 0, None, None)
    p = k / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z / denominator * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return Proportion(k, n, max(0.0, centre - half), min(1.0, centre + half))
