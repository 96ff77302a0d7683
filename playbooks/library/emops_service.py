#!/usr/bin/python
"""Ansible module: a daemon's state, through systemd or the twin's lab service manager.

The one place that knows how daemons run: on real servers systemd
(`systemctl`), in the twin `python -m lab.services` (devices have no systemd).
Roles say only what to run; the action plugin of the same name fills in the
manager (`emops_service_manager`), the device and the lab's Python.
"""

from __future__ import annotations

import json
import os
import shlex
import signal

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.emops_config_file import write_if_changed

DOCUMENTATION = r"""
module: emops_service
short_description: Start, stop, restart or reload a daemon (systemd, or the twin's lab manager)
description:
  - With I(manager=lab) the daemon is registered and run by C(python -m lab.services)
    inside the twin device; a changed I(command) restarts it with the new one.
  - With I(manager=systemd) the unit is driven by systemctl and runs exactly I(command):
    a unit is written when no package ships one, else a drop-in overrides its ExecStart
    (not for daemons of a multi-daemon unit, I(unit) differing from I(name)).
  - Check mode reports what would change and does nothing.
options:
  name: {type: str, required: true, description: Service name (the lab registry's).}
  unit:
    type: str
    description: systemd unit when it differs from name (sshd -> ssh, zebra -> frr).
  state:
    type: str
    default: started
    choices: [started, stopped, restarted, reloaded]
    description: Desired state; reloaded signals a running daemon (starts a stopped one).
  command: {type: list, elements: str, description: The daemon's argv (foreground or forking).}
  pidfile: {type: str, description: Pid file of a forking daemon (path inside the device).}
  env: {type: dict, default: {}, description: Extra environment variables.}
  reload_signal: {type: str, default: HUP, description: Signal that makes the daemon reload.}
  manager: {type: str, required: true, choices: [lab, systemd], description: Filled by the action.}
  device: {type: str, description: Twin device name (lab), filled by the action.}
  lab_python: {type: str, description: Python with the lab package (lab), filled by the action.}
"""

EXAMPLES = r"""
- name: Run keepalived
  emops_service:
    name: keepalived
    command: [/usr/sbin/keepalived, --dont-fork, --log-console, -f, /etc/keepalived/keepalived.conf]
"""

RETURN = r"""
pid: {description: The daemon's pid (lab), when running., type: int, returned: success}
"""

UNIT_DIRS = ("/etc/systemd/system", "/lib/systemd/system", "/usr/lib/systemd/system")


class Lab:
    """The twin's service registry, through its command line."""

    def __init__(self, module: AnsibleModule) -> None:
        self.m = module
        self.p = module.params
        self.base = [self.p["lab_python"], "-m", "lab.services"]

    def _run(self, *args: str, opts: list[str] | None = None) -> str:
        argv = [*self.base, *(opts or []), self.p["device"], *args]
        rc, out, err = self.m.run_command(argv, environ_update={"PYTHONDONTWRITEBYTECODE": "1"})
        if rc != 0:
            self.m.fail_json(msg=f"lab.services {' '.join(args[:2])}: {err.strip() or out.strip()}")
        return out

    def status(self) -> dict | None:
        return json.loads(self._run("status")).get(self.p["name"])

    def start(self) -> int:
        opts = ["--pidfile", self.p["pidfile"]] if self.p["pidfile"] else []
        opts += [f"--env={k}={v}" for k, v in sorted(self.p["env"].items())]
        argv = ["--", *self.p["command"]] if self.p["command"] else []
        return int(self._run("start", self.p["name"], *argv, opts=opts).split()[-1])

    def stop(self) -> None:
        self._run("stop", self.p["name"])


def run_lab(module: AnsibleModule) -> dict:
    p, lab = module.params, Lab(module)
    state, current = p["state"], lab.status()
    running = bool(current and current["running"])
    differs = bool(current and p["command"] and current["argv"] != p["command"])
    if not current and not p["command"] and state != "stopped":
        if module.check_mode:  # a handler after a start task that check mode only reported
            return {"changed": True}
        module.fail_json(msg=f"service {p['name']} is not registered: give its command")
    if state == "stopped":
        if running and not module.check_mode:
            lab.stop()
        return {"changed": running}
    if state == "started" and running and not differs:
        return {"changed": False, "pid": current["pid"]}
    if state == "reloaded" and running and not differs:
        if not module.check_mode:
            os.kill(current["pid"], getattr(signal, f"SIG{p['reload_signal'].upper()}"))
        return {"changed": True, "pid": current["pid"]}
    # start, restart, or a changed command: (stop and) start again
    if module.check_mode:
        return {"changed": True}
    if running:
        lab.stop()
    return {"changed": True, "pid": lab.start()}


def _unit_text(p: dict, packaged: bool) -> str:
    """A whole unit (none packaged) or a drop-in making the packaged unit run `command`."""
    forking = [f"PIDFile={p['pidfile']}", "Type=forking"] if p["pidfile"] else ["Type=simple"]
    service = [
        *([] if packaged else [f"Description=emops {p['name']}"]),
        *forking,
        *(["PIDFile=", "ExecStartPre=", "ExecStart="] if packaged and not p["pidfile"] else []),
        *(["ExecStartPre=", "ExecStart="] if packaged and p["pidfile"] else []),
        *[f"Environment={shlex.quote(f'{k}={v}')}" for k, v in sorted(p["env"].items())],
        f"ExecStart={shlex.join(p['command'])}",
        *(["ExecReload="] if packaged else []),
        f"ExecReload=/bin/kill -{p['reload_signal'].upper()} $MAINPID",
        *([] if packaged else ["Restart=on-failure"]),
    ]
    head = ["# written by emops (playbooks/library/emops_service.py)"]
    if packaged:
        return "\n".join([*head, "[Service]", *service, ""])
    unit = ["[Unit]", f"Description=emops {p['name']}", "After=network-online.target"]
    rest = ["[Service]", *service[1:], "[Install]", "WantedBy=multi-user.target", ""]
    return "\n".join([*head, *unit, *rest])


def run_systemd(module: AnsibleModule) -> dict:
    """systemctl on the unit. A daemon with its own unit runs exactly `command`: a unit
    is written when no package ships one, else a drop-in overrides ExecStart. A daemon
    that is part of a packaged multi-daemon unit (`unit` differs: FRR) only drives it."""
    p = module.params
    name = p["unit"] or p["name"]
    unit = name if "." in name else f"{name}.service"
    changed = False
    if p["command"] and (p["unit"] is None or p["unit"] == p["name"]):
        packaged = any(os.path.exists(os.path.join(d, unit)) for d in UNIT_DIRS[1:])
        path = (
            os.path.join(UNIT_DIRS[0], f"{unit}.d", "emops.conf")
            if packaged
            else os.path.join(UNIT_DIRS[0], unit)
        )
        if write_if_changed(path, _unit_text(p, packaged), module.check_mode):
            changed = True
            if not module.check_mode:
                module.run_command(["systemctl", "daemon-reload"], check_rc=True)
    rc, _out, _err = module.run_command(["systemctl", "is-active", "--quiet", unit])
    active = rc == 0
    state = p["state"]
    if changed and active and state == "started":
        state = "restarted"  # the unit's command changed
    verb = {
        "started": None if active else "start",
        "stopped": "stop" if active else None,
        "restarted": "restart",
        "reloaded": "reload" if active else "start",
    }[state]
    if verb and not module.check_mode:
        module.run_command(["systemctl", verb, unit], check_rc=True)
        if state != "stopped":
            module.run_command(["systemctl", "enable", unit], check_rc=True)
    return {"changed": changed or verb is not None}


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "name": {"type": "str", "required": True},
            "unit": {"type": "str"},
            "state": {
                "type": "str",
                "default": "started",
                "choices": ["started", "stopped", "restarted", "reloaded"],
            },
            "command": {"type": "list", "elements": "str"},
            "pidfile": {"type": "str"},
            "env": {"type": "dict", "default": {}},
            "reload_signal": {"type": "str", "default": "HUP"},
            "manager": {"type": "str", "required": True, "choices": ["lab", "systemd"]},
            "device": {"type": "str"},
            "lab_python": {"type": "str"},
        },
        required_if=[("manager", "lab", ("device", "lab_python"))],
        supports_check_mode=True,
    )
    run = run_lab if module.params["manager"] == "lab" else run_systemd
    module.exit_json(**run(module))


if __name__ == "__main__":
    main()
