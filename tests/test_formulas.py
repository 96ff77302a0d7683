"""The capacity formulas: the worked examples of docs/capacity.md, properties, validation."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from capacity.formulas import bulk_bps, overhead_factor, pingpong_bps, pingpong_refined_bps
from emops.errors import EmopsError

# --- worked examples (docs/capacity.md), expected values computed by hand ---------------


def test_example_a_pingpong_published():
    # 8*100*8*900 = 5,760,000 bit; T + K*P = 30 + 0.080 = 30.080 s
    assert pingpong_bps(100, 30, 8, 900, 0.010) == pytest.approx(191_489.36, abs=0.01)


def test_example_a_pingpong_refined_at_2m():
    # 30 + 2*8*0.010 + 16 * 7,200/2,000,000 = 30 + 0.160 + 0.0576 = 30.2176 s
    assert pingpong_refined_bps(100, 30, 8, 900, 0.010, 2e6) == pytest.approx(190_617.39, abs=0.01)


def test_example_a_pingpong_refined_without_link_rate():
    # 5,760,000 / 30.160
    assert pingpong_refined_bps(100, 30, 8, 900, 0.010) == pytest.approx(190_981.43, abs=0.01)


def test_example_b_bulk():
    # 8 * 20,000,000 * 1.05 / 120 = 168,000,000 / 120
    assert bulk_bps(20_000_000, 120, 1.05) == pytest.approx(1_400_000.0)
    assert bulk_bps(20_000_000, 120) == pytest.approx(1_400_000.0)  # O defaults to 1.05
    # 20 MiB instead: 176,160,768 / 120
    assert bulk_bps(20 * 2**20, 120, 1.05) == pytest.approx(1_468_006.4)


def test_example_c_small_site():
    lookup = pingpong_bps(100, 20, 6, 700, 0.010)  # 3,360,000 / 20.06
    ticket = pingpong_bps(40, 50, 12, 400, 0.010)  # 1,536,000 / 50.12
    county = pingpong_bps(30, 40, 6, 700, 0.010)  # 1,008,000 / 40.06
    report = bulk_bps(20_000_000, 120, 1.05)
    tariff = bulk_bps(2_000_000, 30, 1.05)  # 16,800,000 / 30
    assert lookup == pytest.approx(167_497.51, abs=0.01)
    assert ticket == pytest.approx(30_646.45, abs=0.01)
    assert county == pytest.approx(25_162.26, abs=0.01)
    assert tariff == pytest.approx(560_000.0)
    demand = lookup + ticket + county + report + 2 * tariff
    assert demand == pytest.approx(2_743_306.21, abs=0.01)
    assert demand * 1.3 == pytest.approx(3_566_298.08, abs=0.01)
    assert 2e6 < demand * 1.3 <= 4e6  # 2x2M
    critical = lookup + county + 2 * tariff
    assert critical == pytest.approx(1_312_659.76, abs=0.01)
    assert critical * 1.3 == pytest.approx(1_706_457.69, abs=0.01)
    assert critical * 1.3 <= 2e6  # 1x2M backup


def test_overhead_factor_cases():
    assert overhead_factor() == pytest.approx(1538 / 1460)  # default, on the wire
    assert overhead_factor() == pytest.approx(1.0534, abs=1e-4)
    # what tbf counts on the twin: Ethernet frame, TCP timestamps
    assert overhead_factor(tcp_options_bytes=12, wire_bytes=0) == pytest.approx(1514 / 1448)
    assert overhead_factor(tcp_options_bytes=12, wire_bytes=0) == pytest.approx(1.0456, abs=1e-4)
    assert overhead_factor(wire_bytes=0) == pytest.approx(1514 / 1460)
    assert overhead_factor(mtu=9000, l2_bytes=14, wire_bytes=0) == pytest.approx(9014 / 8960)


# --- properties ---------------------------------------------------------------------------

users = st.integers(min_value=0, max_value=100_000)
think = st.floats(min_value=1e-3, max_value=3600, allow_nan=False)
packets = st.integers(min_value=1, max_value=1000)
size = st.floats(min_value=1, max_value=65_535, allow_nan=False)
delay = st.floats(min_value=0, max_value=1, allow_nan=False)
link = st.one_of(st.none(), st.floats(min_value=1e3, max_value=1e11, allow_nan=False))


@given(users, users, think, packets, size, delay, link)
def test_more_users_never_need_less(n1, n2, t, k, m, p, c):
    lo, hi = sorted((n1, n2))
    assert pingpong_bps(lo, t, k, m, p) <= pingpong_bps(hi, t, k, m, p)
    assert pingpong_refined_bps(lo, t, k, m, p, c) <= pingpong_refined_bps(hi, t, k, m, p, c)


@given(users, think, think, packets, size, delay, link)
def test_more_think_time_never_needs_more(n, t1, t2, k, m, p, c):
    lo, hi = sorted((t1, t2))
    assert pingpong_bps(n, hi, k, m, p) <= pingpong_bps(n, lo, k, m, p)
    assert pingpong_refined_bps(n, hi, k, m, p, c) <= pingpong_refined_bps(n, lo, k, m, p, c)


@given(users, think, packets, size, delay, link)
def test_refined_never_exceeds_published(n, t, k, m, p, c):
    assert pingpong_refined_bps(n, t, k, m, p, c) <= pingpong_bps(n, t, k, m, p)


@given(users, think, packets, size)
def test_refined_equals_published_without_delay_or_link(n, t, k, m):
    assert pingpong_refined_bps(n, t, k, m, 0) == pingpong_bps(n, t, k, m, 0)


bulk_size = st.floats(min_value=1, max_value=1e12, allow_nan=False)
bulk_time = st.floats(min_value=1e-3, max_value=1e5, allow_nan=False)
overhead = st.floats(min_value=1, max_value=2, allow_nan=False)
scale = st.floats(min_value=1e-3, max_value=1e3, allow_nan=False)


@given(bulk_size, bulk_time, overhead, scale)
def test_bulk_is_linear_in_size(f, r, o, a):
    assert bulk_bps(a * f, r, o) == pytest.approx(a * bulk_bps(f, r, o), rel=1e-12)


@given(bulk_size, bulk_time, overhead, scale)
def test_bulk_is_inverse_in_time(f, r, o, a):
    assert bulk_bps(f, a * r, o) == pytest.approx(bulk_bps(f, r, o) / a, rel=1e-12)


# --- validation: every bad argument names its CLI flag -------------------------------------


def field_of(call) -> str:
    with pytest.raises(EmopsError) as caught:
        call()
    assert len(caught.value.problems) == 1
    return caught.value.problems[0].field


GOOD = {"users": 100, "think_time_s": 30, "packets": 8, "packet_bytes": 900, "delay_s": 0.01}


@pytest.mark.parametrize("form", [pingpong_bps, pingpong_refined_bps])
@pytest.mark.parametrize(
    ("name", "value", "flag"),
    [
        ("users", -1, "--users"),
        ("users", 1.5, "--users"),
        ("users", True, "--users"),
        ("users", "100", "--users"),
        ("think_time_s", 0, "--think-time"),
        ("think_time_s", -30, "--think-time"),
        ("think_time_s", float("nan"), "--think-time"),
        ("think_time_s", float("inf"), "--think-time"),
        ("packets", 0, "--packets"),
        ("packets", -2, "--packets"),
        ("packets", 2.5, "--packets"),
        ("packet_bytes", 0, "--packet-size"),
        ("packet_bytes", -900, "--packet-size"),
        ("delay_s", -0.01, "--delay"),
    ],
)
def test_pingpong_rejects_bad_arguments(form, name, value, flag):
    assert field_of(lambda: form(**{**GOOD, name: value})) == flag


def test_pingpong_accepts_zero_users_and_zero_delay():
    assert pingpong_bps(0, 30, 8, 900, 0.01) == 0
    assert pingpong_refined_bps(0, 30, 8, 900, 0.01, 2e6) == 0
    assert pingpong_bps(100, 30, 8, 900, 0) == pytest.approx(5_760_000 / 30)
    assert pingpong_bps(100.0, 30, 8.0, 900, 0.01) == pingpong_bps(100, 30, 8, 900, 0.01)


@pytest.mark.parametrize("bad", [0, -2e6, float("nan"), True])
def test_refined_rejects_bad_link_rate(bad):
    assert field_of(lambda: pingpong_refined_bps(**GOOD, link_bps=bad)) == "--link-rate"


@pytest.mark.parametrize(
    ("args", "flag"),
    [
        ((0, 120, 1.05), "--size"),
        ((-20e6, 120, 1.05), "--size"),
        ((20e6, 0, 1.05), "--required-time"),
        ((20e6, -120, 1.05), "--required-time"),
        ((20e6, 120, 0.99), "--overhead"),
        ((20e6, 120, 0), "--overhead"),
        ((20e6, 120, float("nan")), "--overhead"),
    ],
)
def test_bulk_rejects_bad_arguments(args, flag):
    assert field_of(lambda: bulk_bps(*args)) == flag


def test_bulk_accepts_overhead_of_exactly_one():
    assert bulk_bps(1000, 8, 1) == 1000


@pytest.mark.parametrize(
    ("kwargs", "flag"),
    [
        ({"mtu": 0}, "--mtu"),
        ({"mtu": 40}, "--mtu"),  # no payload left after the headers
        ({"l2_bytes": -1}, "--l2-header"),
        ({"ip_tcp_header_bytes": -1}, "--ip-tcp-header"),
        ({"tcp_options_bytes": -1}, "--tcp-options"),
        ({"wire_bytes": -1}, "--wire-overhead"),
    ],
)
def test_overhead_factor_rejects_bad_arguments(kwargs, flag):
    assert field_of(lambda: overhead_factor(**kwargs)) == flag


def test_field_names_can_be_overridden():
    fields = {"think_time_s": "traffic.pingpong[0].think_time"}
    assert (
        field_of(lambda: pingpong_bps(1, 0, 1, 1, 0, fields=fields))
        == "traffic.pingpong[0].think_time"
    )
    # names not in the mapping keep their flag
    assert field_of(lambda: bulk_bps(0, 1, fields=fields)) == "--size"
