"""The one shape every check returns: JSON-able, `ok` plus data or a short reason.

Reasons are label values of `emops_collector_errors_total`: timeout, connect,
http, status, checksum, malformed, wrong_answer, auth, query (the check's own),
unroutable, not_lab (refused by the safety rules: nothing was sent), agent,
no_netns (the vantage point itself is broken).
"""

from __future__ import annotations

from typing import Any

Result = dict[str, Any]


def failure(reason: str, detail: str = "", **extra: Any) -> Result:
    return {"ok": False, "error": reason, "detail": detail[:200], **extra}
