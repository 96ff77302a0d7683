"""The load shape as a table of stages, and how the locustfile gets it.

Locust's LoadTestShape asks `tick()` every second what the user count should
be; emops answers from a stage table (until, users, spawn_rate) so a campaign's
shape is data. The table reaches the locustfile through the EMOPS_STAGES
environment variable (JSON), because Locust workers and masters are separate
processes started by the runner; without it a plain `locust -f` run gets a
one-minute trial table.
"""

from __future__ import annotations

import itertools
import json
import os
from collections.abc import Sequence

from loadtest.campaign import Stage

ENV = "EMOPS_STAGES"
# A one-minute trial for `locust -f loadtest/locustfile.py` with nothing set.
DEFAULT_STAGES = (Stage(10, 5, 5), Stage(60, 10, 5))


def shape_tick(stages: Sequence[Stage], run_time: float) -> tuple[int, float] | None:
    """(users, spawn_rate) of the stage `run_time` falls in; None after the last: stop."""
    for stage in stages:
        if run_time < stage.until_s:
            return stage.users, stage.spawn_rate
    return None


def to_env(stages: Sequence[Stage]) -> str:
    return json.dumps([[s.until_s, s.users, s.spawn_rate] for s in stages])


def from_env(environ: dict[str, str] | None = None) -> tuple[Stage, ...]:
    """The stage table from EMOPS_STAGES, or DEFAULT_STAGES when unset."""
    text = (os.environ if environ is None else environ).get(ENV, "").strip()
    if not text:
        return DEFAULT_STAGES
    try:
        rows = json.loads(text)
        stages = tuple(Stage(float(u), int(n), float(r)) for u, n, r in rows)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"{ENV}: not a JSON list of [until_s, users, spawn_rate]: {exc}") from None
    if not stages or any(b.until_s <= a.until_s for a, b in itertools.pairwise(stages)):
        raise ValueError(f"{ENV}: stages must be non-empty and in time order")
    return stages
