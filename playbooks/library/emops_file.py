#!/usr/bin/python
"""Ansible module: write a file whose content was rendered on the controller.

`ansible.builtin.template` costs three or four round trips per file (temp
directory, stat, transfer, copy); the twin runs two dozen devices on a couple
of CPUs, where that dominated a provisioning run. This writes content passed
as an argument in one round trip, with the same guarantees: atomic replace,
owner/group/mode, optional validation of the new file, check mode and diff.
Render with `lookup('ansible.builtin.template', 'x.j2')`; mark secret files
`no_log: true` and `diff: false`.
"""

from __future__ import annotations

import grp
import os
import pwd
import tempfile

from ansible.module_utils.basic import AnsibleModule

DOCUMENTATION = r"""
module: emops_file
short_description: Write rendered content to a file in one round trip (check mode, diff)
options:
  dest: {type: path, required: true, description: File to write (missing parents are made, 0755).}
  content: {type: str, required: true, description: The whole content.}
  owner: {type: str, default: root, description: Owner.}
  group: {type: str, default: root, description: Group.}
  mode: {type: str, default: "0644", description: Octal mode.}
  validate:
    type: str
    description: Command run on the new file before it replaces dest (%s is its path).
"""

EXAMPLES = r"""
- name: Write the nginx configuration
  emops_file:
    dest: /etc/nginx/nginx.conf
    content: "{{ lookup('ansible.builtin.template', 'nginx.conf.j2') }}"
    validate: /usr/sbin/nginx -t -q -c %s
"""


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "dest": {"type": "path", "required": True},
            "content": {"type": "str", "required": True},
            "owner": {"type": "str", "default": "root"},
            "group": {"type": "str", "default": "root"},
            "mode": {"type": "str", "default": "0644"},
            "validate": {"type": "str"},
        },
        supports_check_mode=True,
    )
    p = module.params
    dest, content, mode = p["dest"], p["content"], int(p["mode"], 8)
    try:
        uid, gid = pwd.getpwnam(p["owner"]).pw_uid, grp.getgrnam(p["group"]).gr_gid
    except KeyError as exc:
        if module.check_mode:  # the account comes from an earlier task check mode only reported
            module.exit_json(changed=True, dest=dest, msg=f"unknown account {exc}")
        module.fail_json(msg=f"{dest}: unknown owner or group {exc}")
    old = None
    if os.path.exists(dest):
        with open(dest, encoding="utf-8", errors="replace") as handle:
            old = handle.read()
    st = os.stat(dest) if old is not None else None
    meta_ok = st is not None and (st.st_uid, st.st_gid, st.st_mode & 0o7777) == (uid, gid, mode)
    diff = {"before_header": dest, "after_header": dest, "before": old or "", "after": content}
    if old == content and meta_ok:
        module.exit_json(changed=False, dest=dest)
    if module.check_mode:
        module.exit_json(changed=True, dest=dest, diff=diff)
    folder = os.path.dirname(dest) or "."
    os.makedirs(folder, mode=0o755, exist_ok=True)  # like install -D: parents root 0755
    if old == content:  # only owner, group or mode differ
        os.chown(dest, uid, gid)
        os.chmod(dest, mode)
        module.exit_json(changed=True, dest=dest, diff=diff)
    fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(dest)}.", dir=folder)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(content)
        os.chown(tmp, uid, gid)
        os.chmod(tmp, mode)
        if p["validate"]:
            rc, out, err = module.run_command(p["validate"] % tmp)
            if rc != 0:
                module.fail_json(msg=f"validation failed: {(err or out).strip()[-2000:]}")
        os.replace(tmp, dest)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    module.exit_json(changed=True, dest=dest, diff=diff)


if __name__ == "__main__":
    main()
