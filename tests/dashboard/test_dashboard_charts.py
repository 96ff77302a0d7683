"""The charts' specs as Vega will draw them: axis labels a person can read.

Vega formats the ticks of a symlog (or linear) axis that has a `format` through
the scale's tickFormat (d3's linear one), which gives every tick the SI prefix
of the largest and a precision from the linear tick step: with ticks from 1k
to 1G, "~s" draws "0G 0G 0G 0G 0G 0.1G 1G" (Vega 5.22 drew exactly that for
the old axis). `axis_labels` follows that rule, and evaluates a `labelExpr` of
the form the dashboard writes, so a spec that would draw "0G" fails here.
"""

from __future__ import annotations

import math
import re

import pandas as pd
import pytest

from dashboard.charts import capacity_chart, history_chart

PREFIXES = {-3: "n", -2: "µ", -1: "m", 0: "", 1: "k", 2: "M", 3: "G", 4: "T"}
LABEL_EXPR = re.compile(r"^format\(datum\.value, '~s'\) \+ '([^']*)'$")


def si(value: float, exponent: int | None = None, digits: int = 0) -> str:
    """d3-format's "~s" (exponent None: the value's own prefix; else that prefix and digits)."""
    if value == 0:
        return "0"
    if exponent is None:
        exponent = max(-3, min(4, math.floor(math.log10(abs(value)) / 3)))
        return f"{value / 1000**exponent:.6g}" + PREFIXES[exponent]
    text = f"{value / 1000**exponent:.{digits}f}"
    return (text.rstrip("0").rstrip(".") if "." in text else text) + PREFIXES[exponent]


def axis_labels(y: dict, shown: list[float]) -> list[str]:
    """The labels Vega draws for the ticks `shown` of a y encoding."""
    axis = y.get("axis") or {}
    if "labelExpr" in axis:
        match = LABEL_EXPR.match(axis["labelExpr"])
        assert match, f"labelExpr this test cannot read: {axis['labelExpr']}"
        return [si(v) + match.group(1) for v in shown]
    if "s" in axis.get("format", ""):  # the scale's tickFormat: one prefix, the largest tick's
        top = math.floor(math.log10(max(shown)))  # ~10 linear ticks on [0, 10^top]: step 10^(top-1)
        digits = max(0, 3 * (top // 3) - (top - 1))  # d3's precisionPrefix(step, top)
        return [si(v, top // 3, digits) for v in shown]
    return [f"{v:g}" for v in shown]


@pytest.fixture
def bundle_chart() -> dict:
    """A 4 x 2M backup bundle carrying 3.1 Mbit/s against a planner demand of 2.5 Mbit/s."""
    times = pd.date_range("2026-12-02 14:00", periods=3, freq="1min", tz="UTC")
    measured = pd.DataFrame({"anping-backup": [3.1e6, 3.0e6, 3.2e6]}, index=times)
    return capacity_chart(measured, 8.192e6, 2.5e6, 3.25e6).to_dict()


def test_capacity_axis_labels_every_tick_with_its_own_unit(bundle_chart):
    line, rules = bundle_chart["layer"]
    y = line["encoding"]["y"]
    assert y["scale"]["type"] == "symlog"  # a 2M bundle and a GE link on one readable axis
    ticks = [v for v in y["axis"]["values"] if v <= 1e9]
    labels = axis_labels(y, ticks)
    assert labels == [
        "1kbit/s", "10kbit/s", "100kbit/s", "1Mbit/s", "10Mbit/s", "100Mbit/s", "1Gbit/s",
    ]  # fmt: skip
    assert len(set(labels)) == len(labels), "two ticks read the same"
    # the levels share the line's scale and axis: one unit for the whole chart
    assert rules["encoding"]["y"]["scale"] == y["scale"]
    assert rules["encoding"]["y"].get("title") == y.get("title")


def test_the_old_format_is_what_drew_0g():
    """The rule the test applies reproduces the reported "0G 0G 0G" for the old axis."""
    old = {"scale": {"type": "symlog"}, "axis": {"format": "~s"}}
    decades = [10.0**k for k in range(3, 10)]
    assert axis_labels(old, decades) == ["0G", "0G", "0G", "0G", "0G", "0.1G", "1G"]


def test_capacity_chart_without_measurements_keeps_its_levels():
    spec = capacity_chart(pd.DataFrame(), 1e9, 2e8, 2.6e8).to_dict()
    levels = next(d for d in spec["datasets"].values() if d and "level" in d[0])
    assert [row["bps"] for row in levels] == [1e9, 2e8, 2.6e8]


def test_history_axes_say_their_unit():
    times = pd.date_range("2026-12-02 14:00", periods=2, freq="1min", tz="UTC")
    frame = pd.DataFrame({"GigabitEthernet0/0/1": [2e7, 6e7], "lag1": [1e6, 3e6]}, index=times)
    spec = history_chart(frame, "bps").to_dict()
    y = spec["encoding"]["y"]
    assert axis_labels(y, [0, 2e7, 4e7, 6e7]) == ["0bit/s", "20Mbit/s", "40Mbit/s", "60Mbit/s"]
    rows = next(iter(spec["datasets"].values()))
    assert {r["series"] for r in rows} == {"GigabitEthernet0/0/1", "lag1"}  # one line each
    assert history_chart(frame, "ratio").to_dict()["encoding"]["y"]["axis"] == {"format": ".0%"}
