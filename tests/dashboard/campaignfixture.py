"""Campaign result files in the format docs/dashboard.md describes, for the tests."""

from __future__ import annotations

import json
import os
from pathlib import Path

CAMPAIGN_RUNS = [
    {
        "run": i + 1,
        "tests": 1200,
        "failed": 2 + i % 3,
        "delay_p50_s": 0.060 + 0.002 * i,
        "delay_p95_s": 0.180 + 0.01 * (i % 4),
        "data_precision": 0.999 - 0.0005 * (i % 2),
        "tp": 9 + i % 2,
        "fp": int(i % 3 == 0),
        "fn": 1 - i % 2,
        "tn": 40,
    }
    for i in range(8)
]


def write_campaigns(directory: Path) -> Path:
    """An older CSV-only campaign and a newer JSON one with a figure (the format in the docs)."""
    older = directory / "2026-01-10-baseline"
    older.mkdir(parents=True)
    (older / "runs.csv").write_text(
        "run,tests,failed,delay_p50_s,delay_p95_s,data_precision,tp,fp,fn,tn\n"
        "1,1000,5,0.07,0.2,0.998,8,1,2,39\n"
    )
    jan_10 = 1768003200  # 2026-01-10: without a summary, the directory's time dates a campaign
    os.utime(older, (jan_10, jan_10))
    newer = directory / "2026-02-01-faults"
    newer.mkdir()
    summary = {
        "campaign": "faults-8x1200",
        "scenario": "web, lb, core switch and WAN faults",
        "started": "2026-02-01T10:00:00+00:00",
        "finished": "2026-02-01T11:30:00+00:00",
        "runs": CAMPAIGN_RUNS,
    }
    (newer / "summary.json").write_text(json.dumps(summary, indent=2))
    from PIL import Image

    Image.new("RGB", (120, 60), (21, 101, 192)).save(newer / "figure-delay.png")
    return directory
