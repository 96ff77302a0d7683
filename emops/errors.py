"""One error type for everything a user can get wrong.

Every problem names where it is (file and line, host), the field, what is wrong
and how to fix it, so that a user fixes all mistakes in one pass (netlab style).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the user's input."""

    field: str
    message: str
    hint: str = ""
    where: str = ""  # "path:line" when known
    host: str = ""
    category: str = ""  # what kind of mistake (emops.yamlread.Category); not in the text

    def __str__(self) -> str:
        place = ", ".join(p for p in (self.where, f"host {self.host}" if self.host else "") if p)
        text = f"{self.field}: {self.message}"
        if self.hint:
            text += f" ({self.hint})"
        return f"{place}: {text}" if place else text


class EmopsError(Exception):
    """Bad input; the CLI prints each problem on one line and exits 2."""

    def __init__(self, problems: Problem | Iterable[Problem]) -> None:
        self.problems = [problems] if isinstance(problems, Problem) else list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))

    @classmethod
    def of(cls, field: str, message: str, hint: str = "", **kw: str) -> EmopsError:
        return cls(Problem(field, message, hint, **kw))
