"""Plain Python data from a structured config (for YAML/JSON dumps and golden files).

Strings read from the inventory are Ansible's tagged `str` subclasses (they
carry their origin and template trust); dumps want builtin types.
"""

from __future__ import annotations

from typing import Any


def plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    return str(value)
