"""A server the dashboard tests start as a child process: logged to a file, awaited over
HTTP, stopped by PID.

Prometheus (promfixture) and `emops dashboard` (browserfixture) are started and
stopped the same way; one class keeps the deadline, the exit check and the
SIGTERM-then-SIGKILL stop the same for both, so neither can leak a process.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
import urllib.request
from collections.abc import Callable
from http.client import HTTPResponse
from pathlib import Path


class ChildServer:
    """`argv` running in `cwd` with stdout and stderr in `log`."""

    name = "server"  # for error messages

    def __init__(self, argv: list[str], cwd: Path, log: Path) -> None:
        self.log_path = log
        self.log = open(log, "wb")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(argv, stdout=self.log, stderr=subprocess.STDOUT, cwd=cwd)

    def wait_http(
        self, url: str, ready: Callable[[HTTPResponse], bool], timeout_s: float, poll_s: float
    ) -> None:
        """Until a GET of `url` satisfies `ready`; fails at once, with the log, if it exits."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                log = self.log_path.read_text(errors="replace")[-4000:]
                raise RuntimeError(f"{self.name} exited with {self.process.returncode}: {log}")
            try:
                with urllib.request.urlopen(url, timeout=1) as response:
                    if ready(response):
                        return
            except OSError:
                pass
            time.sleep(poll_s)
        raise TimeoutError(f"{self.name} did not become ready")

    def stop(self) -> None:
        """SIGTERM, SIGKILL after 15 s; then close the log."""
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.kill(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=5)
        self.log.close()
