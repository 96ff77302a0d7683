"""The 95% t-interval over runs."""

from __future__ import annotations

import math

import pytest

from loadtest.intervals import mean_interval, t_critical, wilson


def test_eight_runs_use_t_with_seven_degrees_of_freedom() -> None:
    values = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]
    got = mean_interval(values)
    sd = math.sqrt(sum((v - 4.5) ** 2 for v in values) / 7)
    half = 2.365 * sd / math.sqrt(8)
    assert got.n == 8 and got.mean == pytest.approx(4.5)
    assert got.low == pytest.approx(4.5 - half) and got.high == pytest.approx(4.5 + half)
    assert got.half_width == pytest.approx(half)


def test_identical_values_have_zero_width() -> None:
    got = mean_interval([0.25] * 5)
    assert got.low == got.high == pytest.approx(0.25)


def test_undefined_runs_are_left_out_not_zeroed() -> None:
    got = mean_interval([None, 1.0, float("nan"), 3.0])
    assert got.n == 2 and got.mean == 2.0
    assert got.low == pytest.approx(2.0 - 12.706 * math.sqrt(2) / math.sqrt(2))


def test_one_or_no_value_has_no_interval() -> None:
    assert mean_interval([3.0]).low is None and mean_interval([3.0]).mean == 3.0
    empty = mean_interval([])
    assert empty.n == 0 and empty.mean is None and empty.half_width is None


def test_t_table_between_rows_is_conservative() -> None:
    assert t_critical(35) == 2.042  # df 30's value: wider than the true 2.030
    assert t_critical(1000) == 1.960
    with pytest.raises(ValueError):
        t_critical(0)


def test_wilson_gives_width_where_the_normal_interval_claims_certainty() -> None:
    none_in_24 = wilson(0, 24)  # the case: 0 false alarms in 24 quiet windows
    assert none_in_24.rate == 0 and none_in_24.low == 0
    assert none_in_24.high == pytest.approx(0.138, abs=5e-4)  # still allows 14 %
    all_of_200 = wilson(200, 200)
    assert all_of_200.high == 1 and all_of_200.low == pytest.approx(0.9812, abs=5e-4)


def test_wilson_matches_the_textbook_formula_in_the_middle() -> None:
    k, n, z = 30, 40, 1.96
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    got = wilson(k, n)
    assert got.low == pytest.approx(centre - half) and got.high == pytest.approx(centre + half)
    assert got.low < p < got.high


def test_wilson_of_no_trials_is_undefined_and_bad_counts_refused() -> None:
    assert wilson(0, 0).rate is None and wilson(0, 0).low is None
    with pytest.raises(ValueError, match=r"within 0\.\.3"):
        wilson(4, 3)
