"""Load-campaign results as the dashboard reads them (format: docs/dashboard.md).

The campaigns (loadtest/) write one directory per campaign under a results
directory (`out/campaigns/NAME-TIME/`): `summary.json` and/or `runs.csv` with
one record per run, plus any figures (there or in its `report/`). Reading is
forgiving on purpose: a missing directory, a half-written file or an unknown
column must not take the dashboard down, so problems are collected as notes
beside whatever could be read.
"""

from __future__ import annotations

import csv
import json
import math
import statistics
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

# Per-run fields, in display order: (field, label, kind)
KPI_FIELDS: tuple[tuple[str, str, str], ...] = (
    ("delay_p50_s", "Request delay p50", "seconds"),
    ("delay_p95_s", "Request delay p95", "seconds"),
    ("downtime_rate", "Downtime rate", "ratio"),
    ("data_precision", "Data precision", "ratio"),
    ("alarm_precision", "Alarm precision", "ratio"),
    ("false_alarm_rate", "False alarm rate", "ratio"),
)
COUNT_FIELDS = ("tests", "failed", "tp", "fp", "fn", "tn")
FIGURE_SUFFIXES = (".png", ".svg", ".jpg", ".jpeg")

# Student t, two-sided 95 %, by degrees of freedom (the paper averages 8 runs: df = 7).
_T95 = {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365, 8: 2.306,
        9: 2.262, 10: 2.228, 12: 2.179, 15: 2.131, 20: 2.086, 30: 2.042}  # fmt: skip


@dataclass(frozen=True)
class Estimate:
    """A KPI over the runs: mean and the half-width of its 95 % interval."""

    mean: float
    half_width: float | None  # None with a single run
    runs: int


@dataclass
class Campaign:
    """One campaign: its runs and figures, newest campaigns sort last."""

    name: str
    path: Path
    runs: list[dict[str, float]]
    started: str = ""
    finished: str = ""
    scenario: str = ""
    figures: list[Path] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    mtime: float = 0.0

    @property
    def sort_key(self) -> tuple[str, float]:
        return (self.finished or self.started, self.mtime)

    def estimate(self, name: str) -> Estimate | None:
        values = [r[name] for r in self.runs if r.get(name) is not None and math.isfinite(r[name])]
        return estimate(values) if values else None


def estimate(values: list[float]) -> Estimate:
    """Mean and 95 % interval half-width (Student t) of per-run values."""
    mean = statistics.fmean(values)
    if len(values) < 2:
        return Estimate(mean, None, len(values))
    df = len(values) - 1
    t = _T95.get(df) or next((v for k, v in sorted(_T95.items()) if k >= df), 1.96)
    return Estimate(mean, t * statistics.stdev(values) / math.sqrt(len(values)), len(values))


def _number(value: object) -> float | None:
    if value is None or value == "":
        return None
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None


def normalise_run(raw: dict) -> dict[str, float]:
    """Keep known fields as numbers; derive ratios from the confusion counts if absent."""
    run = {k: v for k in ("run", *COUNT_FIELDS, *(f for f, _, _ in KPI_FIELDS))
           if (v := _number(raw.get(k))) is not None}  # fmt: skip
    tp, fp, tn = run.get("tp"), run.get("fp"), run.get("tn")
    if "alarm_precision" not in run and tp is not None and fp is not None and tp + fp > 0:
        run["alarm_precision"] = tp / (tp + fp)
    if "false_alarm_rate" not in run and fp is not None and tn is not None and fp + tn > 0:
        run["false_alarm_rate"] = fp / (fp + tn)
    tests, failed = run.get("tests"), run.get("failed")
    if "downtime_rate" not in run and tests and failed is not None:
        run["downtime_rate"] = failed / tests
    return run


def read_campaign(path: Path) -> Campaign | None:
    """A campaign directory (or a lone JSON file); None if it holds no results at all."""
    try:
        mtime = path.stat().st_mtime
    except OSError:
        return None
    campaign = Campaign(path.stem if path.is_file() else path.name, path, [], mtime=mtime)
    summary = path if path.is_file() else path / "summary.json"
    if summary.is_file():
        try:
            doc = json.loads(summary.read_text(encoding="utf-8"))
            campaign.name = str(doc.get("campaign") or campaign.name)
            campaign.started = str(doc.get("started") or "")
            campaign.finished = str(doc.get("finished") or "")
            campaign.scenario = str(doc.get("scenario") or "")
            campaign.runs = [normalise_run(r) for r in doc.get("runs", []) if isinstance(r, dict)]
        except (OSError, ValueError, AttributeError) as exc:
            campaign.notes.append(f"{summary.name}: unreadable ({exc})")
    runs_csv = path / "runs.csv"
    if not campaign.runs and path.is_dir() and runs_csv.is_file():
        try:
            with open(runs_csv, encoding="utf-8", newline="") as handle:
                campaign.runs = [normalise_run(row) for row in csv.DictReader(handle)]
        except (OSError, csv.Error) as exc:
            campaign.notes.append(f"runs.csv: unreadable ({exc})")
    if path.is_dir():  # figures beside the results, or in the report `emops campaign report` wrote
        folders = [path, path / "report"]
        campaign.figures = [
            p
            for folder in folders
            if folder.is_dir()
            for p in sorted(folder.iterdir())
            if p.suffix.lower() in FIGURE_SUFFIXES
        ]
    if not campaign.runs and not campaign.figures and not campaign.notes:
        return None
    if not campaign.finished and not campaign.started:
        stamp = datetime.fromtimestamp(mtime, UTC)
        campaign.finished = stamp.isoformat(timespec="seconds")
    return campaign


def read_campaigns(directory: Path | None) -> list[Campaign]:
    """Every campaign under `directory`, oldest first; [] if there is none (or no directory)."""
    if directory is None or not directory.is_dir():
        return []
    found = []
    for entry in sorted(directory.iterdir()):
        if entry.is_dir() or entry.suffix == ".json":
            campaign = read_campaign(entry)
            if campaign is not None:
                found.append(campaign)
    return sorted(found, key=lambda c: c.sort_key)


def latest(directory: Path | None) -> Campaign | None:
    campaigns = read_campaigns(directory)
    return campaigns[-1] if campaigns else None
