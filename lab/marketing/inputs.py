"""Parsing of path, query and body values; every failure is a 400 naming the field.

JSON booleans are not integers here and floats are not money: `true` or
`10.5` for an amount in fen is a client bug worth rejecting loudly.
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from lab.marketing.replies import bad

INT4_MAX = 2**31 - 1
INT8_MAX = 2**63 - 1


def _digits(text: str) -> bool:
    """Plain ASCII digits, short enough for int() (Python refuses very long ones)."""
    return text.isascii() and text.isdigit() and len(text) <= 19


def path_id(request: web.Request, field: str, maximum: int = INT8_MAX) -> int:
    """A positive integer id from the URL path (`{id}`)."""
    text = request.match_info["id"]
    if not _digits(text) or not 1 <= int(text) <= maximum:
        raise bad(field, f"{text!r} is not an id (an integer from 1 to {maximum})")
    return int(text)


def query_int(request: web.Request, field: str, default: int, low: int, high: int) -> int:
    text = request.query.get(field)
    if text is None:
        return default
    if not _digits(text) or not low <= int(text) <= high:
        raise bad(field, f"{text!r} is not an integer from {low} to {high}")
    return int(text)


def query_choice(request: web.Request, field: str, choices: tuple[str, ...]) -> str:
    text = request.query.get(field)
    if not text:
        raise bad(field, "is required; one of " + ", ".join(choices))
    if text not in choices:
        raise bad(field, f"{text!r} is not one of " + ", ".join(choices))
    return text


async def json_object(request: web.Request) -> dict[str, Any]:
    """The request body as a JSON object."""
    raw = await request.read()
    try:
        body = json.loads(raw) if raw else None
    except (ValueError, UnicodeDecodeError):
        raise bad("body", "is not valid JSON") from None
    if not isinstance(body, dict):
        raise bad("body", "must be a JSON object")
    return body


def body_int(body: dict[str, Any], field: str, low: int = 1, high: int = INT8_MAX) -> int:
    if field not in body or body[field] is None:
        raise bad(field, "is required")
    value = body[field]
    if isinstance(value, bool) or not isinstance(value, int):
        raise bad(field, f"{value!r} is not an integer")
    if not low <= value <= high:
        raise bad(field, f"{value} must be from {low} to {high}")
    return value


def body_text(body: dict[str, Any], field: str, max_len: int = 2000) -> str:
    value = body.get(field)
    if value is None:
        raise bad(field, "is required")
    if not isinstance(value, str) or not value.strip():
        raise bad(field, "must be a non-empty string")
    if len(value) > max_len:
        raise bad(field, f"is longer than {max_len} characters")
    return value


def body_choice(body: dict[str, Any], field: str, choices: tuple[str, ...]) -> str:
    value = body.get(field)
    if value is None:
        raise bad(field, "is required; one of " + ", ".join(choices))
    if value not in choices:
        raise bad(field, f"{value!r} is not one of " + ", ".join(choices))
    return value
