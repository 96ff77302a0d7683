"""`emops campaign report`: the paper's Table 1 and Figures 2-5 from a campaign's results.

Reads DIR/campaign.json (and DIR/table1.json when the bandwidth reproduction
ran) and writes DIR/report/: index.html, runs.csv (one row per run),
summary.csv (mean and 95% t-interval over runs), table1.csv, and PNG figures
- delay, downtime rate, precision and false alarm rate per run with the mean
and its interval drawn across, as the paper's figures but with the spread the
paper left out. Every number in the HTML is written by the same `fmt` as the
CSVs, so the two cannot disagree.
"""

from __future__ import annotations

import csv
import html
import io
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from emops.errors import EmopsError
from emops.files import check_output_dir, make_output_dir, write_all
from loadtest.results import METRICS, kind_table, pooled, summarize

COUNTS = ("tp", "fn", "fp", "tn")
FIGURES: tuple[tuple[str, str, tuple[str, ...], str], ...] = (
    ("fig2-delay.png", "Figure 2: system delay", ("p50_ms", "p95_ms", "p99_ms"), "ms"),
    (
        "fig3-downtime.png",
        "Figure 3: downtime rate",
        ("downtime_rate", "unavailable_rate"),
        "ratio",
    ),
    ("fig4-precision.png", "Figure 4: precision", ("data_precision", "alarm_precision"), "ratio"),
    ("fig5-false-alarm.png", "Figure 5: false alarm rate", ("false_alarm_rate",), "ratio"),
)
TABLE1_FIELDS = (
    "mode", "scenario", "estimate_bps", "refined_bps", "shaped_bps", "required_s", "measured_s",
    "measured_bps", "error", "refined_error",
)  # fmt: skip
LABELS = {key: label for key, label, _ in METRICS}


def fmt(value: Any) -> str:
    """The one text form of a number, in the CSVs and the HTML alike ('' for undefined)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(int(value))
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def latest_results(root: Path = Path("out/campaigns")) -> Path:
    """The newest directory under `root` holding a campaign.json."""
    found = sorted(root.glob("*/campaign.json"), key=lambda p: (p.stat().st_mtime, str(p)))
    if not found:
        raise EmopsError.of(
            "DIR", f"no campaign results under {root}", "run `emops campaign run` first"
        )
    return found[-1].parent


def load_results(directory: Path) -> dict[str, Any]:
    """campaign.json of `directory` (a Table 1 run alone reports with no runs)."""
    path = directory / "campaign.json"
    if not path.is_file() and (directory / "table1.json").is_file():
        return {"campaign": "table1", "mode": "shaped pair", "runs": []}
    if not path.is_file():
        raise EmopsError.of(
            "DIR", f"{directory} has no campaign.json", "give a campaign's --out directory"
        )
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise EmopsError.of(
            "DIR", f"{path} is not valid JSON: {exc.msg}", where=f"{path}:{exc.lineno}"
        ) from None


# --- tables -------------------------------------------------------------------


def run_rows(runs: Sequence[dict]) -> list[dict[str, str]]:
    rows = []
    for run in runs:
        m = run["metrics"]
        row = {"run": fmt(run["run"])}
        row.update({key: fmt(m.get(key)) for key, _, _ in METRICS})
        row.update({key: fmt(m.get(key)) for key in COUNTS})
        row["worker_deaths"] = fmt(len(run.get("worker_deaths", [])))
        row["problems"] = " | ".join(run.get("problems", []))
        rows.append(row)
    return rows


def summary_rows(summary: dict[str, dict]) -> list[dict[str, str]]:
    return [
        {
            "metric": key,
            "label": label,
            **{k: fmt(summary[key][k]) for k in ("n", "mean", "low", "high")},
        }
        for key, label, _ in METRICS
    ]


POOLED_FIELDS = ["metric", "k", "n", "rate", "low", "high"]
KIND_FIELDS = ["kind", "faults", "detected", "rate", "low", "high", "misattributed"]
KIND_FIELDS += ["median_s", "p95_s"]
MISS_FIELDS = ["kind", "run", "fault", "instead"]


def pooled_rows(runs: Sequence[dict]) -> list[dict[str, str]]:
    """Alarm proportions over every sample of every run, with Wilson intervals."""
    return [
        {"metric": metric, **{k: fmt(p[k]) for k in POOLED_FIELDS[1:]}}
        for metric, p in pooled(runs).items()
    ]


def kind_rows(runs: Sequence[dict]) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    """(per fault kind, every miss with what fired instead)."""
    rows, misses = [], []
    for row in kind_table(runs):
        d = row["detected"]
        rows.append(
            {
                "kind": row["kind"],
                "faults": fmt(row["faults"]),
                "detected": fmt(d["k"]),
                **{k: fmt(d[k]) for k in ("rate", "low", "high")},
                "misattributed": fmt(row["misattributed"]),
                "median_s": fmt(row["median_s"]),
                "p95_s": fmt(row["p95_s"]),
            }
        )
        misses += [
            {
                "kind": row["kind"],
                "run": fmt(m["run"]),
                "fault": m["fault"],
                "instead": ", ".join(m["instead"]) or "nothing",
            }
            for m in row["misses"]
        ]
    return rows, misses


def table1_rows(directory: Path) -> list[dict[str, str]]:
    path = directory / "table1.json"
    if not path.is_file():
        return []
    rows = json.loads(path.read_text(encoding="utf-8")).get("rows", [])
    return [{k: fmt(r.get(k)) for k in TABLE1_FIELDS} for r in rows]


def to_csv(rows: Sequence[dict[str, str]], fields: Sequence[str]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(fields), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


# --- figures ------------------------------------------------------------------


def _pyplot() -> Any:
    """matplotlib's pyplot on the Agg backend (no display needed)."""
    # matplotlib loads in ~1 s: only when a figure is drawn, not for every `emops` command
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    return pyplot


def _png(fig: Any) -> bytes:
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    _pyplot().close(fig)
    return buffer.getvalue()


def draw_figure(
    title: str, keys: Sequence[str], unit: str, runs: Sequence[dict], summary: dict
) -> bytes:
    """Per-run values of `keys`, each with its mean (line) and 95% interval (band), as PNG."""
    fig, ax = _pyplot().subplots(figsize=(7, 3.6), dpi=100)
    colours = ("tab:blue", "tab:orange", "tab:red", "tab:green")
    for key, colour in zip(keys, colours, strict=False):
        points = [
            (r["run"], r["metrics"].get(key)) for r in runs if r["metrics"].get(key) is not None
        ]
        if points:
            ax.plot(
                [p[0] for p in points],
                [p[1] for p in points],
                "o-",
                color=colour,
                label=LABELS[key],
            )
        s = summary.get(key, {})
        if s.get("mean") is not None:
            ax.axhline(s["mean"], color=colour, linestyle="--", linewidth=1)
        if s.get("low") is not None:
            ax.axhspan(s["low"], s["high"], color=colour, alpha=0.12)
    ax.set_title(title)
    ax.set_xlabel("run")
    ax.set_ylabel(unit)
    ax.set_xticks([r["run"] for r in runs] or [1])
    ax.grid(True, alpha=0.3)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=8, loc="best")
    else:
        ax.text(
            0.5,
            0.5,
            "no data (no alert source or no requests)",
            ha="center",
            transform=ax.transAxes,
        )
    return _png(fig)


def draw_table1(rows: Sequence[dict[str, str]]) -> bytes:
    """Estimate vs measured, side by side per scenario (bits/s), as PNG."""
    fig, ax = _pyplot().subplots(figsize=(8, 3.8), dpi=100)
    xs = range(len(rows))
    est = [float(r["estimate_bps"] or 0) / 1e6 for r in rows]
    got = [float(r["measured_bps"] or 0) / 1e6 for r in rows]
    ax.bar([x - 0.2 for x in xs], est, width=0.4, label="estimate (planner)")
    ax.bar([x + 0.2 for x in xs], got, width=0.4, label="measured (shaped link)")
    ax.set_xticks(list(xs), [r["scenario"] for r in rows], rotation=30, ha="right", fontsize=7)
    ax.set_ylabel("Mbit/s")
    ax.set_title("Table 1: bandwidth estimate vs measured")
    ax.legend(fontsize=8)
    return _png(fig)


# --- HTML ---------------------------------------------------------------------


def _html_table(rows: Sequence[dict[str, str]], fields: Sequence[str], table: str) -> str:
    head = "".join(f"<th>{html.escape(f)}</th>" for f in fields)
    body = []
    for i, row in enumerate(rows):
        cells = "".join(
            f'<td data-table="{table}" data-row="{i}" data-key="{html.escape(f)}">'
            f"{html.escape(row.get(f, ''))}</td>"
            for f in fields
        )
        body.append(f"<tr>{cells}</tr>")
    rows_html = "".join(body)
    return (
        f'<table class="{table}"><thead><tr>{head}</tr></thead><tbody>{rows_html}</tbody></table>'
    )


def render_html(
    results: dict,
    runs: list[dict],
    summary: list[dict],
    table1: list[dict],
    figures: list[str],
    alarms: tuple[list[dict], list[dict], list[dict]] = ([], [], []),
) -> str:
    """The report page; `alarms` = (pooled rows, per-kind rows, misses)."""
    run_fields = ["run", *(k for k, _, _ in METRICS), *COUNTS, "worker_deaths", "problems"]
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'>",
        f"<title>emops campaign {html.escape(results['campaign'])}</title>",
        "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;margin:1em 0}"
        "td,th{border:1px solid #ccc;padding:2px 6px;font-size:12px;text-align:right}"
        "th{background:#eee}img{display:block;margin:1em 0}</style></head><body>",
        f"<h1>Campaign {html.escape(results['campaign'])} ({html.escape(results.get('mode', ''))})"
        "</h1>",
        f"<p>{html.escape(results.get('description', ''))}. {len(runs)} runs, "
        f"created {html.escape(results.get('created', ''))}. Means with 95% Student-t intervals; "
        "empty cells are undefined (no alert source, or no alert at all).</p>",
        "<h2>Summary over runs</h2>",
        _html_table(summary, ["metric", "label", "n", "mean", "low", "high"], "summary"),
    ]
    pooled_, kinds, misses = alarms
    if kinds:
        parts += [
            "<h2>Alarms over all samples</h2><p>Proportions of every fault and quiet window "
            "of every run, with 95% Wilson intervals.</p>",
            _html_table(pooled_, POOLED_FIELDS, "pooled"),
            "<h2>Per fault kind</h2><p>Misattributed: not detected, but another alert "
            "started in the fault's window.</p>",
            _html_table(kinds, KIND_FIELDS, "kinds"),
        ]
    if misses:
        parts += ["<h2>Misses</h2>", _html_table(misses, MISS_FIELDS, "misses")]
    if table1:
        parts += [
            "<h2>Table 1: bandwidth estimate vs measured</h2>",
            _html_table(table1, TABLE1_FIELDS, "table1"),
        ]
    parts += [
        "<h2>Figures</h2>",
        *(f"<img src='{html.escape(f)}' alt='{html.escape(f)}'>" for f in figures),
    ]
    parts += ["<h2>Runs</h2>", _html_table(runs, run_fields, "runs"), "</body></html>"]
    return "\n".join(parts)


def write_report(directory: Path) -> Path:
    """Write DIR/report/ (HTML, CSVs, PNGs) and return the HTML's path.

    Everything is rendered before the first file is written, each file atomically."""
    results = load_results(directory)
    out = check_output_dir(directory / "report", "DIR")
    runs = sorted(results.get("runs", []), key=lambda r: r["run"])
    summary = summarize(runs)
    rows = run_rows(runs)
    srows = summary_rows(summary)
    t1 = table1_rows(directory)
    run_fields = ["run", *(k for k, _, _ in METRICS), *COUNTS, "worker_deaths", "problems"]
    files: dict[str, str | bytes] = {
        "runs.csv": to_csv(rows, run_fields),
        "summary.csv": to_csv(srows, ["metric", "label", "n", "mean", "low", "high"]),
    }
    figures = []
    for name, title, keys, unit in FIGURES:
        files[name] = draw_figure(title, keys, unit, runs, summary)
        figures.append(name)
    prows = pooled_rows(runs)
    krows, misses = kind_rows(runs)
    if krows:
        files["pooled.csv"] = to_csv(prows, POOLED_FIELDS)
        files["kinds.csv"] = to_csv(krows, KIND_FIELDS)
        files["misses.csv"] = to_csv(misses, MISS_FIELDS)
    if t1:
        files["table1.csv"] = to_csv(t1, TABLE1_FIELDS)
        files["table1.png"] = draw_table1(t1)
        figures.insert(0, "table1.png")
    files["index.html"] = render_html(results, rows, srows, t1, figures, (prows, krows, misses))
    make_output_dir(out, "DIR")
    write_all([(out / name, "DIR", data) for name, data in files.items()])
    return out / "index.html"
