"""Helpers for the monitoring tests: the Prometheus tools and free ports (not a conftest:
the root conftest is imported by name from every test directory)."""

from __future__ import annotations

from pathlib import Path

from testkit import require_tool

from lab.postgres_local import free_port  # noqa: F401 (the monitoring tests import it here)

ROOT = Path(__file__).resolve().parents[2]
GENERATED = ROOT / "monitoring" / "generated"
RULE_TESTS = ROOT / "monitoring" / "tests"
NETWORKS = ("lab", "province")


def tool(name: str) -> str:
    """A Debian Prometheus tool's path: skip locally if missing, fail in CI (`make apt`)."""
    return require_tool(name)
