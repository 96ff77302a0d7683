"""The time range a page shows, and the PromQL windows that follow from it.

Three windows, because three questions: a headline KPI summarises the whole
range ("availability over the last hour"), a chart point summarises one step,
and "now" (link colours, device states) uses the network's rate window, at
least four scrapes wide so one lost scrape does not blank a link.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

PRESETS: dict[str, int] = {
    "Last 15 minutes": 15 * 60,
    "Last hour": 3600,
    "Last 6 hours": 6 * 3600,
    "Last 24 hours": 24 * 3600,
    "Last 7 days": 7 * 24 * 3600,
}
DEFAULT_PRESET = "Last hour"
POINTS = 120  # points per chart: enough to see a fault, cheap for Prometheus and the browser
NICE_STEPS = (5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200)

# The rate() window per network: 4 scrapes (lab scrapes every 5 s, the province every 30 s).
RATE_WINDOW_S = {"lab": 30, "province": 120}


def rate_window_s(network: str) -> int:
    """The network's rate window; an unknown network gets the province's (the slower one)."""
    return RATE_WINDOW_S.get(network, RATE_WINDOW_S["province"])


@dataclass(frozen=True)
class TimeRange:
    """`seconds` up to `end` (aligned to the step so cached range answers are reused)."""

    seconds: int
    end: float
    rate_window_s: int

    @classmethod
    def last(cls, seconds: int, network: str, now: float | None = None) -> TimeRange:
        now = time.time() if now is None else now
        step = _step(seconds)
        return cls(seconds, math.floor(now / step) * step, rate_window_s(network))

    @property
    def step(self) -> int:
        return _step(self.seconds)

    @property
    def start(self) -> float:
        return self.end - self.seconds

    @property
    def window(self) -> str:
        """The whole range: for headline KPIs."""
        return f"{self.seconds}s"

    @property
    def point_window(self) -> str:
        """One chart point: a step, but never narrower than the rate window."""
        return f"{max(self.step, self.rate_window_s)}s"

    @property
    def now_window(self) -> str:
        """The current state: the network's rate window."""
        return f"{self.rate_window_s}s"

    @property
    def resolution(self) -> str:
        """Subquery resolution: fine enough to catch a short outage, at most ~2000 points."""
        return f"{max(5, self.seconds // 2000)}s"


def _step(seconds: int) -> int:
    wanted = seconds / POINTS
    return next((s for s in NICE_STEPS if s >= wanted), NICE_STEPS[-1])
