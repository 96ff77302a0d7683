#!/usr/bin/python
"""Ansible module: converge FRR's running configuration to a file (frr-reload.py).

frr-reload computes the lines to delete and to add against `show running-config`;
none means the router already runs the file (ok), otherwise they are applied
(changed) and the result checked. Check mode only reports the delta, as a diff.
"""

from __future__ import annotations

import os

from ansible.module_utils.basic import AnsibleModule

DOCUMENTATION = r"""
module: emops_frr_reload
short_description: Make FRR's running config equal a config file
options:
  path: {type: path, default: /etc/frr/frr.conf, description: The intended configuration.}
  script: {type: path, default: /usr/lib/frr/frr-reload.py, description: frr-reload.py.}
"""

EXAMPLES = r"""
- name: Converge the running FRR configuration
  emops_frr_reload:
    path: /etc/frr/frr.conf
"""

UNREMOVABLE = ("frr version", "frr defaults", "service integrated-vtysh-config")


def parse_delta(text: str) -> tuple[list[str], list[str]]:
    """(lines to delete, lines to add) from `frr-reload.py --test` output."""
    section, delete, add = None, [], []
    for line in text.splitlines():
        if line.startswith("Lines To Delete"):
            section = delete
        elif line.startswith("Lines To Add"):
            section = add
        elif section is not None and line.strip() and not line.startswith("==="):
            section.append(line.rstrip())
    keep = [line for line in delete if not line.strip().startswith(UNREMOVABLE)]
    return keep, [line for line in add if not line.strip().startswith(UNREMOVABLE)]


def _delta(module: AnsibleModule) -> tuple[list[str], list[str]]:
    p = module.params
    rc, out, err = module.run_command(["python3", p["script"], "--test", p["path"]])
    if rc != 0 and module.check_mode and "failed to connect to any daemons" in err + out:
        # check mode before the daemons run (a bare device): all of the file is to add
        with open(p["path"]) as handle:
            return [], [line.rstrip() for line in handle if line.strip() and line[0] != "!"]
    if rc != 0:
        module.fail_json(msg=f"frr-reload --test failed: {err.strip()[-2000:]}")
    return parse_delta(out)


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "path": {"type": "path", "default": "/etc/frr/frr.conf"},
            "script": {"type": "path", "default": "/usr/lib/frr/frr-reload.py"},
        },
        supports_check_mode=True,
    )
    if module.check_mode and not os.path.exists(module.params["path"]):
        module.exit_json(changed=True, msg="the file is not written yet (check mode)")
    delete, add = _delta(module)
    diff = {
        "before_header": "running-config (lines to delete)",
        "after_header": "intended (lines to add)",
        "before": "".join(f"{line}\n" for line in delete),
        "after": "".join(f"{line}\n" for line in add),
    }
    if not delete and not add:
        module.exit_json(changed=False)
    if not module.check_mode:
        p = module.params
        rc, _out, err = module.run_command(["python3", p["script"], "--reload", p["path"]])
        if rc != 0:
            module.fail_json(msg=f"frr-reload --reload failed: {err.strip()[-2000:]}", diff=diff)
        left = _delta(module)
        if left[0] or left[1]:
            module.fail_json(msg="FRR still differs from the file after reload", left=left)
    module.exit_json(changed=True, diff=diff)


if __name__ == "__main__":
    main()
