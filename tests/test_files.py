"""Output files: every destination checked before the first byte, each written whole."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from emops.errors import EmopsError
from emops.files import (
    check_input_file,
    check_output_dir,
    make_output_dir,
    read_text,
    read_yaml,
    write_all,
    write_atomic,
)


def listing(root: Path) -> dict[str, bytes | None]:
    return {
        str(p.relative_to(root)): (p.read_bytes() if p.is_file() else None)
        for p in sorted(root.rglob("*"))
    }


def field_of(call, *args, **kw) -> str:
    with pytest.raises(EmopsError) as caught:
        call(*args, **kw)
    assert len(caught.value.problems) == 1
    return str(caught.value.problems[0])


def test_write_atomic_replaces_whole_and_leaves_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "plan.csv"
    target.write_text("old\n")
    write_atomic(target, "new\n", "--csv")
    write_atomic(tmp_path / "chart.png", b"\x89PNG", "--chart")
    assert listing(tmp_path) == {"chart.png": b"\x89PNG", "plan.csv": b"new\n"}


def test_modes_are_those_of_a_plain_open_unless_secret(tmp_path: Path) -> None:
    mask = os.umask(0o022)
    try:
        plain = write_atomic(tmp_path / "plan.csv", "x")
        secret = write_atomic(tmp_path / "router.cfg", "password x", mode=0o600)
    finally:
        os.umask(mask)
    assert plain.stat().st_mode & 0o777 == 0o644
    assert secret.stat().st_mode & 0o777 == 0o600


@pytest.mark.parametrize(
    ("relative", "words"),
    [
        ("d", "d is a directory"),
        (".", "is a directory"),
        ("missing/plan.csv", "directory {root}/missing does not exist"),
        ("afile/plan.csv", "{root}/afile is not a directory"),
    ],
)
def test_bad_output_files_are_refused(tmp_path: Path, relative: str, words: str) -> None:
    (tmp_path / "d").mkdir()
    (tmp_path / "afile").write_text("keep")
    before = listing(tmp_path)
    message = field_of(write_atomic, tmp_path / relative, "x", "--json")
    assert message.startswith("--json: ") and words.format(root=tmp_path) in message
    assert listing(tmp_path) == before


def test_a_device_or_fifo_is_never_replaced(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo"  # like /dev/null, which os.replace would swap for a plain file
    os.mkfifo(fifo)
    message = field_of(write_atomic, fifo, "x", "--csv")
    assert message == f"--csv: {fifo} is not a regular file (give a new file name)"
    assert fifo.is_fifo() and listing(tmp_path) == {"fifo": None}


def test_one_bad_destination_writes_none_of_them(tmp_path: Path) -> None:
    (tmp_path / "d").mkdir()
    outputs = [(tmp_path / "ok.csv", "--csv", "a"), (tmp_path / "d", "--json", "b")]
    assert "--json" in field_of(write_all, outputs)
    assert listing(tmp_path) == {"d": None}


def test_two_outputs_to_one_file_are_refused(tmp_path: Path) -> None:
    same = [(tmp_path / "x.csv", "--csv", "a"), (tmp_path / "." / "x.csv", "--json", "b")]
    assert "two outputs name the same file" in field_of(write_all, same)
    assert listing(tmp_path) == {}


def test_write_all_can_make_the_directories_after_checking_all(tmp_path: Path) -> None:
    (tmp_path / "afile").write_text("")
    bad = [(tmp_path / "gen/rules/r.yml", "--out", "a"), (tmp_path / "afile/x.yml", "--out", "b")]
    assert "afile is not a directory" in field_of(write_all, bad, True)
    assert listing(tmp_path) == {"afile": b""}
    write_all([(tmp_path / "gen/rules/r.yml", "--out", "a")], make_parents=True)
    assert (tmp_path / "gen/rules/r.yml").read_text() == "a"


def test_output_directories_may_be_new_but_not_under_a_file(tmp_path: Path) -> None:
    (tmp_path / "afile").write_text("")
    assert check_output_dir(tmp_path / "new" / "deeper") == tmp_path / "new" / "deeper"
    assert not (tmp_path / "new").exists()  # checking creates nothing
    assert "afile is not a directory" in field_of(check_output_dir, tmp_path / "afile")
    assert "is inside" in field_of(check_output_dir, tmp_path / "afile" / "sub")
    assert make_output_dir(tmp_path / "a" / "b").is_dir()


def test_inputs_must_be_readable_text_files(tmp_path: Path) -> None:
    (tmp_path / "bin").write_bytes(b"\xff\xfe")
    (tmp_path / "bad.yml").write_text("a: [\n")
    assert "does not exist" in field_of(check_input_file, tmp_path / "nope", "--scenarios")
    assert "is a directory" in field_of(check_input_file, tmp_path, "--scenarios")
    os.mkfifo(tmp_path / "fifo")
    assert "is not a regular file" in field_of(check_input_file, tmp_path / "fifo", "--scenarios")
    assert "is not UTF-8 text" in field_of(read_text, tmp_path / "bin", "--scenarios")
    message = field_of(read_yaml, tmp_path / "bad.yml", "--scenarios")
    assert message.startswith(f"{tmp_path / 'bad.yml'}:2: --scenarios: not valid YAML")
