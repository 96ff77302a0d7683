"""Units as engineers write them: parse, format, round trip, and every bad input."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from emops.errors import EmopsError
from emops.units import (
    MAX_RATE_BPS,
    MAX_SIZE_BYTES,
    MAX_TIME_S,
    MIN_RATE_BPS,
    MIN_SIZE_BYTES,
    MIN_TIME_S,
    format_rate,
    format_size,
    format_time,
    parse_int,
    parse_number,
    parse_rate,
    parse_size,
    parse_time,
)

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


@given(st.floats(min_value=MIN_RATE_BPS, max_value=MAX_RATE_BPS))
def test_rate_round_trip(bps):
    assert parse_rate(format_rate(bps)) == pytest.approx(bps, rel=REL)


@given(st.floats(min_value=MIN_SIZE_BYTES, max_value=MAX_SIZE_BYTES))
def test_size_round_trip(nbytes):
    assert parse_size(format_size(nbytes)) == pytest.approx(nbytes, rel=REL)


@given(st.floats(min_value=MIN_TIME_S, max_value=MAX_TIME_S))
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
    "\u0661\u0660",  # Arabic-Indic digits: int() and float() read them as 10
    "\u00b2",  # superscript two
    "\uff12M",  # fullwidth digit two
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


@pytest.mark.parametrize(
    ("parse", "value"),
    [
        (parse_time, "1e-320s"),  # denormal: 20MB within it is an infinite rate
        (parse_time, "0.0005us"),  # half a nanosecond
        (parse_time, "9000h"),  # more than a year
        (parse_rate, "2T"),  # above 1 Tbit/s
        (parse_rate, "0.5"),  # below 1 bit/s
        (parse_size, "2000TB"),  # above 1 PB
        (parse_size, "0.1B"),
    ],
)
def test_values_beyond_physical_bounds_are_refused(parse, value):
    assert field_of(parse, value, "--x") == "--x"


def test_bounds_are_inclusive():
    assert parse_rate("1T") == MAX_RATE_BPS
    assert parse_size("1000TB") == MAX_SIZE_BYTES
    assert parse_time(1e-9) == MIN_TIME_S
    assert parse_rate("2M", bounds=(1, 1e6 * 3)) == 2e6
    with pytest.raises(EmopsError, match=r"outside 1B \.\. 65535B"):
        parse_size("9MB", "--packet-size", bounds=(1, 65535))


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


# --- bare numbers: ASCII digits only, within bounds ------------------------------------------


def test_parse_int_reads_ascii_counts():
    assert parse_int("120", "--users") == 120
    assert parse_int(" 7 ", "--users") == 7
    assert parse_int("0", "--member") == 0
    assert parse_int("65535", "--port", 1, 65535) == 65535


@pytest.mark.parametrize(
    "value",
    ["\u0661\u0660\u0660", "\u00b2", "\uff18", "1.5", "1e3", "", "ten", "0x10", "-1",
     "9" * 5000, True, None, "1_000"],
)  # fmt: skip
def test_parse_int_refuses(value):
    assert field_of(lambda v, f: parse_int(v, f, 0, 10**6), value, "--users") == "--users"


def test_parse_int_bounds_name_the_range():
    with pytest.raises(EmopsError, match=r"--port: '70000' is outside 1 \.\. 65535"):
        parse_int("70000", "--port", 1, 65535)


def test_parse_number_reads_plain_decimals():
    assert parse_number("0.3", "--headroom", 0, 1) == 0.3
    assert parse_number("1.05", "--overhead", 1, 10) == 1.05


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "1e999", "\u0660.3", "0.3x", "-0.1", "2"])
def test_parse_number_refuses(value):
    assert field_of(lambda v, f: parse_number(v, f, 0, 1), value, "--headroom") == "--headroom"
