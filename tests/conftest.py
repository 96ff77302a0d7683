"""Shared fixtures: the repository's paths and a mutable copy of the tiny inventory."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
TINY = ROOT / "tests" / "fixtures" / "tiny"
PROVINCE = ROOT / "inventory" / "province"
LAB = ROOT / "inventory" / "lab"


@pytest.fixture
def tiny(tmp_path: Path) -> Path:
    """A private copy of the tiny inventory that a test may break."""
    target = tmp_path / "inv"
    shutil.copytree(TINY, target)
    return target


def edit_yaml(inventory: Path, relative: str, change: Callable[[dict], object]) -> None:
    """Load one YAML file of an inventory, let `change` mutate it, write it back."""
    path = inventory / relative
    data = yaml.safe_load(path.read_text())
    change(data)
    path.write_text(yaml.safe_dump(data, sort_keys=False))
