"""What every part's command line shares: options refused while argv is read, and
bad input reported one line per problem with exit code 2 (never a traceback).

It lives in the core so each part (capacity, lab, loadtest, dashboard, collectors)
builds its own subcommand without importing the package that assembles `emops`.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import TypeVar

from emops.errors import EmopsError

T = TypeVar("T")

BAD_INPUT = 2  # the exit code of every refusal, as argparse uses for usage errors


def checked(parse: Callable[[str, str], T], field: str) -> Callable[[str], T]:
    """An argparse `type=` from an emops parser, so the option is refused while the
    command line is read (before any command acts) with the parser's one-line reason."""

    def convert(text: str) -> T:
        try:
            return parse(text, field)
        except EmopsError as exc:
            problem = exc.problems[0]
            hint = f" ({problem.hint})" if problem.hint else ""
            raise argparse.ArgumentTypeError(problem.message + hint) from None

    convert.__name__ = field.lstrip("-")  # argparse names it in "invalid ... value"
    return convert


def report_problems(exc: EmopsError, prefix: str = "") -> int:
    """Print each problem of `exc` on its own stderr line after `prefix`; returns the
    exit code for bad input, so a `main` ends with `return report_problems(exc)`."""
    for problem in exc.problems:
        print(f"{prefix}{problem}", file=sys.stderr)
    return BAD_INPUT
