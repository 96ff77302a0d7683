"""Thin, fast wrappers around iproute2 and tc.

Many objects are made per call through `-batch`, so building the full twin
costs a few dozen processes, not a few thousand.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterable

from emops.errors import EmopsError


def run(argv: list[str], input: str | None = None, check: bool = True) -> str:
    """Run a command; on failure raise EmopsError with its first stderr line."""
    result = subprocess.run(argv, input=input, capture_output=True, text=True, timeout=120)
    if check and result.returncode != 0:
        first = (result.stderr.strip() or result.stdout.strip() or "failed").splitlines()[0]
        raise EmopsError.of(argv[0], f"`{' '.join(argv[:6])}`: {first}", "see the message")
    return result.stdout


def ip_batch(lines: Iterable[str], netns: str | None = None, force: bool = False) -> None:
    """Run many `ip` commands in one process (optionally inside `netns`)."""
    body = "\n".join(lines)
    if not body:
        return
    argv = ["ip", *(["-n", netns] if netns else []), *(["-force"] if force else []), "-batch", "-"]
    run(argv, input=body + "\n")


def tc_batch(lines: Iterable[str], netns: str | None = None) -> None:
    body = "\n".join(lines)
    if body:
        run(["tc", *(["-n", netns] if netns else []), "-batch", "-"], input=body + "\n")


def netns_list() -> set[str]:
    out = run(["ip", "-j", "netns", "list"], check=False).strip()
    return {entry["name"] for entry in json.loads(out)} if out else set()


def links(netns: str | None = None) -> dict[str, dict]:
    """Interfaces of a namespace by name, as `ip -j -d link` reports them."""
    argv = ["ip", "-j", "-d", *(["-n", netns] if netns else []), "link", "show"]
    out = run(argv, check=False).strip()
    return {entry["ifname"]: entry for entry in json.loads(out)} if out else {}


def addresses(netns: str | None = None) -> list[dict]:
    out = run(["ip", "-j", *(["-n", netns] if netns else []), "addr", "show"], check=False)
    return json.loads(out) if out.strip() else []


def routes(netns: str | None = None) -> list[dict]:
    out = run(
        ["ip", "-j", *(["-n", netns] if netns else []), "route", "show", "table", "all"],
        check=False,
    )
    return json.loads(out) if out.strip() else []


def qdiscs(netns: str | None = None) -> dict[str, dict]:
    """Root qdisc per interface."""
    out = run(["tc", "-j", *(["-n", netns] if netns else []), "qdisc", "show"], check=False)
    entries = json.loads(out) if out.strip() else []
    return {q["dev"]: q for q in entries if q.get("root")}


def sysctl_in(netns: str, settings: dict[str, str]) -> None:
    args = [f"{k}={v}" for k, v in settings.items()]
    run(["ip", "netns", "exec", netns, "sysctl", "-q", "-w", *args])


def require_tools(*names: str) -> None:
    missing = [n for n in names if shutil.which(n) is None]
    if missing:
        raise EmopsError.of(
            "tools",
            f"{', '.join(missing)} not found",
            "run `make setup` (installs the Debian packages)",
        )
