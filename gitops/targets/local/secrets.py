"""Key Vault references in ``environment_variables``, resolved for the local target.

On Azure a deployment passes ``multiplier@https://<vault>.vault.azure.net`` (or a Key Vault secret
URI) as written and its scoring script reads the secret with the endpoint's managed identity, as
Azure/azureml-examples ``cli/endpoints/online/managed/keyvault`` does. No managed identity exists on
this machine, so the local target puts the secret's value in the variable instead, from (first
found wins):

1. the process environment, ``MLOPS_SECRET_<NAME>`` (``<NAME>``: the secret's name upper-cased,
   ``-`` and other non-alphanumerics as ``_``: ``db-password`` -> ``MLOPS_SECRET_DB_PASSWORD``);
2. the secrets file, ``local.secrets_file`` in environment.yaml or ``<state_dir>/secrets.env``
   (git-ignored), lines ``NAME=value`` keyed the same way (``multiplier=7`` or ``MULTIPLIER=7``).

A reference that neither holds fails the deployment naming the variable and both places. Values
never appear in messages, logs or the state database (the stored spec keeps the reference).
A scoring script that resolves ``KV_SECRET_*`` itself (the official example's ``load_secrets``)
still needs Azure; scripts that read the variable's value work on both.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from gitops.errors import rel
from gitops.model.policy_rules import is_secret_reference
from gitops.targets.local.errors import LocalTargetError

ENV_PREFIX = "MLOPS_SECRET_"
DEFAULT_SECRETS_FILE = "secrets.env"
# `name@https://vault...` or `https://vault.../secrets/name[/version]` (policy_rules accepts both).
_AT_FORM = re.compile(r"^(?P<name>[A-Za-z0-9-]+)@https://")
_URI_FORM = re.compile(r"^https://[^/]+/secrets/(?P<name>[A-Za-z0-9-]+)")
_CONNECTION = re.compile(r"^\$\{\{azureml://connections/(?P<conn>[^/{}]+)/[^{}]*?(?P<key>[^/{}]+)\}\}$")


def secret_name(value: str) -> str | None:
    """The Key Vault secret (or workspace connection key) a reference names; None: not a reference."""
    text = value.strip()
    if not is_secret_reference(text):
        return None
    for pattern in (_AT_FORM, _URI_FORM):
        m = pattern.match(text)
        if m:
            return m.group("name")
    m = _CONNECTION.match(text)
    return f"{m.group('conn')}-{m.group('key')}" if m else None


def lookup_key(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9]", "_", name).upper()


@dataclass
class LocalSecrets:
    """Where the local target finds the values of secret references."""

    file: Path | None
    environ: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    _values: dict[str, str] | None = None

    def _file_values(self) -> dict[str, str]:
        if self._values is None:
            self._values = (
                read_secrets_file(self.file) if self.file is not None and self.file.is_file() else {}
            )
        return self._values

    def where(self, name: str) -> str:
        file = rel(self.file) if self.file is not None else "a secrets file (local.secrets_file)"
        return f"set {ENV_PREFIX}{lookup_key(name)} in the environment, or add `{name}=<value>` to {file}"

    def check(self, where: str, variables: Mapping[str, str]) -> None:
        """Raise, naming the variable and where to put the value, for a reference with no value."""
        self.resolve(where, variables)

    def resolve(self, where: str, variables: Mapping[str, str]) -> dict[str, str]:
        """``variables`` with every secret reference replaced by its local value."""
        out = dict(variables)
        for var, value in variables.items():
            name = secret_name(str(value))
            if name is None:
                continue
            key = lookup_key(name)
            found = self.environ.get(ENV_PREFIX + key)
            if found is None:
                found = self._file_values().get(key)
            if found is None:
                raise LocalTargetError(
                    f"{where}: environment variable {var} is a secret reference ({name}) that cannot be "
                    f"resolved locally; {self.where(name)}"
                )
            out[var] = found
        return out


def read_secrets_file(path: Path) -> dict[str, str]:
    """``NAME=value`` lines (``#`` comments, blank lines, ``export NAME=value`` and quoted values
    accepted), keyed by :func:`lookup_key`. A malformed line or a name given twice is an error
    naming the line, never its value."""
    values: dict[str, str] = {}
    lines: dict[str, int] = {}
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        name, sep, value = line.removeprefix("export ").partition("=")
        if not sep or not name.strip():
            raise LocalTargetError(f"{rel(path)}:{number}: expected NAME=value")
        key = lookup_key(name.strip())
        if key in lines:
            raise LocalTargetError(f"{rel(path)}:{number}: {name.strip()} is also set on line {lines[key]}")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        values[key], lines[key] = value, number
    return values
