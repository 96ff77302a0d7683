#!/usr/bin/python
"""Ansible module: save a vendor CLI device's running config to a file (netmiko).

Used by playbooks/backup.yml; like emops_netmiko_push it runs on the controller
with the emops virtualenv's interpreter, and shares its connection options
(playbooks/module_utils/emops_netmiko.py).
"""

from __future__ import annotations

DOCUMENTATION = r"""
module: emops_netmiko_backup
short_description: Save a CLI device's running config to a file on the controller
description:
  - Reads C(show running-config) / C(display current-configuration) over SSH with
    netmiko, drops volatile lines (timestamps, byte counts) and writes I(dest)
    only when the text differs, so changed means the device's config changed.
extends_documentation_fragment: [emops_netmiko]  # host, port, username, password, key_file, ...
options:
  dest: {type: path, required: true, description: File to write.}
"""

RETURN = r"""
dest: {type: str, returned: always, description: The file written (or left as it was).}
lines: {type: int, returned: always, description: Lines in the saved config.}
"""

from pathlib import Path  # noqa: E402

from ansible.module_utils.basic import AnsibleModule  # noqa: E402
from ansible.module_utils.emops_netmiko import (  # noqa: E402
    CONNECTION_ARGS,
    fetch_backup,
    target,
    write_atomic,
)

ARGS = {**CONNECTION_ARGS, "dest": {"type": "path", "required": True}}


def main() -> None:
    module = AnsibleModule(
        argument_spec=ARGS,
        required_one_of=[("password", "key_file")],
        supports_check_mode=True,
    )
    device = target(module)
    p = module.params
    try:
        text = fetch_backup(device)
    except Exception as exc:  # connection / authentication / timeout
        module.fail_json(msg=f"{type(exc).__name__}: {exc}")
    dest = Path(p["dest"])
    changed = not dest.exists() or dest.read_text() != text
    if changed and not module.check_mode:
        dest.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(dest, text, "dest")
    module.exit_json(changed=changed, dest=str(dest), lines=text.count("\n"))


if __name__ == "__main__":
    main()
