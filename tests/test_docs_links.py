"""Docs name only what is in the repository: relative links and file paths resolve.

A doc that cites a file the checkout does not have (a path from someone's machine,
a renamed module) sends a newcomer nowhere; this keeps README and docs/ honest.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = sorted([ROOT / "README.md", *(ROOT / "docs").glob("*.md")])
# Top-level folders of the project: a backticked token starting with one of them is a path.
TOP = sorted(p.name for p in ROOT.iterdir() if p.is_dir() and not p.name.startswith("."))

LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")
CODE = re.compile(r"`([^`\s]+)`")
PATH = re.compile(rf"^(?:{'|'.join(map(re.escape, TOP))})/[\w./-]*$")
# Paths the docs name that are created at run time, not committed.
RUNTIME = ("out/", "inventory/lab/vault-password", ".venv/", ".tools/")


def _cited_paths(text: str) -> set[str]:
    """Relative links and backticked repo paths, without globs or placeholders."""
    links = {m for m in LINK.findall(text) if "://" not in m and not m.startswith("mailto:")}
    paths = {m.rstrip(".,:;") for m in CODE.findall(text) if PATH.match(m)}
    return {p for p in links | paths if not any(c in p for c in "*<>{}")}


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_every_path_a_doc_names_exists(doc: Path) -> None:
    missing = []
    for cited in sorted(_cited_paths(doc.read_text(encoding="utf-8"))):
        if cited.startswith(RUNTIME):
            continue
        target = (doc.parent / cited) if cited.startswith(".") else None
        candidates = [target] if target else [doc.parent / cited, ROOT / cited]
        if not any(c.exists() for c in candidates):
            missing.append(cited)
    assert not missing, f"{doc.relative_to(ROOT)} names paths that do not exist: {missing}"


def test_docs_cite_nothing_outside_the_repository() -> None:
    outside = re.compile(r"(/work/|\.\./shared|shared/reference|lab-facts)")
    sources = [*DOCS, *ROOT.glob("*/**/*.py")]
    hits = [
        f"{p.relative_to(ROOT)}:{n}"
        for p in sources
        if ".venv" not in p.parts and ".tools" not in p.parts and p.name != Path(__file__).name
        for n, line in enumerate(p.read_text(encoding="utf-8", errors="replace").splitlines(), 1)
        if outside.search(line)
    ]
    assert not hits, f"citations of files outside the repository: {hits}"
