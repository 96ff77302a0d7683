"""`emops campaign ...`: run load-and-fault campaigns and report them as the paper does."""

from __future__ import annotations

import argparse
from datetime import datetime
from pathlib import Path

from emops.commandline import checked
from emops.errors import EmopsError
from emops.files import check_input_file, check_output_dir
from emops.units import parse_int
from loadtest.campaign import load_campaign
from loadtest.report import latest_results, write_report
from loadtest.runner import run_campaign
from loadtest.table1 import load_plan, run_table1, write_table1

DEFAULT_OUT = Path("out/campaigns")


def _count(text: str, field: str) -> int:
    return parse_int(text, field, 1, 100, "8")


def _customers(text: str, field: str) -> int:
    return parse_int(text, field, 1, 10_000_000, "50000")


def register(commands: argparse._SubParsersAction) -> None:
    campaign = commands.add_parser("campaign", help="load-and-fault campaigns (paper section 4)")
    sub = campaign.add_subparsers(dest="action", required=True, metavar="ACTION")

    run = sub.add_parser("run", help="run a campaign: load, faults, alerts, scores, report")
    run.add_argument("name", help="a campaign in campaigns/ (paper, smoke) or a YAML file")
    run.add_argument(
        "--runs", type=checked(_count, "--runs"), help="number of runs (default: the campaign's)"
    )
    run.add_argument("--out", help=f"results directory (default {DEFAULT_OUT}/NAME-TIME)")
    run.add_argument(
        "--local",
        action="store_true",
        help="no twin: the marketing service and a private PostgreSQL on loopback, no faults",
    )
    run.add_argument(
        "--customers",
        type=checked(_customers, "--customers"),
        help="--local: customers to generate",
    )
    run.add_argument("--target", help="load this URL instead of the campaign's service")
    run.add_argument(
        "--production",
        action="store_true",
        help="allow a --target of the production inventory (never needed for the twin)",
    )
    run.add_argument("--no-report", action="store_true", help="skip writing the report")
    run.set_defaults(run=_run)

    report = sub.add_parser("report", help="HTML, CSV and figures from a campaign's results")
    report.add_argument(
        "dir", nargs="?", help=f"results directory (default: newest in {DEFAULT_OUT})"
    )
    report.set_defaults(run=_report)

    table1 = sub.add_parser("table1", help="Table 1: estimates vs shaped-link measurements (root)")
    table1.add_argument("--out", help=f"results directory (default {DEFAULT_OUT}/table1-TIME)")
    table1.add_argument("--quick", action="store_true", help="only the scenarios marked quick")
    table1.add_argument(
        "--scenarios",
        type=checked(check_input_file, "--scenarios"),
        help="scenario file (default campaigns/table1.yml)",
    )
    table1.set_defaults(run=_table1)

    check = sub.add_parser("check", help="validate a campaign file, every problem at once")
    check.add_argument("name")
    check.set_defaults(run=_check)


def _run(args: argparse.Namespace) -> int:
    campaign = load_campaign(args.name)
    if args.production and not args.target:
        raise EmopsError.of("--production", "needs --target", "name the production URL to load")
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    out = Path(args.out) if args.out else DEFAULT_OUT / f"{campaign.name}-{stamp}"
    check_output_dir(out, "--out")
    results = run_campaign(
        campaign,
        out,
        args.runs,
        local=args.local,
        production=args.production,
        target=args.target,
        customers=args.customers,
    )
    print(f"results: {out / 'campaign.json'}")
    if not args.no_report:
        print(f"report: {write_report(out)}")
    troubled = [r["run"] for r in results["runs"] if r["problems"]]
    if troubled:
        print(f"runs with problems: {', '.join(map(str, troubled))} (see their score.json)")
    return 1 if troubled else 0


def _report(args: argparse.Namespace) -> int:
    directory = Path(args.dir) if args.dir else latest_results(DEFAULT_OUT)
    print(f"report: {write_report(directory)}")
    return 0


def _check(args: argparse.Namespace) -> int:
    c = load_campaign(args.name)
    print(
        f"{c.source}: ok - {c.runs} runs of {c.duration_s:g}s, {len(c.faults)} faults, "
        f"{len(c.quiet)} quiet windows"
    )
    return 0


def _table1(args: argparse.Namespace) -> int:
    plan = load_plan(args.scenarios) if args.scenarios else load_plan()
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    out = check_output_dir(Path(args.out) if args.out else DEFAULT_OUT / f"table1-{stamp}")
    rows = run_table1(plan, quick=args.quick)
    print(f"results: {write_table1(out, rows)}")
    print(f"report: {write_report(out)}")
    return 0
