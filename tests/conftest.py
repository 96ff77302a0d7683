"""Fixtures for the top-level tests: a mutable copy of the tiny inventory."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from testkit import TINY


@pytest.fixture
def tiny(tmp_path: Path) -> Path:
    """A private copy of the tiny inventory that a test may break."""
    target = tmp_path / "inv"
    shutil.copytree(TINY, target)
    return target
