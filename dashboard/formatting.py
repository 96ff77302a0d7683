"""How numbers look on the dashboard: one function per kind, used by pages and tests.

Tests compare what a page shows with what PromQL returns by passing the PromQL
value through the same function, so a rounding rule lives here only once.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime

from emops.units import format_rate, format_size

MISSING = "—"  # no data: shown instead of a number, never as 0


def _missing(value: float | None) -> bool:
    return value is None or not math.isfinite(value)


def ratio(value: float | None, digits: int = 2) -> str:
    """0.9995 -> '99.95 %'."""
    return MISSING if _missing(value) else f"{value * 100:.{digits}f} %"


def seconds(value: float | None) -> str:
    """Latency: milliseconds below a second, seconds above."""
    if _missing(value):
        return MISSING
    return f"{value * 1000:.1f} ms" if value < 1 else f"{value:.2f} s"


def bits_per_second(value: float | None) -> str:
    return MISSING if _missing(value) else f"{format_rate(value)}bit/s"


def uptime(value: float | None) -> str:
    """Since when a device runs: '12 d 3 h', '5 h 7 min', '42 min', '30 s'."""
    if _missing(value):
        return MISSING
    minutes, hours, days = int(value // 60), int(value // 3600), int(value // 86400)
    if days:
        return f"{days} d {hours % 24} h"
    if hours:
        return f"{hours} h {minutes % 60} min"
    return f"{minutes} min" if minutes else f"{value:.0f} s"


def celsius(value: float | None) -> str:
    return MISSING if _missing(value) else f"{value:.1f} °C"


def volts(value: float | None) -> str:
    return MISSING if _missing(value) else f"{value:.2f} V"


def dbm(value: float | None) -> str:
    return MISSING if _missing(value) else f"{value:.2f} dBm"


def size(value: float | None) -> str:
    return MISSING if _missing(value) else format_size(value)


def per_second(value: float | None) -> str:
    """Errors or discards per second: '0 /s' when none, so a clean interface reads clean."""
    return MISSING if _missing(value) else f"{value:.3g} /s"


def count(value: float | None) -> str:
    return MISSING if _missing(value) else f"{value:.0f}"


def spread(half_width: float | None, kind: str) -> str | None:
    """'± 0.20 % (95 %)': the interval under a campaign KPI's mean; None with one run."""
    if half_width is None:
        return None
    return f"± {kind_format(kind, half_width)} (95 %)"


def clock(unix: float) -> str:
    """A moment as ops read it in a banner: UTC, to the second."""
    return datetime.fromtimestamp(unix, UTC).strftime("%H:%M:%S UTC")


def kind_format(kind: str, value: float | None) -> str:
    return {"ratio": ratio, "seconds": seconds, "bps": bits_per_second}.get(kind, count)(value)
