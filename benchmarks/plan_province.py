"""Benchmark: plan a generated province of 1,000 municipal sites.

Writes a synthetic inventory (the same shape as inventory/province) to a temp
directory, then times each stage of `emops capacity plan`: Ansible reading the
inventory, building the typed model with validation, planning every WAN link,
and rendering the table, CSV, JSON and chart. Prints figures, asserts nothing.

    .venv/bin/python benchmarks/plan_province.py [--sites 1000]
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from ipaddress import IPv4Network
from pathlib import Path

import yaml

from capacity.chart import plan_chart
from capacity.plan import plan_links
from capacity.report import to_csv, to_json, to_table
from emops.topology.fields import build_topology
from emops.topology.loader import read_inventory

SETTINGS = {
    "emops": {
        "network": "province",
        "address_space": ["10.0.0.0/8"],
        "link_rates": ["2M", "34M", "155M", "1G"],
        "circuits": [
            *({"name": f"{n}x2M", "rate": "2M", "members": n} for n in range(1, 5)),
            {"name": "34M", "rate": "34M"},
            {"name": "155M", "rate": "155M"},
            {"name": "GE", "rate": "1G"},
        ],
        "planning": {"headroom": 0.3, "overhead": 1.05, "max_utilisation": 0.7},
    },
    "transactions": {
        "lookup": {"packets": 8, "packet_size": "900B", "critical": True},
        "ticket": {"packets": 10, "packet_size": "1000B", "critical": False},
    },
    "bulk_jobs": {"report": {"size": "20MB", "required_time": "120s", "critical": False}},
}


def generate(root: Path, sites: int) -> None:
    """A province with `sites` municipal companies, each with a county."""
    mgmt = IPv4Network("10.128.0.0/10").hosts()
    p2p = IPv4Network("10.64.0.0/12").subnets(new_prefix=30)
    hq = {
        "hq-wan-private": {"ansible_host": str(next(mgmt)), "emops_platform": "huawei_vrp"},
        "hq-wan-backup": {"ansible_host": str(next(mgmt)), "emops_platform": "huawei_vrp"},
    }
    cities: dict[str, dict] = {}
    links = []
    group_vars = root / "group_vars"
    (group_vars / "all").mkdir(parents=True)
    for i in range(sites):
        name = f"city{i:04d}"
        router = f"{name}-wan"
        cities[name] = {
            "hosts": {router: {"ansible_host": str(next(mgmt)), "emops_platform": "cisco_ios"}}
        }
        a, b = list(next(p2p).hosts())
        links.append(
            {
                "name": f"{name}-private",
                "role": "primary",
                "rate": "155M",
                "delay": "5ms",
                "a": {"device": "hq-wan-private", "interface": f"Pos{i}", "address": f"{a}/30"},
                "b": {"device": router, "interface": "Pos0", "address": f"{b}/30"},
            }
        )
        links.append(
            {
                "name": f"{name}-backup",
                "role": "backup",
                "rate": "2M",
                "a": {"device": "hq-wan-backup"},
                "b": {"device": router},
                "members": [
                    {"a": {"interface": f"S{i}:{m}"}, "b": {"interface": f"S0:{m}"}}
                    for m in range(1 + i % 4)
                ],
            }
        )
        traffic = {
            "pingpong": [{"transaction": "lookup", "users": 50 + i % 150, "think_time": "30s"}],
            "bulk": [{"job": "report"}],
        }
        county = {
            "name": f"{name}-county",
            "traffic": {"pingpong": [{"transaction": "ticket", "users": 20, "think_time": "60s"}]},
        }
        (group_vars / f"{name}.yml").write_text(
            yaml.safe_dump(
                {"site": {"kind": "municipal", "traffic": traffic, "counties": [county]}}
            )
        )
    inventory = {
        "all": {
            "children": {
                "hq": {"hosts": hq},
                "municipal": {"children": cities},
                "wan_routers": {"hosts": {h: None for h in [*hq, *(f"{c}-wan" for c in cities)]}},
            }
        }
    }
    (root / "hosts.yml").write_text(yaml.safe_dump(inventory, sort_keys=False))
    (group_vars / "hq.yml").write_text(yaml.safe_dump({"site": {"kind": "hq"}}))
    (group_vars / "all" / "emops.yml").write_text(yaml.safe_dump(SETTINGS, sort_keys=False))
    (group_vars / "all" / "links.yml").write_text(yaml.safe_dump({"links": links}, sort_keys=False))


def timed(label: str, fn, *args):
    start = time.perf_counter()
    result = fn(*args)
    print(f"  {label:<28} {time.perf_counter() - start:8.3f} s", flush=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sites", type=int, default=1000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="emops-bench-") as tmp:
        root = Path(tmp)
        print(f"capacity plan of a generated province: {args.sites} municipal sites")
        timed("generate inventory", generate, root, args.sites)
        start = time.perf_counter()
        raw = timed("ansible reads inventory", read_inventory, root)
        topo = timed("build + validate model", build_topology, raw)
        rows = timed("plan every WAN link", plan_links, topo)
        timed(
            "render table/csv/json/html",
            lambda: (to_table(rows), to_csv(rows), to_json(rows, {}), plan_chart(rows, "bench")),
        )
        total = time.perf_counter() - start
    upgrades = sum(r.status != "ok" for r in rows)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"  {'total (read to render)':<28} {total:8.3f} s")
    print(
        f"{len(topo.devices)} devices, {len(rows)} links planned ({upgrades} upgrades), "
        f"{len(rows) / total:,.0f} links/s, peak RSS {peak_mb:.0f} MB"
    )


if __name__ == "__main__":
    main()
