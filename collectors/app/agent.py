"""The collector's helper inside a namespace: JSON lines in on stdin, out on stdout.

    ip netns exec anping-client python -m collectors.app.agent

Started by `AgentVantage` so that checks leave from a twin device (a municipal
client, so probes cross the WAN, firewall and load balancer as users' requests
do; or a server itself, which reaches its own data address whatever the
firewall says). One request per line, `{"id": N, "op": "probe", "args": {...}}`;
one answer per line, `{"id": N, "result": {...}}`, in completion order. Requests
run concurrently; the agent exits when stdin closes, so it never outlives the
exporter. It holds no policy: the exporter has already applied the safety rules.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
from typing import Any

from collectors.app.ops import Ops
from collectors.app.results import failure

LINE_LIMIT = 1 << 20  # bytes per JSON line, both ways


async def _answer(ops: Ops, request: dict[str, Any], writer: asyncio.StreamWriter) -> None:
    try:
        result = await ops.run(str(request.get("op")), dict(request.get("args") or {}))
    except Exception as exc:  # a check that crashed is an answer too, never a dead agent
        result = failure("error", f"{type(exc).__name__}: {exc}")
    line = json.dumps({"id": request.get("id"), "result": result}, separators=(",", ":"))
    writer.write(line.encode() + b"\n")
    with contextlib.suppress(ConnectionError):
        await writer.drain()


async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Answer every request line until EOF, then wait for the checks in flight."""
    ops, running = Ops(), set()
    try:
        while line := await reader.readline():
            try:
                request = json.loads(line)
            except ValueError:
                continue  # not ours to answer: there is no id to answer to
            task = asyncio.create_task(_answer(ops, request, writer))
            running.add(task)
            task.add_done_callback(running.discard)
        if running:
            await asyncio.wait(running)
    finally:
        await ops.close()


async def _main() -> None:
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=LINE_LIMIT)
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    transport, protocol = await loop.connect_write_pipe(
        asyncio.streams.FlowControlMixin, sys.stdout
    )
    writer = asyncio.StreamWriter(transport, protocol, reader, loop)
    await serve(reader, writer)


def main() -> None:
    with contextlib.suppress(KeyboardInterrupt, BrokenPipeError):
        asyncio.run(_main())


if __name__ == "__main__":
    main()
