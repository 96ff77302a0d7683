"""Write output files whole or not at all."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from pathlib import Path

from emops.errors import EmopsError


def _check_parent(path: Path, field: str) -> None:
    if not path.parent.is_dir():
        raise EmopsError.of(field, f"directory {path.parent} does not exist", "create it first")


def write_atomic(path: str | os.PathLike[str], text: str, field: str = "output") -> Path:
    """Write `text` to `path` via a temporary file and rename, so a crash or a
    bad directory never leaves a half-written file behind."""
    target = Path(path)
    _check_parent(target, field)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


def write_all(outputs: Sequence[tuple[str | os.PathLike[str], str, str]]) -> None:
    """Write several (path, field, text) outputs: every destination is checked
    before the first is written, so one bad path leaves none of them behind."""
    for path, field, _ in outputs:
        _check_parent(Path(path), field)
    for path, field, text in outputs:
        write_atomic(path, text, field)
