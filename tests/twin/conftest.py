"""The running twin, shared by every test in tests/twin/.

One twin per machine: the session takes an exclusive lock on
/run/emops-twin.lock (so two test runs, or a developer's session, never build
on each other's namespaces), brings up the default twin and tears it down at
the end unless EMOPS_KEEP_TWIN=1.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from lab.build import lab_down, lab_up, read_state

TWIN_LOCK = "/run/emops-twin.lock"
LAB_INVENTORY = str(Path(__file__).resolve().parents[2] / "inventory" / "lab")
SITES = int(os.environ.get("EMOPS_TWIN_SITES", "3"))


def _twin_missing_reason() -> str | None:
    if os.geteuid() != 0:
        return "the twin needs root (network namespaces)"
    for tool in ("ip", "tc", "nft", "unshare", "nsenter", "/usr/sbin/sshd"):
        if shutil.which(tool) is None:
            return f"{tool} is not installed (run `make setup`)"
    if subprocess.run(["ip", "netns", "list"], capture_output=True).returncode != 0:
        return "network namespaces are not available here"
    return None


@pytest.fixture(scope="session")
def twin_lock() -> Iterator[None]:
    reason = _twin_missing_reason()
    if reason:
        pytest.skip(reason)
    with open(TWIN_LOCK, "w") as handle:
        deadline = time.monotonic() + 1800
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    pytest.fail(f"{TWIN_LOCK} held for 30 minutes by another twin user")
                time.sleep(1)
        yield


@pytest.fixture(scope="session")
def twin(twin_lock) -> Iterator[dict]:
    """The default twin, up; yields its state (inventory, sites, devices)."""
    state = read_state()
    if state and len(state["sites"]) - 1 != SITES:  # a twin of another size is up
        lab_down(LAB_INVENTORY, echo=lambda _: None)
    lab_up(LAB_INVENTORY, SITES, echo=lambda _: None)
    yield read_state()
    if os.environ.get("EMOPS_KEEP_TWIN") != "1":
        lab_down(LAB_INVENTORY, echo=lambda _: None)
