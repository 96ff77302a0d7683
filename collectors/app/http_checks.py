"""The HTTP checks, run wherever the vantage point is (in-process or in an agent).

A probe reads one known customer, as a user would, and succeeds only on a 2xx
whose X-Emops-Checksum matches its body and whose body is that customer: a
proxy error page, a truncated body or a mixed-up answer are failures, not
latency samples. Each probe opens a fresh connection (the session's connector
never reuses one), so a failed-over load balancer or a dead backend shows at
once instead of hiding behind a kept-alive socket.

Results are plain JSON-able dicts, `ok` plus either data or a short `error`
reason, so they cross the agent's pipe unchanged.
"""

from __future__ import annotations

import time
from typing import Any

import aiohttp

from collectors.app.results import Result, failure
from emops import marketing_contract as contract


def new_session() -> aiohttp.ClientSession:
    """One session per vantage point: fresh connection per request, no cookies."""
    connector = aiohttp.TCPConnector(force_close=True, limit=0, use_dns_cache=False)
    return aiohttp.ClientSession(
        connector=connector,
        cookie_jar=aiohttp.DummyCookieJar(),
        headers={"User-Agent": "emops-app-collector"},
    )


async def _get(
    session: aiohttp.ClientSession, url: str, timeout: float
) -> tuple[int, str | None, bytes]:
    """(status, checksum header, body) of one GET; raises aiohttp/timeout errors."""
    async with session.get(
        url, timeout=aiohttp.ClientTimeout(total=timeout), allow_redirects=False
    ) as resp:
        return resp.status, resp.headers.get(contract.HEADER), await resp.read()


async def _answered(
    session: aiohttp.ClientSession, url: str, timeout: float
) -> tuple[str | None, bytes, Result]:
    """(checksum header, body, result) of a GET that must answer 2xx."""
    try:
        status, header, body = await _get(session, url, timeout)
    except TimeoutError:
        return None, b"", failure("timeout", f"no answer within {timeout:g} s")
    except aiohttp.ClientConnectorError as exc:
        return None, b"", failure("connect", str(exc))
    except (aiohttp.ClientError, OSError) as exc:
        return None, b"", failure("http", f"{type(exc).__name__}: {exc}")
    if not 200 <= status < 300:
        return None, b"", failure("status", f"HTTP {status}", status=status)
    return header, body, {"ok": True, "status": status}


async def service(session: aiohttp.ClientSession, url: str, timeout: float) -> Result:
    """Is the server's own service answering? Any 2xx within the timeout: the
    server groups without a business API (CTI, unified interface) answer only that."""
    started = time.perf_counter()
    _, _, result = await _answered(session, url, timeout)
    result["duration_s"] = time.perf_counter() - started
    return result


async def _verified(session: aiohttp.ClientSession, url: str, timeout: float) -> tuple[Any, Result]:
    """The verified `data` of a JSON answer, or (None, failure result)."""
    header, body, result = await _answered(session, url, timeout)
    if not result["ok"]:
        return None, result
    status = result["status"]
    try:
        return contract.verify_json(body, header), {"ok": True, "status": status}
    except contract.ChecksumMismatch as exc:
        return None, failure("checksum", str(exc), status=status)
    except (ValueError, AttributeError) as exc:  # not JSON, or JSON but not an object
        return None, failure("malformed", str(exc), status=status)


async def probe(
    session: aiohttp.ClientSession, url: str, customer_id: int, timeout: float
) -> Result:
    """Read customer `customer_id`; duration_s is set whatever the outcome."""
    started = time.perf_counter()
    data, result = await _verified(session, url, timeout)
    result["duration_s"] = time.perf_counter() - started
    if result["ok"] and (not isinstance(data, dict) or data.get("id") != customer_id):
        return failure(
            "wrong_answer",
            f"asked for customer {customer_id}",
            **{"duration_s": result["duration_s"]},
        )
    return result


def _counts(value: Any) -> dict[str, float] | None:
    if not isinstance(value, dict):
        return None
    if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in value.values()):
        return None
    return {str(k): float(v) for k, v in value.items()}


async def stats(session: aiohttp.ClientSession, url: str, timeout: float) -> Result:
    """The service's per-process counters from GET /stats (checksum verified)."""
    data, result = await _verified(session, url, timeout)
    if not result["ok"]:
        return result
    parts = {k: _counts(data.get(k)) if isinstance(data, dict) else None for k in
             ("transactions", "failures", "payments")}  # fmt: skip
    if any(v is None for v in parts.values()):
        return failure("malformed", "stats without transactions, failures, payments counts")
    return {"ok": True, **parts}
