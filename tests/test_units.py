"""Units as engineers write them: parse, format, round trip, and every bad input."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from emops.errors import EmopsError
from emops.units import format_rate, format_size, format_time, parse_rate, parse_size, parse_time

# --- parsing -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "bps"),
    [
        ("2M", 2e6),
        ("155M", 155e6),
        ("1G", 1e9),
        ("GE", 1e9),
        ("ge", 1e9),
        ("2GE", 2e9),
        ("64k", 64e3),
        ("2Mbps", 2e6),
        ("2 M", 2e6),
        ("2.5M", 2.5e6),
        (" 34M ", 34e6),
        ("1e6", 1e6),
        ("2m", 2e6),  # rate prefixes are case-insensitive: telecom "2m" is 2M
        ("9600", 9600),
        (2e6, 2e6),
        (64000, 64000),
    ],
)
def test_parse_rate(text, bps):
    assert parse_rate(text) == pytest.approx(bps)


@pytest.mark.parametrize(
    ("text", "nbytes"),
    [
        ("512KB", 512_000),
        ("512kB", 512_000),
        ("20MB", 20_000_000),
        ("1GB", 1e9),
        ("1MiB", 1_048_576),
        ("1.5GiB", 1.5 * 2**30),
        ("4KiB", 4096),
        ("700B", 700),
        ("900", 900),
        ("64kb", 8_000),  # bits
        ("64Kb", 8_000),  # bits: a trailing lower-case b
        ("2Mb", 250_000),
        ("1Gb", 125_000_000),
        ("1gb", 125_000_000),
        (1500, 1500),
    ],
)
def test_parse_size(text, nbytes):
    assert parse_size(text) == pytest.approx(nbytes)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("30s", 30),
        ("20ms", 0.020),
        ("2min", 120),
        ("500us", 0.000_5),
        ("1h", 3600),
        ("1.5sec", 1.5),
        ("45", 45),
        ("20MS", 0.020),
        (0.25, 0.25),
    ],
)
def test_parse_time(text, seconds):
    assert parse_time(text) == pytest.approx(seconds)


def test_zero_only_where_allowed():
    assert parse_time("0", "--delay", allow_zero=True) == 0
    assert parse_time("0ms", "--delay", allow_zero=True) == 0
    assert parse_rate(0, "--rate", allow_zero=True) == 0
    assert parse_size("0B", "--size", allow_zero=True) == 0


# --- formatting ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("bps", "text"),
    [(2e6, "2M"), (155e6, "155M"), (1e9, "1G"), (64e3, "64k"), (2.048e6, "2.048M"), (500, "500")],
)
def test_format_rate(bps, text):
    assert format_rate(bps) == text


@pytest.mark.parametrize(
    ("nbytes", "text"),
    [(512_000, "512KB"), (20e6, "20MB"), (1e9, "1GB"), (900, "900B"), (2**20, "1.049MB")],
)
def test_format_size(nbytes, text):
    assert format_size(nbytes) == text


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(30, "30s"), (0.020, "20ms"), (120, "120s"), (0.000_5, "500us"), (1.5, "1.5s")],
)
def test_format_time(seconds, text):
    assert format_time(seconds) == text


def test_format_time_below_a_microsecond_keeps_its_unit():
    # 1 ns is 0.001 us, not "1e-09us" (which would read back as 1e-15 s)
    assert format_time(1e-9) == "0.001us"


# --- round trip: format then parse, within 4 significant digits ------------------------------

REL = 5e-4  # half a unit in the 4th significant digit


@given(st.floats(min_value=1e-3, max_value=1e16, allow_nan=False, allow_infinity=False))
def test_rate_round_trip(bps):
    assert parse_rate(format_rate(bps)) == pytest.approx(bps, rel=REL)


@given(st.floats(min_value=1e-3, max_value=1e16, allow_nan=False, allow_infinity=False))
def test_size_round_trip(nbytes):
    assert parse_size(format_size(nbytes)) == pytest.approx(nbytes, rel=REL)


@given(st.floats(min_value=1e-12, max_value=1e7, allow_nan=False, allow_infinity=False))
def test_time_round_trip(seconds):
    assert parse_time(format_time(seconds)) == pytest.approx(seconds, rel=REL)


# --- bad input: EmopsError naming the field the caller gave -------------------------------


def field_of(parse, value, field, **kw) -> str:
    with pytest.raises(EmopsError) as caught:
        parse(value, field, **kw)
    assert len(caught.value.problems) == 1
    return caught.value.problems[0].field


BAD = [
    "2X",  # unknown unit
    "2 parsecs",
    "fast",  # not a number
    "",
    "M",
    "2.5.1M",
    "-2",  # negative
    -5,
    "0",  # zero where not allowed
    0,
    True,  # bool is not a number
    False,
    None,
    float("nan"),
    float("inf"),
    "1e999",  # overflows to infinity
    10**400,  # too large for a float
]


@pytest.mark.parametrize("value", BAD)
def test_bad_rate(value):
    assert field_of(parse_rate, value, "--link-rate") == "--link-rate"


@pytest.mark.parametrize("value", [*BAD, "2GE", "10s"])
def test_bad_size(value):
    assert field_of(parse_size, value, "--packet-size") == "--packet-size"


@pytest.mark.parametrize("value", [*BAD, "GE", "10MB", "2m"])
def test_bad_time(value):
    assert field_of(parse_time, value, "--think-time") == "--think-time"


@pytest.mark.parametrize("value", ["-1ms", -0.5, True, "soon"])
def test_bad_time_even_when_zero_is_allowed(value):
    assert field_of(parse_time, value, "--delay", allow_zero=True) == "--delay"


def test_default_field_names():
    assert field_of(lambda v, f: parse_rate(v), "2X", "") == "rate"
    assert field_of(lambda v, f: parse_size(v), "2X", "") == "size"
    assert field_of(lambda v, f: parse_time(v), "2X", "") == "time"


def test_messages_say_what_and_how():
    with pytest.raises(EmopsError) as caught:
        parse_rate("2X", "--link-rate")
    text = str(caught.value)
    assert text.startswith("--link-rate: ")
    assert "'X'" in text and "k, M or G" in text
