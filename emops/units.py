"""Units as network engineers write them: `2M`, `155M`, `1G`, `512KB`, `30s`, `20ms`.

Conventions (stated once, used everywhere):
- rates are bits per second with SI prefixes: k = 10^3, M = 10^6, G = 10^9
  (telecom usage: a "2M" line is 2,000,000 bit/s; "GE" means 1G);
- sizes are bytes; KB/MB/GB are SI (10^3, 10^6, 10^9), KiB/MiB/GiB are binary
  (2^10, 2^20, 2^30); a trailing lower-case "b" (kb, Mb) means bits;
- times are seconds; ns, us, ms, s, min, h are accepted.
A bare number takes the base unit (bit/s, byte, second).

Only ASCII digits are numbers (Python's int() and float() also accept
Arabic-Indic digits or `²`, which no engineer means), and every quantity has
physical bounds: a value outside them is a typo, not a plan. Bare numbers
(`--users 120`) go through parse_int / parse_number for the same reasons.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable

from emops.errors import EmopsError

_NUMBER = r"([-+]?[0-9]+(?:\.[0-9]*)?(?:[eE][-+]?[0-9]+)?|[-+]?\.[0-9]+)"  # [0-9]: ASCII only
_INTEGER = r"[-+]?[0-9]+"

# Physical bounds (inclusive). Anything outside is refused, not computed with.
MAX_RATE_BPS = 1e12  # 1 Tbit/s: far above any WAN link this suite plans
MIN_RATE_BPS = 1.0
MAX_SIZE_BYTES = 1e15  # 1 PB
MIN_SIZE_BYTES = 1.0
MAX_TIME_S = 366 * 86400.0  # a year
MIN_TIME_S = 1e-9  # 1 ns; below it (e.g. the denormal 1e-320s) divisions blow up
_RATE_UNITS = {
    "": 1,
    "bps": 1,
    "k": 1e3,
    "kbps": 1e3,
    "m": 1e6,
    "mbps": 1e6,
    "g": 1e9,
    "gbps": 1e9,
    "ge": 1e9,
    "t": 1e12,
}
_SIZE_UNITS = {
    "": 1,
    "b": 1,
    "kb": 1e3,
    "mb": 1e6,
    "gb": 1e9,
    "tb": 1e12,
    "kib": 2**10,
    "mib": 2**20,
    "gib": 2**30,
    "tib": 2**40,
}
_BIT_SIZE_UNITS = {"kb": 1e3 / 8, "mb": 1e6 / 8, "gb": 1e9 / 8, "tb": 1e12 / 8}
_TIME_UNITS = {"": 1, "ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1, "sec": 1, "min": 60, "h": 3600}


def _split(text: object, field: str, example: str) -> tuple[float, str]:
    if isinstance(text, bool):
        raise EmopsError.of(field, f"{text!r} is not a number", f"write it like {example}")
    if isinstance(text, int | float):
        try:
            return float(text), ""
        except OverflowError:
            raise EmopsError.of(
                field, f"{text!r} is too large", f"write it like {example}"
            ) from None
    raw = str(text).strip()
    if raw.upper() == "GE":
        return 1.0, "ge"
    m = re.fullmatch(_NUMBER + r"\s*([A-Za-z]*)", raw)
    if not m:
        raise EmopsError.of(
            field, f"{raw!r} is not a number with a unit", f"write it like {example}"
        )
    return float(m.group(1)), m.group(2)


def _bounded(
    value: float,
    field: str,
    raw: object,
    allow_zero: bool,
    bounds: tuple[float, float],
    show: Callable[[float], str],
) -> float:
    """`value` if finite and within `bounds` (or zero where allowed), else EmopsError."""
    low, high = bounds
    if not math.isfinite(value):
        raise EmopsError.of(field, f"{raw!r} is not a finite number", "give a positive value")
    if value < 0 or (value == 0 and not allow_zero):
        need = "zero or more" if allow_zero else "more than zero"
        raise EmopsError.of(field, f"{raw!r} must be {need}", "give a positive value")
    if value == 0:
        return value
    if value < low or value > high:
        raise EmopsError.of(
            field, f"{raw!r} is outside {show(low)} .. {show(high)}", "check the number and unit"
        )
    return value


def parse_rate(
    text: object,
    field: str = "rate",
    allow_zero: bool = False,
    bounds: tuple[float, float] = (MIN_RATE_BPS, MAX_RATE_BPS),
) -> float:
    """Bits per second from `2M`, `155M`, `1G`, `GE`, `64k`, `2Mbps` or a number."""
    value, unit = _split(text, field, "2M, 155M or 1G")
    factor = _RATE_UNITS.get(unit.lower())
    if factor is None:
        raise EmopsError.of(field, f"unknown rate unit {unit!r}", "use k, M or G (bit/s, SI)")
    return _bounded(value * factor, field, text, allow_zero, bounds, _rate_unit)


def parse_size(
    text: object,
    field: str = "size",
    allow_zero: bool = False,
    bounds: tuple[float, float] = (MIN_SIZE_BYTES, MAX_SIZE_BYTES),
) -> float:
    """Bytes from `512KB`, `20MB`, `1.5GiB`, `700B`, `64kb` (bits) or a number."""
    value, unit = _split(text, field, "512KB, 20MB or 1GiB")
    if unit.endswith("b") and unit.lower() in _BIT_SIZE_UNITS:  # kb, Kb, Mb, Gb, Tb: bits
        factor = _BIT_SIZE_UNITS[unit.lower()]
    else:
        factor = _SIZE_UNITS.get(unit.lower())
    if factor is None:
        raise EmopsError.of(
            field, f"unknown size unit {unit!r}", "use B, KB, MB, GB (SI) or KiB, MiB, GiB"
        )
    return _bounded(value * factor, field, text, allow_zero, bounds, _size_bound)


def parse_time(
    text: object,
    field: str = "time",
    allow_zero: bool = False,
    bounds: tuple[float, float] = (MIN_TIME_S, MAX_TIME_S),
) -> float:
    """Seconds from `30s`, `20ms`, `2min`, `1h`, `500us`, `5ns` or a number."""
    value, unit = _split(text, field, "30s or 20ms")
    factor = _TIME_UNITS.get(unit.lower())
    if factor is None:
        raise EmopsError.of(field, f"unknown time unit {unit!r}", "use ns, us, ms, s, min or h")
    return _bounded(value * factor, field, text, allow_zero, bounds, _time_bound)


def parse_int(
    text: object, field: str, minimum: int = 0, maximum: int = 10**9, example: str = "120"
) -> int:
    """A whole number written in ASCII digits, within minimum..maximum (a count, a port)."""
    raw = str(text).strip() if not isinstance(text, bool) else ""
    if not re.fullmatch(_INTEGER, raw):
        raise EmopsError.of(field, f"{text!r} is not a whole number", f"write it like {example}")
    value = int(raw) if len(raw) <= 40 else None  # int() refuses > 4300 digits
    if value is None or not minimum <= value <= maximum:
        raise EmopsError.of(
            field, f"{raw[:40]!r} is outside {minimum} .. {maximum}", f"write it like {example}"
        )
    return value


def parse_number(
    text: object, field: str, minimum: float, maximum: float, example: str = "0.3"
) -> float:
    """A plain decimal number (ASCII, finite) within minimum..maximum: a ratio or a factor."""
    raw = str(text).strip() if not isinstance(text, bool) else ""
    if not re.fullmatch(_NUMBER, raw):
        raise EmopsError.of(field, f"{text!r} is not a number", f"write it like {example}")
    value = float(raw)
    if not (math.isfinite(value) and minimum <= value <= maximum):
        raise EmopsError.of(
            field, f"{text!r} is outside {minimum:g} .. {maximum:g}", f"write it like {example}"
        )
    return value


def _scaled(value: float, steps: list[tuple[float, str]]) -> str:
    for factor, suffix in steps:
        if abs(value) >= factor:
            number = value / factor
            return f"{number:.4g}{suffix}" if number != int(number) else f"{int(number)}{suffix}"
    factor, suffix = steps[-1]
    return f"{value / factor:.4g}{suffix}"


def format_rate(bps: float) -> str:
    """`155M`, `1G`, `2.5M`: the inverse of parse_rate (to 4 significant digits)."""
    return _scaled(bps, [(1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k"), (1, "")])


def _rate_unit(bps: float) -> str:
    return format_rate(bps) + "bit/s"


def format_size(nbytes: float) -> str:
    """`20MB`, `512KB`: SI, the inverse of parse_size (to 4 significant digits)."""
    return _scaled(nbytes, [(1e12, "TB"), (1e9, "GB"), (1e6, "MB"), (1e3, "KB"), (1, "B")])


def _size_bound(nbytes: float) -> str:
    return f"{nbytes:g}B" if nbytes < 1e6 else format_size(nbytes)


def _time_bound(seconds: float) -> str:
    if seconds >= 86400:
        return f"{seconds / 86400:g} days"
    return f"{seconds * 1e9:g}ns" if seconds < 1e-6 else format_time(seconds)


def format_time(seconds: float) -> str:
    """`30s`, `20ms`, `500us`: the inverse of parse_time (to 4 significant digits)."""
    return _scaled(seconds, [(1, "s"), (1e-3, "ms"), (1e-6, "us")])
