"""The one YAML reader: lines of what was read, unknown keys refused, checkpoints."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from emops.errors import EmopsError, Problem
from emops.yamlread import Category, Reader, YamlMarks, read_marked_yaml

DOC = """\
# a comment
name: x
defaults: &defaults
  hold: 10s
faults:
  - name: one
    <<: *defaults
    kind: link
  - {name: two, hold: 5s}
"""


def test_marks_know_the_line_of_every_container_and_key_and_leave_the_data_plain():
    marks = YamlMarks("f.yml")
    data = marks.parse(DOC)
    first, second = data["faults"]
    assert marks.of(data) == "f.yml:2"
    assert marks.of_key(data, "faults") == "f.yml:5"
    assert marks.of(data["faults"]) == "f.yml:6"
    assert marks.of(first) == "f.yml:6"
    assert marks.of_key(first, "kind") == "f.yml:8"
    assert marks.of_key(first, "hold") == "f.yml:4"  # merged in: where it is written
    assert marks.of_key(second, "hold") == "f.yml:9"
    assert marks.of("x") == marks.of_key(second, "nope") == ""
    assert marks.of({"name": "two", "hold": "5s"}) == ""  # equal is not the same object
    assert yaml.safe_load(yaml.safe_dump(data)) == data  # plain dicts and lists


def test_an_unknown_key_names_its_line_and_the_likely_fix():
    marks = YamlMarks("c.yml")
    data = marks.parse("load:\n  stages: []\n  wiat: {min: 1s}\n  colour: red\n")
    r = Reader("c.yml", marks)
    r.mapping(data, "", known=("load",))
    r.mapping(data["load"], "load", known=("stages", "wait", "guard"))
    assert [str(p) for p in r.problems] == [
        "c.yml:3: load.wiat: unknown field (did you mean wait?)",
        "c.yml:4: load.colour: unknown field (known: stages, wait, guard)",
    ]
    assert {p.category for p in r.problems} == {Category.UNKNOWN_KEY}


def test_a_problem_points_at_its_field_or_the_nearest_field_read_before():
    marks = YamlMarks("c.yml")
    data = marks.parse("faults:\n  - name: a\n    at: 5s\n    hold: soon\n")
    r = Reader("c.yml", marks)
    item = r.mapping(r.sequence(data["faults"], "faults")[0], "faults[0]")
    r.time(item, "at", "faults[0].at")
    assert r.time(item, "hold", "faults[0].hold") == 0.0
    r.problem("faults[0].at", "is after the end", category=Category.CONSISTENCY)
    r.problem("faults[0].daemon", "is required for a daemon fault", category=Category.MISSING)
    r.problem("alerts", "is missing")
    assert [str(p) for p in r.problems] == [
        "c.yml:4: faults[0].hold: 'soon' is not a number with a unit (write it like 30s or 20ms)",
        "c.yml:3: faults[0].at: is after the end",
        "c.yml:2: faults[0].daemon: is required for a daemon fault",
        "c.yml: alerts: is missing",
    ]


def test_a_checkpoint_raises_every_problem_so_far_or_nothing():
    r = Reader("c.yml")
    r.checkpoint()
    r.number({"runs": 0}, "runs", "runs", None, 1, 100, whole=True)
    r.mapping([1], "load")
    with pytest.raises(EmopsError) as caught:
        r.checkpoint()
    assert [(str(p), p.category) for p in caught.value.problems] == [
        ("c.yml: runs: 0 must be from 1 to 100", Category.VALUE),
        ("c.yml: load: must be a mapping, not list", Category.TYPE),
    ]


def test_the_category_does_not_change_the_one_line_text():
    plain = Problem("links.x.rate", "unknown rate '3M'", "add it", "f.yml:3", "hq-wan")
    tagged = Problem("links.x.rate", "unknown rate '3M'", "add it", "f.yml:3", "hq-wan", "x")
    assert (
        str(tagged)
        == str(plain)
        == "f.yml:3, host hq-wan: links.x.rate: unknown rate '3M' (add it)"
    )


def test_a_broken_file_is_one_line_with_its_line(tmp_path: Path):
    path = tmp_path / "bad.yml"
    path.write_text("name: x\nload: [unclosed\n")
    with pytest.raises(EmopsError) as caught:
        read_marked_yaml(path, "campaign")
    (problem,) = caught.value.problems
    assert problem.field == "campaign" and problem.where == f"{path}:3"
    assert "not valid YAML" in problem.message
