"""Write output files whole or not at all, to places checked before anything is written.

Every command that writes files checks all its destinations first
(check_output_file / check_output_dir), then writes each one through a
temporary file in the same directory and a rename: a bad path ends with one
error line and nothing written, a crash never leaves half a file, and an
existing directory or device (`--csv /dev/null`) is never replaced.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

import yaml

from emops.errors import EmopsError


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def check_input_file(path: str | os.PathLike[str], field: str) -> Path:
    """`path` if it is a regular file (not a directory, a device or nothing), else EmopsError."""
    source = Path(path)
    if not source.is_file():
        what = (
            "is a directory"
            if source.is_dir()
            else ("is not a regular file" if source.exists() else "does not exist")
        )
        raise EmopsError.of(field, f"{source} {what}", "give the path of a file")
    return source


def read_text(path: str | os.PathLike[str], field: str) -> str:
    """The UTF-8 text of the file at `path`, or EmopsError naming `field` (never a traceback
    for a missing, unreadable or binary file)."""
    source = check_input_file(path, field)
    try:
        return source.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise EmopsError.of(
            field, f"{source} is not UTF-8 text (byte {exc.start})", "give a text file"
        ) from None
    except OSError as exc:
        raise EmopsError.of(field, f"cannot read {source}: {exc.strerror}") from None


def read_yaml(
    path: str | os.PathLike[str], field: str, parse: Callable[[str], object] | None = None
) -> object:
    """The YAML document at `path` (read by `parse`, default yaml.safe_load); a syntax
    error is one EmopsError with `path:line`."""
    text = read_text(path, field)
    try:
        return (parse or yaml.safe_load)(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        problem = getattr(exc, "problem", None) or exc
        raise EmopsError.of(field, f"not valid YAML: {problem}", where=where) from None


def check_output_file(
    path: str | os.PathLike[str], field: str = "output", make_parents: bool = False
) -> Path:
    """`path` if a file can be (re)written there: its directory exists (or, with
    `make_parents`, can be created) and is writable, and the path is not a directory or
    a device. Else EmopsError naming `field`."""
    target = Path(path)
    parent = target.parent
    if target.name in ("", ".", "..") or target.is_dir():
        raise EmopsError.of(field, f"{target} is a directory", "give a file name in it")
    if make_parents and not parent.exists():
        check_output_dir(parent, field)
        return target
    if not parent.exists():
        raise EmopsError.of(field, f"directory {parent} does not exist", "create it first")
    if not parent.is_dir():
        raise EmopsError.of(field, f"{parent} is not a directory", "give a path in a directory")
    if target.exists() and not target.is_file():
        raise EmopsError.of(field, f"{target} is not a regular file", "give a new file name")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise EmopsError.of(field, f"cannot write in {parent}", "pick a writable directory")
    return target


def check_output_dir(path: str | os.PathLike[str], field: str = "--out") -> Path:
    """`path` if it is a writable directory or can be created as one (like `mkdir -p`):
    the nearest existing ancestor must be a writable directory. Else EmopsError."""
    target = Path(path)
    existing = target
    while not existing.exists() and existing != existing.parent:
        if existing.is_symlink():  # a dangling link: mkdir would fail on it
            raise EmopsError.of(field, f"{existing} is a broken link", "remove it or pick another")
        existing = existing.parent
    if not existing.is_dir():
        where = "is" if existing == target else f"is inside {existing}, which is"
        raise EmopsError.of(field, f"{target} {where} not a directory", "give a directory path")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise EmopsError.of(field, f"cannot write in {existing}", "pick a writable directory")
    return target


def make_output_dir(path: str | os.PathLike[str], field: str = "--out") -> Path:
    """check_output_dir, then create it (with its parents)."""
    target = check_output_dir(path, field)
    try:
        target.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise EmopsError.of(
            field, f"cannot create {target}: {exc.strerror}", "pick a writable directory"
        ) from None
    return target


def write_atomic(
    path: str | os.PathLike[str],
    data: str | bytes,
    field: str = "output",
    mode: int | None = None,
) -> Path:
    """Write `data` to `path` via a temporary file and rename, so a crash or a
    bad directory never leaves a half-written file behind. `mode` defaults to
    what a plain open() would give (0666 less the umask); pass 0o600 for secrets."""
    target = check_output_file(path, field)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    try:
        os.fchmod(fd, 0o666 & ~_umask() if mode is None else mode)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data.encode("utf-8") if isinstance(data, str) else data)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


def write_all(
    outputs: Sequence[tuple[str | os.PathLike[str], str, str | bytes]], make_parents: bool = False
) -> None:
    """Write several (path, field, data) outputs: every destination is checked
    before the first is written (or a directory made), so one bad path leaves
    nothing behind."""
    for path, field, _ in outputs:
        check_output_file(path, field, make_parents)
    paths = [os.path.abspath(p) for p, _, _ in outputs]
    if len(set(paths)) != len(paths):
        field = next(f for (p, f, _), a in zip(outputs, paths, strict=True) if paths.count(a) > 1)
        raise EmopsError.of(field, "two outputs name the same file", "give each its own file")
    if make_parents:
        for path, field, _ in outputs:
            make_output_dir(Path(path).parent, field)
    for path, field, data in outputs:
        write_atomic(path, data, field)
