"""The checks a vantage point can run, by name, with JSON-able arguments and results.

The same object serves the exporter's own process (`LocalVantage`) and the
agent inside a namespace, so a check behaves identically wherever it runs.
Check modules are imported on first use: an agent that only reads a database
never loads the HTTP client.
"""

from __future__ import annotations

from typing import Any

from collectors.app.results import Result, failure

OPS = ("probe", "stats", "service", "postgres")


class Ops:
    """Runs the checks of OPS; one HTTP session, opened on first use."""

    def __init__(self) -> None:
        self._session: Any = None  # aiohttp.ClientSession once an HTTP check ran

    def _http(self) -> Any:
        from collectors.app import http_checks  # aiohttp (~0.3 s), on first use

        if self._session is None:
            self._session = http_checks.new_session()
        return self._session

    async def run(self, op: str, args: dict[str, Any]) -> Result:
        try:
            if op in ("probe", "stats", "service"):
                from collectors.app import http_checks  # aiohttp (~0.3 s), on first use

                check = getattr(http_checks, op)
                return await check(self._http(), **args)
            if op == "postgres":
                from collectors.app import postgres  # asyncpg (~0.1 s), on first use

                return await postgres.sample(**args)
        except TypeError as exc:  # wrong arguments: a bug on the caller's side, said plainly
            return failure("bad_request", str(exc))
        return failure("bad_request", f"unknown op {op!r}, expected one of {OPS}")

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
