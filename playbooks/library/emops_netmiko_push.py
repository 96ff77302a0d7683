#!/usr/bin/python
"""Ansible module: push a rendered config to a vendor CLI device with netmiko.

A thin wrapper over emops.vendor.session.push (backup, push, verify, rollback);
it runs on the controller (delegate_to: localhost) with the emops virtualenv's
interpreter, where netmiko and emops are installed. The connection options and
that interpreter check are shared with emops_netmiko_backup
(playbooks/module_utils/emops_netmiko.py).
"""

from __future__ import annotations

DOCUMENTATION = r"""
module: emops_netmiko_push
short_description: Back up, push, verify and roll back a CLI config over SSH (netmiko)
description:
  - Reads the running config and writes it to I(backup_dir) on the controller.
  - Sends only the intended lines the running config lacks (merge semantics), with
    the platform's error pattern so a rejected line fails the push.
  - Verifies every intended line now shows in the running config, then saves.
  - On failure converges the device back to the backup (negations, retried shorter).
  - Check mode reports the lines it would send and the diff, and touches nothing.
extends_documentation_fragment: [emops_netmiko]  # host, port, username, password, key_file, ...
options:
  name: {type: str, description: Device name for backup files (default host).}
  config: {type: str, description: The intended config text.}
  config_file: {type: path, description: Rendered config on the controller.}
  lines: {type: list, elements: str, description: Config lines.}
  backup_dir: {type: path, description: "Pre-push backups: <name>-<UTC time>.cfg."}
  save: {type: bool, default: true, description: Save after a verified push.}
  rollback: {type: bool, default: true, description: Roll back on any failure.}
  write_only:
    type: list
    elements: str
    description: >-
      Regexes of lines the device never shows back (secrets): neither compared
      nor verified. Default per platform.
  push_write_only:
    type: bool
    default: false
    description: Send write-only lines too (e.g. a rotated SNMP key).
  secrets:
    type: list
    elements: str
    no_log: true
    default: []
    description: Values masked in every output (vault secrets in the config).
"""

EXAMPLES = r"""
- name: Push the rendered configuration
  emops_netmiko_push:
    host: "{{ ansible_host }}"
    username: "{{ vault_device_user }}"
    password: "{{ vault_device_password }}"
    device_type: huawei
    name: "{{ inventory_hostname }}"
    config_file: build/configs/province/{{ inventory_hostname }}.cfg
    backup_dir: build/pushes
  delegate_to: localhost
"""

RETURN = r"""
commands: {type: list, returned: always, description: Lines sent (or to send in check mode).}
backup_path: {type: str, returned: when written, description: The pre-push backup.}
rolled_back: {type: bool, returned: always, description: Rollback converged (null if none).}
rollback_commands: {type: list, returned: always, description: Lines sent to roll back.}
timings: {type: dict, returned: always, description: Seconds per stage and in total.}
"""

import time  # noqa: E402
from pathlib import Path  # noqa: E402

from ansible.module_utils.basic import AnsibleModule  # noqa: E402
from ansible.module_utils.emops_netmiko import CONNECTION_ARGS, push, target  # noqa: E402

ARGS = {
    **CONNECTION_ARGS,
    "name": {"type": "str"},
    "config": {"type": "str"},
    "config_file": {"type": "path"},
    "lines": {"type": "list", "elements": "str"},
    "backup_dir": {"type": "path"},
    "save": {"type": "bool", "default": True},
    "rollback": {"type": "bool", "default": True},
    "write_only": {"type": "list", "elements": "str"},
    "push_write_only": {"type": "bool", "default": False},
    "secrets": {"type": "list", "elements": "str", "no_log": True, "default": []},
}


def _intent(module: AnsibleModule) -> str:
    if module.params["config"] is not None:
        return module.params["config"]
    if module.params["lines"] is not None:
        return "\n".join(module.params["lines"]) + "\n"
    try:
        return Path(module.params["config_file"]).read_text()
    except OSError as exc:
        module.fail_json(msg=f"cannot read config_file: {exc}")
        raise  # unreachable: fail_json exits


def _backup_path(module: AnsibleModule) -> Path | None:
    folder = module.params["backup_dir"]
    if not folder:
        return None
    Path(folder).mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    return Path(folder) / f"{module.params['name'] or module.params['host']}-{stamp}.cfg"


def main() -> None:
    module = AnsibleModule(
        argument_spec=ARGS,
        mutually_exclusive=[("config", "config_file", "lines")],
        required_one_of=[("config", "config_file", "lines"), ("password", "key_file")],
        supports_check_mode=True,
    )
    device = target(module)
    p = module.params
    try:
        out = push(
            device, _intent(module), backup_path=_backup_path(module), check=module.check_mode,
            save=p["save"], rollback=p["rollback"], write_only=p["write_only"],
            push_write_only=p["push_write_only"],
        )  # fmt: skip
    except Exception as exc:  # connection / authentication / timeout: nothing was pushed
        module.fail_json(msg=f"{type(exc).__name__}: {exc}", changed=False)
    result = {
        "changed": out.changed,
        "msg": out.msg,
        "commands": out.commands,
        "backup_path": out.backup_path,
        "rolled_back": out.rolled_back,
        "rollback_commands": out.rollback_commands,
        "timings": out.timings,
    }
    if module._diff:
        result["diff"] = {
            "before": out.before, "after": out.after,
            "before_header": f"{p['host']} running (before)",
            "after_header": f"{p['host']} running (after)",
        }  # fmt: skip
    if out.failed:
        module.fail_json(**result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
