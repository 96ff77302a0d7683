"""`emops vendor render`: write every vendor device's CLI configuration to files.

    emops vendor render -i inventory/province --redact      # review copies, no secrets
    emops vendor render -i inventory/province --host anping-wan --vault-password-file F

Files go to build/configs/<network>/<host>.cfg. With --redact every credential
is REDACTED (what the golden files hold); without it the vault is decrypted and
the files are written mode 0600. playbooks/vendor-push.yml renders in memory
instead and never writes a decrypted config.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from emops.commandline import checked
from emops.errors import EmopsError
from emops.files import check_input_file, make_output_dir, write_atomic
from emops.inventory_cli import add_inventory_arg
from emops.secrets import decryptor_for
from emops.topology import load_topology
from emops.topology.model import Topology
from emops.vendor.render import Resolver, render_all
from emops.vendor.view import vendor_devices


def register(commands: argparse._SubParsersAction) -> None:
    vendor = commands.add_parser("vendor", help="vendor CLI configurations (Huawei VRP, IOS)")
    sub = vendor.add_subparsers(dest="action", required=True, metavar="ACTION")
    render = sub.add_parser("render", help="render each vendor device's config to a file")
    add_inventory_arg(render)
    render.add_argument("-o", "--out", help="output directory (default build/configs/NETWORK)")
    render.add_argument("--host", action="append", default=[], help="only this host (repeat)")
    render.add_argument("--redact", action="store_true", help="write REDACTED for every secret")
    render.add_argument(
        "--vault-password-file",
        type=checked(check_input_file, "--vault-password-file"),
        help="decrypt the vault with this password",
    )
    render.set_defaults(run=_render)


def vault_resolver(topo: Topology, inventory: str, password_file: str | None) -> Resolver:
    """Resolve vault_* references with the inventory's vault (decrypted on use)."""
    decryptor = decryptor_for(inventory, password_file)
    values = next(iter(topo.devices.values())).vars if topo.devices else {}

    def resolve(name: str) -> str:
        if name not in values:
            raise EmopsError.of("secret", f"{name} is not defined", "add it to the vault")
        return str(decryptor.plain(values[name]))

    return resolve


def _render(args: argparse.Namespace) -> int:
    topo = load_topology(args.inventory)
    devices = vendor_devices(topo)
    if unknown := sorted(set(args.host) - {d.name for d in devices}):
        raise EmopsError.of(
            "--host", f"not a vendor CLI device: {', '.join(unknown)}", "see emops inventory show"
        )
    chosen = {d.name for d in devices if not args.host or d.name in args.host}
    resolve = None
    if not args.redact:
        resolve = vault_resolver(topo, args.inventory, args.vault_password_file)
    out = Path(args.out or Path("build") / "configs" / topo.network)
    # rendered (and the vault opened) before anything is written
    rendered = {n: text for n, text in render_all(topo, resolve).items() if n in chosen}
    make_output_dir(out)
    for name, text in rendered.items():  # 0600 from the start: they may hold secrets
        write_atomic(out / f"{name}.cfg", text, "--out", mode=0o600)
    kind = "redacted" if args.redact else "with secrets, mode 0600"
    print(f"{len(chosen)} configurations ({kind}) in {out}")
    return 0
