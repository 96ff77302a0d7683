"""Paths and small helpers shared by the top-level tests.

A module of its own (not conftest.py): sub-folders of tests/ have their own
conftest.py files, and `from conftest import ...` would be ambiguous.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
TINY = ROOT / "tests" / "fixtures" / "tiny"
PROVINCE = ROOT / "inventory" / "province"
LAB = ROOT / "inventory" / "lab"


def edit_yaml(inventory: Path, relative: str, change: Callable[[dict], object]) -> None:
    """Load one YAML file of an inventory, let `change` mutate it, write it back."""
    path = inventory / relative
    data = yaml.safe_load(path.read_text())
    change(data)
    path.write_text(yaml.safe_dump(data, sort_keys=False))
