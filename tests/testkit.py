"""Paths and small helpers shared by the tests.

A module of its own (not conftest.py): sub-folders of tests/ have their own
conftest.py files, and `from conftest import ...` would be ambiguous.

Every test that needs a daemon, a tool, root or network namespaces asks for it
here (`require_tool`, `require_root`, `require_namespaces`, `require`, `missing`):
outside CI a missing one skips the test, under CI (`CI` set) it fails it, so a
runner without the packages can never pass by skipping.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import NoReturn

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
TINY = ROOT / "tests" / "fixtures" / "tiny"
PROVINCE = ROOT / "inventory" / "province"
LAB = ROOT / "inventory" / "lab"


def edit_yaml(inventory: Path, relative: str, change: Callable[[dict], object]) -> None:
    """Load one YAML file of an inventory, let `change` mutate it, write it back."""
    path = inventory / relative
    data = yaml.safe_load(path.read_text())
    change(data)
    path.write_text(yaml.safe_dump(data, sort_keys=False))


APT_FIX = "run `make apt` (make test does)"
ROOT_FIX = "run the tests as root (sudo make test)"
# The Debian package behind every program the tests (and the twin they build) run:
# `make apt` must install each one; tests/test_testkit.py checks the Makefile's list.
TOOL_PACKAGES = {
    "ip": "iproute2",
    "tc": "iproute2",
    "nft": "nftables",
    "nsenter": "util-linux",
    "unshare": "util-linux",
    "findmnt": "util-linux",
    "sysctl": "procps",
    "curl": "curl",
    "git": "git",
    "iperf3": "iperf3",
    "ssh": "openssh-client",
    "/usr/sbin/sshd": "openssh-server",
    "/usr/lib/frr/zebra": "frr",
    "vtysh": "frr",
    "keepalived": "keepalived",
    "haproxy": "haproxy",
    "nginx": "nginx",
    "/usr/lib/postgresql/15/bin/pg_ctl": "postgresql",
    "snmpd": "snmpd",
    "snmptrap": "snmp",
    "snmpget": "snmp",
    "snmpbulkwalk": "snmp",
    "prometheus": "prometheus",
    "promtool": "prometheus",
    "prometheus-snmp-exporter": "prometheus-snmp-exporter",
    "amtool": "prometheus-alertmanager",
    "prometheus-alertmanager": "prometheus-alertmanager",
    "/usr/bin/chromium": "chromium",
    "/usr/bin/chromedriver": "chromium-driver",
}


def under_ci() -> bool:
    """True when the suite is the gate (CI=1/true/...), where nothing may be skipped for lack
    of a tool."""
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def missing(reason: str, fix: str = APT_FIX) -> NoReturn:
    """Skip the test for `reason`, or fail it under CI, naming the fix either way."""
    if under_ci():
        pytest.fail(f"{reason}: under CI this fails instead of skipping; fix: {fix}", pytrace=False)
    pytest.skip(f"{reason} ({fix})")


def require(condition: object, reason: str, fix: str = APT_FIX) -> None:
    """Go on when `condition` holds; otherwise `missing(reason, fix)`."""
    if not condition:
        missing(reason, fix)


def require_tool(name: str, package: str | None = None) -> str:
    """The path of program `name` (on PATH, in /usr/sbin or /sbin, or an absolute path).

    `package` defaults to TOOL_PACKAGES[name], the Debian package `make apt` installs."""
    package = package or TOOL_PACKAGES[name]  # KeyError: add the tool to TOOL_PACKAGES
    path = shutil.which(name) or shutil.which(name, path="/usr/sbin:/sbin")
    if path is None:
        missing(f"{name} is not installed", f"run `make apt`, which installs {package}")
    return path


def require_root(what: str) -> None:
    """Root, which namespaces, veths and qdiscs need."""
    require(os.geteuid() == 0, f"{what} needs root", ROOT_FIX)


def require_namespaces(what: str, *tools: str) -> None:
    """Root, iproute2, `tools`, and a kernel that gives network namespaces."""
    require_root(what)
    for tool in tools:
        require_tool(tool)
    listed = subprocess.run([require_tool("ip"), "netns", "list"], capture_output=True)
    reason = f"{what} needs network namespaces; `ip netns list` fails here"
    require(listed.returncode == 0, reason, "a kernel/container that allows namespaces")
