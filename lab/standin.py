"""A stand-in for a server the twin does not really run (CTI, unified interface).

`python -m lab.standin --name cti --listen 198.18.160.11:5038`

Answers every HTTP GET with 200 and `{"service", "device", "path"}` (HEAD too),
so firewall flows and probes have a real listener to allow or deny. Listens
only on loopback or a 198.18.0.0/15 lab address; exits cleanly on SIGTERM.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from emops.commandline import report_problems
from emops.errors import EmopsError
from lab.marketing.listen import parse_listen


def handler_for(service: str) -> type[BaseHTTPRequestHandler]:
    device = os.environ.get("EMOPS_DEVICE") or socket.gethostname()

    class Handler(BaseHTTPRequestHandler):
        server_version = f"emops-standin/{service}"

        def _answer(self, body: bool) -> None:
            payload = json.dumps({"service": service, "device": device, "path": self.path})
            data = (payload + "\n").encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if body:
                self.wfile.write(data)

        def do_GET(self) -> None:
            self._answer(True)

        def do_HEAD(self) -> None:
            self._answer(False)

        def log_message(self, format: str, *args: object) -> None:  # quiet
            return

    return Handler


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lab.standin", description=__doc__)
    parser.add_argument("--name", required=True, help="the service this stands in for")
    parser.add_argument("--listen", required=True, help="HOST:PORT, loopback or 198.18.0.0/15")
    args = parser.parse_args(argv)
    try:
        host, port = parse_listen(args.listen)
    except EmopsError as exc:
        return report_problems(exc)
    server = ThreadingHTTPServer((host, port), handler_for(args.name))
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
    print(f"{args.name} stand-in listening on http://{host}:{server.server_port}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
