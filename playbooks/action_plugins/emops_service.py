"""Action plugin for emops_service: fill in how this host runs daemons.

`emops_service_manager` (inventory: `lab` for the twin, `systemd` for real
servers) picks the manager; in the twin the lab's service manager is run with
`emops_lab_python`, by default the Python running Ansible (the project's
virtualenv, which the twin's devices share with the controller).
"""

from __future__ import annotations

import sys

from ansible.plugins.action import ActionBase


class ActionModule(ActionBase):
    TRANSFERS_FILES = False

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        task_vars = task_vars or {}
        args = dict(self._task.args)

        def var(name, default):
            value = task_vars.get(name, default)
            return self._templar.template(value) if value is not None else default

        args.setdefault("manager", var("emops_service_manager", "systemd"))
        if args["manager"] == "lab":
            args.setdefault("device", var("inventory_hostname", None))
            args.setdefault("lab_python", var("emops_lab_python", sys.executable))
        result.update(self._execute_module("emops_service", module_args=args, task_vars=task_vars))
        return result
