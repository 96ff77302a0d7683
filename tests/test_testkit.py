"""A missing daemon, tool or privilege skips a test on a workstation and fails it under CI.

Each case runs a small pytest session in a subprocess (the CI variable and the
outcome are the session's, not this one's) on a test that needs a tool no
machine has.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from testkit import ROOT, TOOL_PACKAGES

NO_SUCH_TOOL = "emops-no-such-tool"
SESSION = f'''
import pytest
from testkit import require_tool


@pytest.fixture(scope="session")
def daemon() -> str:
    return require_tool("{NO_SUCH_TOOL}", "emops-no-such-package")


def test_in_the_body() -> None:
    require_tool("{NO_SUCH_TOOL}", "emops-no-such-package")


def test_in_a_fixture(daemon: str) -> None:
    pass
'''
# Essential in Debian: on every system, so not in the Makefile's list.
ESSENTIAL = {"util-linux"}
SKIP_CALL = re.compile(r"pytest\.skip\(|mark\.skipif|importorskip")


def run_session(tmp_path: Path, ci: str | None) -> subprocess.CompletedProcess[str]:
    (tmp_path / "test_needs_a_tool.py").write_text(SESSION)
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    env["PYTHONPATH"] = str(ROOT / "tests")
    if ci is not None:
        env["CI"] = ci
    argv = [sys.executable, "-m", "pytest", "-q", "-rsfE", "-p", "no:cacheprovider"]
    return subprocess.run(
        [*argv, "test_needs_a_tool.py"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize("ci", ["1", "true"])
def test_under_ci_a_missing_tool_fails_naming_it_and_the_fix(tmp_path: Path, ci: str) -> None:
    done = run_session(tmp_path, ci)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "1 failed, 1 error" in done.stdout, done.stdout
    assert "skipped" not in done.stdout
    reasons = [line for line in done.stdout.splitlines() if line.startswith(("FAILED", "ERROR"))]
    assert len(reasons) == 2, done.stdout
    for line in reasons:
        assert f"{NO_SUCH_TOOL} is not installed" in line
        assert "make apt" in line and "emops-no-such-package" in line
    assert "Traceback" not in done.stdout


@pytest.mark.parametrize("ci", [None, "", "0", "false"])
def test_outside_ci_a_missing_tool_skips(tmp_path: Path, ci: str | None) -> None:
    done = run_session(tmp_path, ci)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "2 skipped" in done.stdout and "failed" not in done.stdout, done.stdout
    assert f"{NO_SUCH_TOOL} is not installed" in done.stdout and "make apt" in done.stdout


def test_make_apt_installs_every_package_the_tests_require() -> None:
    makefile = (ROOT / "Makefile").read_text()
    listed = re.search(r"^APT_PACKAGES\s*:=(.*)$", makefile, re.MULTILINE)
    assert listed, "Makefile: no APT_PACKAGES line"
    absent = set(TOOL_PACKAGES.values()) - ESSENTIAL - set(listed.group(1).split())
    assert not absent, f"add {sorted(absent)} to APT_PACKAGES in the Makefile"
    test_target = re.search(r"^test:(.*)$", makefile, re.MULTILINE)
    assert test_target and "setup" in test_target.group(1).split()
    assert "apt" in re.search(r"^setup:(.*)$", makefile, re.MULTILINE).group(1).split()


def test_no_test_skips_around_the_ci_rule() -> None:
    """Every skip for a missing tool goes through testkit, where the CI rule lives."""
    here = Path(__file__).resolve()
    offenders = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in sorted((ROOT / "tests").rglob("*.py"))
        if path not in (here, ROOT / "tests" / "testkit.py")
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if SKIP_CALL.search(line)
    ]
    assert not offenders, f"use testkit.require_tool/require/missing instead: {offenders}"
