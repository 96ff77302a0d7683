"""One hostile agent per mode next to a real snmpd, polled by the exporter process.

Whatever a device sends, it is down with a reason of its own while the good
device is polled every interval and /metrics keeps answering (tests/collectors/
hostile_agent.py lists the modes; the fixture is in conftest.py).
"""

from __future__ import annotations

import time
from collections import Counter
from itertools import pairwise

import pytest
from exporter_kit import Exporter, Metrics
from hostile_agent import MODES

INTERVAL = 2.0  # conftest.HOSTILE_OPTIONS
WATCH = 5 * INTERVAL
EXPECTED = {
    "garbage": "malformed",
    "truncated": "malformed",
    "wrong_id": "timeout",
    "slow": "deadline",
    "silent": "timeout",
    "endless": "too_large",
    "backwards": "malformed",
    "repeats": "malformed",
    "huge_int": "malformed",
    "huge_string": "malformed",
    "bad_index": "malformed",
    "not_response": "malformed",
}
pytestmark = pytest.mark.slow


def _watch(exporter: Exporter, seconds: float) -> list[tuple[float, Metrics]]:
    """Scrapes every 0.25 s; each must answer (HTTP 200), whatever the agents sent."""
    scrapes = []
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        scrapes.append((time.monotonic(), exporter.scrape()))
        time.sleep(0.25)
    return scrapes


@pytest.fixture(scope="module")
def watched(
    hostile_exporter: tuple[Exporter, dict[str, str]],
) -> tuple[list[tuple[float, Metrics]], dict[str, str]]:
    exporter, devices = hostile_exporter
    return _watch(exporter, WATCH), devices


def test_every_mode_is_listed() -> None:
    assert set(EXPECTED) == set(MODES)


def test_good_device_is_polled_every_interval(
    watched: tuple[list[tuple[float, Metrics]], dict[str, str]],
) -> None:
    scrapes, _ = watched
    polls = []  # when the good device's packet counter moved: one poll each
    last = None
    for at, metrics in scrapes:
        assert metrics.value("emops_snmp_up", device="good") == 1.0
        packets = metrics.value("emops_snmp_packets_total", device="good")
        if packets != last:
            polls.append(at)
            last = packets
    gaps = [b - a for a, b in pairwise(polls)]
    assert len(polls) >= WATCH / INTERVAL - 1, polls
    # rounds end with the slowest target's deadline (90 % of the interval): never stretched
    assert max(gaps) < 1.75 * INTERVAL, gaps


@pytest.mark.parametrize("mode", MODES)
def test_each_mode_is_down_with_its_reason(
    mode: str, watched: tuple[list[tuple[float, Metrics]], dict[str, str]]
) -> None:
    scrapes, devices = watched
    device = devices[mode]
    _, last = scrapes[-1]
    assert last.value("emops_snmp_up", device=device) == 0.0
    errors = Counter(last.errors(device))
    assert errors, f"{mode}: no failure counted"
    reason, _ = errors.most_common(1)[0]
    assert reason == EXPECTED[mode], (mode, dict(errors))
    # its polls end by the deadline too (90 % of the interval, plus a loaded machine's slack)
    duration = last.value("emops_snmp_scrape_duration_seconds", device=device)
    assert duration is not None and duration < 0.9 * INTERVAL + 0.5, (mode, duration)
