"""In-process business counters behind GET /stats (Prometheus comes later, in collectors/).

Counts are per process: a test or campaign compares them across the web
servers behind the load balancer to see where traffic went.
"""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

from aiohttp import web


class Stats:
    """Transactions by endpoint, failures by kind, payments, and pool use."""

    def __init__(self) -> None:
        self.started = time.time()
        self.transactions: Counter[str] = Counter()
        self.failures: Counter[str] = Counter()
        self.payments: Counter[str] = Counter()
        self.exports: Counter[str] = Counter()

    def snapshot(self, pools: Counter[str]) -> dict[str, Any]:
        return {
            "uptime_s": int(time.time() - self.started),
            "transactions": dict(self.transactions),
            "failures": dict(self.failures),
            "payments": dict(self.payments),
            "exports": dict(self.exports),
            "db_connections_used": dict(pools),
        }


STATS: web.AppKey[Stats] = web.AppKey("stats", Stats)
