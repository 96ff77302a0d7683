"""Fixtures for the vendor tests: the private FRR test router (twin_router.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from .twin_router import FrrRouter, PlaybookRunner, private_router, require_router, run_playbook


@pytest.fixture(scope="session")
def frr_router() -> Iterator[FrrRouter]:
    """The test router, up for the whole session; torn down in any case."""
    require_router()
    with private_router() as router:
        yield router


@pytest.fixture
def playbook(tmp_path: Path) -> PlaybookRunner:
    """run_playbook with the test's tmp_path as working directory."""
    return lambda name, inventory, *args: run_playbook(name, inventory, tmp_path, *args)
