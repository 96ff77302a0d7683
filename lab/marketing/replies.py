"""JSON replies in one envelope, each with the checksum load clients verify.

Success: `{"data": ...}`. Failure: `{"data": null, "error": {"field", "message"}}`
with a 4xx/5xx status, so a client always knows which input was wrong and
never sees a traceback. Both carry `X-Emops-Checksum` over `data`.
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from emops import marketing_contract as contract

# HTTP status to the failure kind counted in /stats.
FAILURE_KINDS = {
    400: "bad_input",
    404: "not_found",
    405: "bad_method",
    409: "conflict",
    413: "too_large",
    422: "rejected",
    500: "internal",
    503: "db_unavailable",
}


class ApiError(Exception):
    """A request the service answers with a 4xx/5xx JSON error naming the field."""

    def __init__(self, status: int, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.field = status, message, field


def bad(field: str, message: str) -> ApiError:
    return ApiError(400, f"{field}: {message}", field)


def reply(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    """The JSON envelope around `data`, with its checksum header."""
    body = json.dumps({"data": data}, ensure_ascii=False, separators=(",", ":"))
    return web.Response(
        text=body,
        status=status,
        content_type="application/json",
        headers={contract.HEADER: contract.header_value(data), **(headers or {})},
    )


def error_reply(status: int, message: str, field: str | None = None) -> web.Response:
    body = {"data": None, "error": {"field": field, "message": message, "status": status}}
    return web.Response(
        text=json.dumps(body, ensure_ascii=False, separators=(",", ":")),
        status=status,
        content_type="application/json",
        headers={contract.HEADER: contract.header_value(None)},
    )
