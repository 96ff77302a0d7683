"""The playbooks without a twin: syntax, ansible-lint (production profile), and
the structured config reaching Ansible as `emops_config`."""

from __future__ import annotations

import json
import os
import subprocess

import pytest
from testkit import ROOT

BIN = ROOT / ".venv" / "bin"
LAYERS = ["site", "common", "network", "security", "servers", "balancers"]
# every top-level playbook is linted: the layers and the tools beside them
# (backup.yml, vendor-push.yml), so a new playbook cannot escape the profile
PLAYBOOKS = sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "playbooks").glob("*.yml"))


def run(*argv: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    env = os.environ | {"ANSIBLE_NOCOLOR": "1", "ANSIBLE_FORCE_COLOR": "0", "NO_COLOR": "1"}
    return subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)


@pytest.mark.parametrize("inventory", ["inventory/lab", "inventory/province"])
def test_site_syntax_check(inventory):
    done = run(str(BIN / "ansible-playbook"), "-i", inventory, "playbooks/site.yml",
               "--syntax-check")  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.slow
def test_ansible_lint_production_profile():
    assert {f"playbooks/{name}.yml" for name in LAYERS} <= set(PLAYBOOKS)
    assert "playbooks/backup.yml" in PLAYBOOKS
    done = run(str(BIN / "ansible-lint"), "--profile", "production", *PLAYBOOKS, "playbooks/roles")
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]


def test_every_host_sees_its_structured_config():
    done = run(str(BIN / "ansible"), "-i", "inventory/lab", "hq-core1,hq-fw,anping-client",
               "-m", "debug", "-a", "var=emops_config.hostname", "-o")  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    for host in ("hq-core1", "hq-fw", "anping-client"):
        line = next(x for x in done.stdout.splitlines() if x.startswith(f"{host} "))
        assert json.loads(line.split("=>", 1)[1])["emops_config.hostname"] == host


def test_inventory_listing_does_not_run_the_structured_config_plugin():
    done = run(str(BIN / "ansible-inventory"), "-i", "inventory/lab", "--host", "hq-core1")
    assert done.returncode == 0, done.stderr
    assert "emops_config" not in json.loads(done.stdout)
