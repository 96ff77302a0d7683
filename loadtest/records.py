"""Per-request records and run events on disk: what each Locust process writes, read back.

Locust's own CSVs are aggregates; scoring needs every request (when it started,
how long, whether it failed) to find unavailable seconds and to line requests up
with faults. Each Locust process that runs users appends one CSV row per request
and per CHECK to `requests-<worker>-<pid>.csv` in the run directory, flushed
row by row, so a worker killed mid-run loses at most the request in flight.
The master (or the single process) appends run events (test start/stop, the
failure guard, workers going missing) to `events.jsonl`.
"""

from __future__ import annotations

import csv
import json
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from loadtest.scoring import Request

FIELDS = (
    "time", "request_type", "name", "response_time_ms", "response_length", "success", "error",
    "worker",
)  # fmt: skip
EVENTS = "events.jsonl"
RECORDS_GLOB = "requests-*.csv"


class RecordWriter:
    """Appends request records to one CSV file (header written once)."""

    def __init__(self, path: Path, worker: str) -> None:
        self.path = path
        self.worker = worker
        fresh = not path.exists()
        self._file: IO[str] = open(path, "a", newline="", encoding="utf-8")  # noqa: SIM115
        self._csv = csv.writer(self._file)
        if fresh:
            self._csv.writerow(FIELDS)
            self._file.flush()

    def write(
        self,
        start: float,
        request_type: str,
        name: str,
        response_time_ms: float,
        length: int,
        error: str | None,
    ) -> None:
        self._csv.writerow(
            (
                f"{start:.6f}",
                request_type,
                name,
                f"{response_time_ms:.3f}",
                length,
                0 if error else 1,
                (error or "")[:200],
                self.worker,
            )
        )
        self._file.flush()

    def close(self) -> None:
        self._file.close()


def read_records(directory: Path) -> list[Request]:
    """Every request record of a run directory, oldest first (a truncated last line is skipped)."""
    records = []
    for path in sorted(directory.glob(RECORDS_GLOB)):
        with open(path, newline="", encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                try:
                    records.append(
                        Request(
                            float(row["time"]),
                            row["request_type"],
                            row["name"],
                            float(row["response_time_ms"]),
                            row["success"] == "1",
                            int(row["response_length"] or 0),
                        )
                    )
                except (KeyError, TypeError, ValueError):
                    continue  # the line a killed worker was writing
    return sorted(records, key=lambda r: r.time)


def append_event(directory: Path, event: str, **detail: Any) -> dict:
    """One line of events.jsonl, flushed to disk."""
    entry = {"time": time.time(), "event": event, **detail}
    with open(directory / EVENTS, "a", encoding="utf-8") as handle:
        handle.write(json.dumps(entry) + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    return entry


def read_events(directory: Path) -> list[dict]:
    path = directory / EVENTS
    if not path.exists():
        return []
    return list(_json_lines(path))


def _json_lines(path: Path) -> Iterator[dict]:
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            yield json.loads(line)
        except json.JSONDecodeError:
            continue
