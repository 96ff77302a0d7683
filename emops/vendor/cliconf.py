"""Configuration text as a tree of lines: parse, compare, plan pushes and rollbacks.

Both the intent (rendered config) and the device's running config are parsed
into the same shape, {line: {child line: {...}}}, by indentation, with comments,
block terminators and noise dropped and runs of spaces collapsed. Comparing
trees instead of text makes verification order-insensitive (FRR and IOS print
blocks in their own order) and makes pushes idempotent: only lines missing
from the running config are sent ("merge" semantics, like ios_config).
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable

from emops.vendor.dialects import Dialect

Tree = dict[str, "Tree"]


def parse(text: str, dialect: Dialect) -> Tree:
    """Parse CLI text into a tree; indentation gives the hierarchy."""
    root: Tree = {}
    stack: list[tuple[int, Tree]] = [(-1, root)]
    for raw in text.splitlines():
        line = raw.rstrip()
        body = line.lstrip()
        if (
            not body
            or body.startswith(dialect.comment)
            or body in dialect.terminators
            or dialect.is_noise(body)
        ):
            continue
        indent = len(line) - len(body)
        while stack[-1][0] >= indent:
            stack.pop()
        node = stack[-1][1].setdefault(" ".join(body.split()), {})
        stack.append((indent, node))
    return root


def difference(a: Tree, b: Tree) -> Tree:
    """Lines of `a` that `b` lacks, each with its parents (the parents may exist in b)."""
    out: Tree = {}
    for line, children in a.items():
        if line not in b:
            out[line] = copy.deepcopy(children)
        elif sub := difference(children, b[line]):
            out[line] = sub
    return out


def merge(a: Tree, b: Tree) -> Tree:
    """`a` with the lines of `b` added (what a merge push should produce)."""
    out = copy.deepcopy(a)
    for line, children in b.items():
        out[line] = merge(out.get(line, {}), children)
    return out


def without(tree: Tree, patterns: Iterable[str]) -> Tree:
    """The tree minus every line (and its block) matching one of the regexes."""
    regexes = [re.compile(p) for p in patterns]
    return {
        line: without(children, patterns)
        for line, children in tree.items()
        if not any(r.search(line) for r in regexes)
    }


def with_silent(missing: Tree, intent: Tree, patterns: Iterable[str]) -> Tree:
    """`missing` plus, in every block it enters, the intent's lines matching
    `patterns`: defaults like `no shutdown` go out with their block, although
    the running config never shows them."""
    regexes = [re.compile(p) for p in patterns]
    out: Tree = {}
    for line, children in missing.items():
        source = intent.get(line, {})
        block = with_silent(children, source, patterns)
        if children or source:
            for child, grand in source.items():
                if any(r.search(child) for r in regexes):
                    block.setdefault(child, copy.deepcopy(grand))
        out[line] = block
    return out


def lines(tree: Tree, dialect: Dialect, depth: int = 0) -> list[str]:
    """Indented command lines to send, a block end after each block if the CLI needs one."""
    out: list[str] = []
    for line, children in tree.items():
        out.append(" " * depth + line)
        if children:
            out += lines(children, dialect, depth + 1)
            if dialect.block_end:
                out.append(" " * (depth + 1) + dialect.block_end)
    return out


def text(tree: Tree, depth: int = 0) -> str:
    """The tree as indented text (for diffs and reports)."""
    return "".join(
        " " * depth + line + "\n" + text(children, depth + 1) for line, children in tree.items()
    )


def negations(
    extra: Tree, reference: Tree, dialect: Dialect, depth: int = 0, trim: int = 0
) -> list[str]:
    """Commands removing the lines of `extra` from a device whose intended state
    is `reference`: leaves are negated; a block that exists in `reference` is
    entered and its extra children negated; a block that is new is emptied and
    then deleted, unless it is one the device cannot delete (a physical port)."""
    out: list[str] = []
    for line, children in extra.items():
        existed = line in reference
        if children:
            out.append(" " * depth + line)
            out += negations(children, reference.get(line, {}), dialect, depth + 1, trim)
            if dialect.block_end:
                out.append(" " * (depth + 1) + dialect.block_end)
        if not children or (not existed and not dialect.keeps(line)):
            out.append(" " * depth + dialect.negate(line, trim))
    return out


def rollback_commands(current: Tree, backup: Tree, dialect: Dialect, trim: int = 0) -> list[str]:
    """The delta that converges `current` back to `backup`: remove, then restore.
    `trim` > 0 on a retry shortens negations that the device refused."""
    removals = negations(difference(current, backup), backup, dialect, trim=trim)
    return removals + lines(difference(backup, current), dialect)


def comparable(tree: Tree, dialect: Dialect) -> Tree:
    """The tree without empty kept blocks: a port with no configuration left
    is the same as one never configured."""
    return {line: kids for line, kids in tree.items() if kids or not dialect.keeps(line)}


def same(a: Tree, b: Tree, dialect: Dialect) -> bool:
    """Do two configs hold the same lines (order aside)?"""
    a, b = comparable(a, dialect), comparable(b, dialect)
    return not difference(a, b) and not difference(b, a)


def clean_for_backup(output: str, dialect: Dialect) -> str:
    """Running-config text as stored in the backup repository: volatile lines
    (timestamps, byte counts) dropped so an unchanged device commits nothing."""
    kept = [ln.rstrip() for ln in output.splitlines() if not dialect.is_volatile(ln.strip())]
    while kept and not kept[-1]:
        kept.pop()
    return "\n".join(kept) + "\n"
