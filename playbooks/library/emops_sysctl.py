#!/usr/bin/python
"""Ansible module: kernel settings, applied now and kept in a sysctl.d file.

Inside a twin device /proc/sys/net belongs to the device's own network
namespace, so forwarding set here is the device's, not the machine's.
"""

from __future__ import annotations

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.emops_config_file import write_if_changed

DOCUMENTATION = r"""
module: emops_sysctl
short_description: Set sysctl values now and persist them in one sysctl.d file
options:
  settings: {type: dict, required: true, description: "key -> value, e.g. net.ipv4.ip_forward: 1"}
  persist: {type: path, description: sysctl.d file that keeps them across boots.}
"""

EXAMPLES = r"""
- name: Forward IPv4
  emops_sysctl:
    settings: {net.ipv4.ip_forward: 1}
    persist: /etc/sysctl.d/90-emops.conf
"""


def _path(key: str) -> str:
    return "/proc/sys/" + key.replace(".", "/")


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "settings": {"type": "dict", "required": True},
            "persist": {"type": "path"},
        },
        supports_check_mode=True,
    )
    settings = {k: str(v) for k, v in module.params["settings"].items()}
    before, after, changed = [], [], False
    for key, want in sorted(settings.items()):
        try:
            with open(_path(key)) as handle:
                have = " ".join(handle.read().split())
        except OSError as exc:
            module.fail_json(msg=f"{key}: {exc}")
        before.append(f"{key} = {have}")
        after.append(f"{key} = {want}")
        if have != want:
            changed = True
            if not module.check_mode:
                with open(_path(key), "w") as handle:
                    handle.write(want)
    persist = module.params["persist"]
    if persist:
        text = "# written by emops (emops_sysctl)\n" + "".join(f"{line}\n" for line in after)
        changed = write_if_changed(persist, text, module.check_mode) or changed
    diff = {"before": "\n".join(before) + "\n", "after": "\n".join(after) + "\n"}
    module.exit_json(changed=changed, diff=diff)


if __name__ == "__main__":
    main()
