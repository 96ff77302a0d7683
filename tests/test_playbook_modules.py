"""The project's Ansible modules, pieces that need no device: FRR reload deltas and
the systemd units emops_service writes."""

from __future__ import annotations

import importlib.util
from types import ModuleType

import ansible.module_utils
from testkit import ROOT

MODULE_UTILS = str(ROOT / "playbooks" / "module_utils")


def load(name: str) -> ModuleType:
    # Ansible ships playbooks/module_utils inside the module; here they are found beside its own
    if MODULE_UTILS not in ansible.module_utils.__path__:
        ansible.module_utils.__path__.append(MODULE_UTILS)
    spec = importlib.util.spec_from_file_location(
        name, ROOT / "playbooks" / "library" / f"{name}.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


FRR_TEST_OUTPUT = """\

Lines To Delete
===============
ip forwarding
frr version 8.4.4

Lines To Add
============
interface lag1
 ip ospf cost 1
router ospf
 maximum-paths 8
"""


def test_frr_reload_delta_is_parsed_and_unremovable_lines_ignored():
    delete, add = load("emops_frr_reload").parse_delta(FRR_TEST_OUTPUT)
    assert delete == ["ip forwarding"]
    assert add == ["interface lag1", " ip ospf cost 1", "router ospf", " maximum-paths 8"]


def test_frr_reload_no_delta():
    assert load("emops_frr_reload").parse_delta("") == ([], [])


PARAMS = {
    "name": "nginx",
    "pidfile": None,
    "env": {"MIBS": "", "X": "a b"},
    "command": ["/usr/sbin/nginx", "-c", "/etc/nginx/nginx.conf", "-g", "daemon off;"],
    "reload_signal": "HUP",
}


def test_systemd_drop_in_overrides_a_packaged_unit():
    text = load("emops_service")._unit_text(PARAMS, packaged=True)
    lines = text.splitlines()
    assert lines[1] == "[Service]" and "[Install]" not in text
    assert lines.index("ExecStart=") < lines.index(
        "ExecStart=/usr/sbin/nginx -c /etc/nginx/nginx.conf -g 'daemon off;'"
    ), "the packaged ExecStart is reset before ours"
    assert "Type=simple" in lines and "PIDFile=" in lines
    assert "Environment='X=a b'" in lines and "Environment=MIBS=" in lines


def test_systemd_unit_for_a_daemon_no_package_ships():
    params = PARAMS | {"name": "marketing", "pidfile": "/run/m.pid"}
    text = load("emops_service")._unit_text(params, packaged=False)
    assert "[Unit]" in text and "WantedBy=multi-user.target" in text
    assert "Type=forking" in text and "PIDFile=/run/m.pid" in text
    assert "ExecStart=\n" not in text and "Restart=on-failure" in text
