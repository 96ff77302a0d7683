"""What emops_netmiko_push and emops_netmiko_backup share: how a device is reached.

Both modules take the same connection options, need the emops virtualenv's
interpreter (netmiko and emops live there) and build the same netmiko Target,
so that lives here once. Ansible ships this file inside each module's payload
(module_utils, path set in ansible.cfg); the modules import it as
`ansible.module_utils.emops_netmiko`.
"""

from __future__ import annotations

from typing import Any

from ansible.module_utils.basic import AnsibleModule

try:
    from emops.files import write_atomic
    from emops.vendor.session import Target, fetch_backup, push
except ImportError as exc:  # not the emops virtualenv's interpreter: target() fails the task
    IMPORT_ERROR: ImportError | None = exc
    Target = fetch_backup = push = write_atomic = None  # type: ignore[assignment,misc]
else:
    IMPORT_ERROR = None

__all__ = ["CONNECTION_ARGS", "IMPORT_ERROR", "fetch_backup", "push", "target", "write_atomic"]

# argument_spec entries of the connection; each module adds its own options
CONNECTION_ARGS: dict[str, dict[str, Any]] = {
    "host": {"type": "str", "required": True},
    "port": {"type": "int", "default": 22},
    "username": {"type": "str", "required": True},
    "password": {"type": "str", "no_log": True},
    "key_file": {"type": "path"},
    "device_type": {"type": "str", "required": True, "choices": ["cisco_ios", "huawei"]},
    "timeout": {"type": "int", "default": 30},
}


def target(module: AnsibleModule) -> Target:
    """The device from the module's connection options; fails the task, with the fix,
    when emops/netmiko cannot be imported (the task ran with another interpreter)."""
    if IMPORT_ERROR is not None:
        module.fail_json(
            msg=f"emops/netmiko not importable ({IMPORT_ERROR}): run this task with "
            "ansible_python_interpreter={{ ansible_playbook_python }} from the emops venv"
        )
    p = module.params
    return Target(
        host=p["host"], device_type=p["device_type"], username=p["username"], port=p["port"],
        password=p["password"], key_file=p["key_file"], timeout=p["timeout"],
    )  # fmt: skip
