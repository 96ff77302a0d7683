"""Small helpers for the application collector tests: fake servers, one round, a registry.

`FakeServer` stands in for a broken service (checksum mismatch, 500, another
customer's record) or a healthy one where the real service is not wanted (inside
a test namespace). Run as a script it serves inside whatever namespace started it:

    ip netns exec NS python tests/collectors/app_fakes.py --port P [--mode valid]
"""

from __future__ import annotations

import argparse
import asyncio
import threading
from typing import Any

from aiohttp import web
from prometheus_client import CollectorRegistry

from collectors.app.exposition import AppCollector
from collectors.app.runner import AppRunner
from collectors.app.store import Store
from collectors.app.targets import AppPlan, HttpTarget, PostgresTarget
from collectors.app.vantage import LocalVantage, Vantage
from emops import marketing_contract as contract

MODES = ("valid", "mismatch", "status500", "other_customer", "no_header")


def fake_app(mode: str) -> web.Application:
    """An app answering GET /customers/{id} the way `mode` says."""

    async def customer(request: web.Request) -> web.Response:
        wanted = int(request.match_info["id"])
        data = {"id": wanted + 1 if mode == "other_customer" else wanted, "name": "Test"}
        header = contract.header_value(data)
        if mode == "mismatch":
            header = contract.header_value({**data, "name": "Tampered"})
        headers = {} if mode == "no_header" else {contract.HEADER: header}
        status = 500 if mode == "status500" else 200
        body = contract.canonical_json({"data": data})
        return web.Response(
            body=body, status=status, headers=headers, content_type="application/json"
        )

    app = web.Application()
    app.router.add_get("/customers/{id}", customer)
    return app


class FakeServer:
    """`fake_app(mode)` on a free loopback port, its loop in a background thread."""

    def __init__(self, mode: str) -> None:
        self.mode = mode
        self.port = 0
        self.loop = asyncio.new_event_loop()
        self._runner: web.AppRunner | None = None
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def _serve(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_until_complete(self._start())
        self._ready.set()
        self.loop.run_forever()

    async def _start(self) -> None:
        self._runner = web.AppRunner(fake_app(self.mode))
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self.port = self._runner.addresses[0][1]

    def start(self) -> FakeServer:
        self._thread.start()
        assert self._ready.wait(10), "fake server did not start"
        return self

    def stop(self) -> None:
        assert self._runner is not None
        asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)
        self.loop.close()


def web_target(name: str, port: int, path: str = "/customers/1") -> HttpTarget:
    return HttpTarget("marketing", name, "127.0.0.1", port, path, None if name == "vip" else name)


def pg_target(device: str, port: int, user: str = "postgres") -> PostgresTarget:
    return PostgresTarget(device, "127.0.0.1", port, user, "postgres")


def runner_for(
    plan: AppPlan,
    probe_from: list[Vantage] | None = None,
    direct: Vantage | None = None,
    timeout: float = 2.0,
    **kw: Any,
) -> AppRunner:
    """A runner whose direct checks all run from `direct` (default: this process, site hq)."""
    local = direct or LocalVantage("hq", production=False)
    vantages = probe_from if probe_from is not None else [local]
    return AppRunner(plan, Store(), vantages, lambda _device: local, None, timeout, **kw)


def collect(runner: AppRunner, rounds: int = 1) -> CollectorRegistry:
    """Run `rounds` rounds, close the vantage points, return a fresh registry over the store."""

    async def go() -> None:
        try:
            for _ in range(rounds):
                await runner.collect_once()
        finally:
            await runner.close()

    asyncio.run(go())
    return registry_of(runner)


def registry_of(runner: AppRunner) -> CollectorRegistry:
    registry = CollectorRegistry()
    registry.register(AppCollector(runner.store, runner.plan.postgres, runner.plan.vrrp))
    return registry


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--mode", choices=MODES, default="valid")
    args = parser.parse_args()
    web.run_app(fake_app(args.mode), host="127.0.0.1", port=args.port, print=None)


if __name__ == "__main__":
    main()
