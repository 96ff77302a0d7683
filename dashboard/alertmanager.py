"""Read the alerts Alertmanager holds (optional: only when `--alertmanager` is given).

Alertmanager knows what Prometheus no longer does: silences, inhibitions and
which receiver got what. A failure here is reported, never raised.
"""

from __future__ import annotations

import json

from dashboard.prometheus import DEFAULT_TIMEOUT_S, QueryError, Unreachable, fetch_url


def alertmanager_alerts(url: str, timeout_s: float = DEFAULT_TIMEOUT_S) -> tuple[list[dict], str]:
    """(alerts, "") on success, ([], why) otherwise; /api/v2/alerts of Alertmanager at `url`."""
    try:
        body = fetch_url(f"{url.rstrip('/')}/api/v2/alerts", timeout_s)
        alerts = json.loads(body)
    except (Unreachable, QueryError, ValueError) as exc:
        return [], f"Alertmanager at {url} did not answer: {exc}"
    if not isinstance(alerts, list):
        return [], f"Alertmanager at {url} sent something that is not a list of alerts"
    return alerts, ""
