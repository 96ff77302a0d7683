"""The stage table the shape reads, and per-request records on disk."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from loadtest import stages
from loadtest.campaign import Stage
from loadtest.records import RecordWriter, append_event, read_events, read_records

TABLE = (Stage(10, 5, 5), Stage(60, 20, 2), Stage(70, 2, 10))


def test_shape_follows_the_table_then_stops() -> None:
    assert stages.shape_tick(TABLE, 0) == (5, 5)
    assert stages.shape_tick(TABLE, 9.99) == (5, 5)
    assert stages.shape_tick(TABLE, 10) == (20, 2)
    assert stages.shape_tick(TABLE, 69) == (2, 10)
    assert stages.shape_tick(TABLE, 70) is None


def test_table_travels_through_the_environment() -> None:
    assert stages.from_env({stages.ENV: stages.to_env(TABLE)}) == TABLE
    assert stages.from_env({}) == stages.DEFAULT_STAGES
    for bad in ("[[1, 2]]", "nonsense", "[]", "[[10, 1, 1], [5, 1, 1]]"):
        with pytest.raises(ValueError, match=stages.ENV):
            stages.from_env({stages.ENV: bad})


def test_records_round_trip_and_survive_a_torn_line(tmp_path: Path) -> None:
    w = RecordWriter(tmp_path / "requests-anping-1.csv", "anping")
    w.write(100.5, "GET", "/customers/[id]", 3.25, 210, None)
    w.write(100.2, "CHECK", "/customers/[id]", 0, 210, "ChecksumFailure: bad")
    w.close()
    with open(tmp_path / "requests-anping-1.csv", "a") as f:
        f.write("101.0,GET,/x,")  # a worker killed mid-write
    other = RecordWriter(tmp_path / "requests-baishan-2.csv", "baishan")
    other.write(99.0, "POST", "/payments", 5.0, 10, "HTTPError: 503")
    other.close()
    got = read_records(tmp_path)
    assert [(r.time, r.request_type, r.success) for r in got] == [
        (99.0, "POST", False),
        (100.2, "CHECK", False),
        (100.5, "GET", True),
    ]
    assert got[2].response_time_ms == 3.25 and got[2].length == 210


def test_events_append_and_read(tmp_path: Path) -> None:
    assert read_events(tmp_path) == []
    append_event(tmp_path, "test_start", host="http://127.0.0.1:1")
    append_event(tmp_path, "worker_missing", worker="w1")
    with open(tmp_path / "events.jsonl", "a") as f:
        f.write('{"torn": ')
    events = read_events(tmp_path)
    assert [e["event"] for e in events] == ["test_start", "worker_missing"]
    assert events[0]["host"] == "http://127.0.0.1:1" and events[0]["time"] > 0
    assert os.path.getsize(tmp_path / "events.jsonl") > 0
