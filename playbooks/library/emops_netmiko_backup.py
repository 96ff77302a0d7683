#!/usr/bin/python
"""Ansible module: save a vendor CLI device's running config to a file (netmiko).

Used by playbooks/backup.yml; like emops_netmiko_push it runs on the controller
with the emops virtualenv's interpreter.
"""

from __future__ import annotations

DOCUMENTATION = r"""
module: emops_netmiko_backup
short_description: Save a CLI device's running config to a file on the controller
description:
  - Reads C(show running-config) / C(display current-configuration) over SSH with
    netmiko, drops volatile lines (timestamps, byte counts) and writes I(dest)
    only when the text differs, so changed means the device's config changed.
options:
  host: {type: str, required: true, description: Management address.}
  port: {type: int, default: 22, description: SSH port.}
  username: {type: str, required: true, description: Login name.}
  password: {type: str, no_log: true, description: Password (or key_file).}
  key_file: {type: path, description: SSH private key on the controller.}
  device_type:
    type: str
    required: true
    choices: [cisco_ios, huawei]
    description: netmiko device type.
  dest: {type: path, required: true, description: File to write.}
  timeout: {type: int, default: 30, description: SSH connect timeout in seconds.}
"""

RETURN = r"""
dest: {type: str, returned: always, description: The file written (or left as it was).}
lines: {type: int, returned: always, description: Lines in the saved config.}
"""

from pathlib import Path  # noqa: E402

from ansible.module_utils.basic import AnsibleModule  # noqa: E402

try:
    from emops.files import write_atomic
    from emops.vendor.session import Target, fetch_backup
except ImportError as exc:  # not the emops virtualenv's interpreter
    IMPORT_ERROR: ImportError | None = exc
else:
    IMPORT_ERROR = None

ARGS = {
    "host": {"type": "str", "required": True},
    "port": {"type": "int", "default": 22},
    "username": {"type": "str", "required": True},
    "password": {"type": "str", "no_log": True},
    "key_file": {"type": "path"},
    "device_type": {"type": "str", "required": True, "choices": ["cisco_ios", "huawei"]},
    "dest": {"type": "path", "required": True},
    "timeout": {"type": "int", "default": 30},
}


def main() -> None:
    module = AnsibleModule(
        argument_spec=ARGS,
        required_one_of=[("password", "key_file")],
        supports_check_mode=True,
    )
    if IMPORT_ERROR is not None:
        module.fail_json(
            msg=f"emops/netmiko not importable ({IMPORT_ERROR}): run this task with "
            "ansible_python_interpreter={{ ansible_playbook_python }} from the emops venv"
        )
    p = module.params
    target = Target(
        host=p["host"], device_type=p["device_type"], username=p["username"], port=p["port"],
        password=p["password"], key_file=p["key_file"], timeout=p["timeout"],
    )  # fmt: skip
    try:
        text = fetch_backup(target)
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
