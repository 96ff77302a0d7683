"""Inventory variables with their `!vault` values decrypted, only on demand.

The inventory loads without a password (values stay encrypted); only the
collectors' credentials and `emops vendor render` need clear text. The password
file comes from --vault-password-file, else ANSIBLE_VAULT_PASSWORD_FILE (as for
Ansible), else `vault-password.txt` inside the inventory directory: only the lab
inventory has one (its published test secret). The real network's password is
the operator's and never in git, so the province inventory has no fallback.
--print-config decrypts nothing: a sealed Decryptor shows `<vault>` instead.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from emops.errors import EmopsError

LAB_PASSWORD_FILE = "vault-password.txt"  # inside inventory/lab only; Ansible skips *.txt there
PASSWORD_ENV = "ANSIBLE_VAULT_PASSWORD_FILE"
HOW = f"pass --vault-password-file FILE or set {PASSWORD_ENV}=FILE, a file outside git"
REDACTED = "<redacted>"
SEALED = "<vault>"  # an encrypted value, not decrypted
SECRET_KEYS = ("password", "community", "secret", "key")


def password_file(inventory: Path, explicit: str | None = None) -> Path | None:
    """Where the vault password is, or None when nothing names one."""
    if explicit:
        return Path(explicit)
    if os.environ.get(PASSWORD_ENV):
        return Path(os.environ[PASSWORD_ENV])
    folder = inventory if inventory.is_dir() else inventory.parent
    inside = folder / LAB_PASSWORD_FILE
    return inside if inside.is_file() else None


def decryptor_for(
    inventory: str | Path, explicit: str | None, *, sealed: bool = False
) -> Decryptor:
    """The inventory's Decryptor; `sealed` (--print-config) never reads a password."""
    if sealed:
        return Decryptor(None, sealed=True)
    return Decryptor(password_file(Path(inventory), explicit), inventory=str(inventory))


class Decryptor:
    """Templates a host's variables, decrypting vault values with one password."""

    def __init__(
        self, password_path: Path | None, *, sealed: bool = False, inventory: str = "the inventory"
    ) -> None:
        self.password_path = password_path
        self.sealed = sealed
        self.inventory = inventory
        self._vault: Any = None

    def _lib(self) -> Any:
        if self._vault is None:
            # ansible-core loads in ~0.4 s: only once a secret is used
            from ansible.errors import AnsibleError
            from ansible.parsing.dataloader import DataLoader
            from ansible.parsing.vault import VaultLib, get_file_vault_secret

            field = "--vault-password-file"
            if self.password_path is None:
                raise EmopsError.of(
                    field, f"{self.inventory} has vault-encrypted secrets and no password", HOW
                )
            if not self.password_path.is_file():
                raise EmopsError.of(field, f"{self.password_path} is not a file", HOW)
            try:
                path = str(self.password_path)
                secret = get_file_vault_secret(filename=path, loader=DataLoader())
                secret.load()
            except (AnsibleError, OSError) as exc:  # empty, unreadable, a failing script
                raise EmopsError.of(
                    field, f"{self.password_path}: {_first_line(exc)}", HOW
                ) from None
            self._vault = VaultLib([("default", secret)])
        return self._vault

    def plain(self, value: Any) -> Any:
        # ansible-core loads in ~0.4 s: only once a secret is used
        from ansible.parsing.vault import EncryptedString

        if isinstance(value, EncryptedString):
            if self.sealed:
                return SEALED
            vault = self._lib()
            try:
                return vault.decrypt(value._ciphertext).decode()
            except Exception as exc:  # AnsibleVaultError and friends: wrong password
                raise EmopsError.of(
                    "--vault-password-file",
                    f"{self.password_path} does not open the vault of {self.inventory} "
                    f"({_first_line(exc).rstrip('.')})",
                    "is it this inventory's password?",
                ) from None
        return value

    def render(self, value: Any, host_vars: Mapping[str, Any]) -> Any:
        """`value` with Jinja templates resolved against `host_vars` (vault decrypted)."""
        # ansible-core loads in ~0.4 s: only once a secret is used
        from ansible.parsing.dataloader import DataLoader
        from ansible.template import Templar

        needed = {k: self.plain(v) for k, v in host_vars.items() if _referenced(k, value)}
        return Templar(loader=DataLoader(), variables=needed).template(value)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _referenced(name: str, value: Any) -> bool:
    """Whether `value` (a template tree) mentions variable `name`: only those are decrypted."""
    if isinstance(value, str):
        return name in value
    if isinstance(value, Mapping):
        return any(_referenced(name, v) for v in value.values())
    if isinstance(value, list | tuple):
        return any(_referenced(name, v) for v in value)
    return False


def redact(value: Any) -> Any:
    """A copy of a config tree with every secret-looking value replaced."""
    if isinstance(value, Mapping):
        return {
            k: REDACTED if any(s in str(k).lower() for s in SECRET_KEYS) and v else redact(v)
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [redact(v) for v in value]
    return value
