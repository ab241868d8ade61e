"""Key Vault references resolved by the local target (issue 13 item 5): from MLOPS_SECRET_<NAME>
or the git-ignored secrets file, failing with the variable's name and where to put the value, and
never with the value itself; the stored spec keeps the reference as written."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from gitops.targets.local.errors import LocalTargetError
from gitops.targets.local.secrets import LocalSecrets, read_secrets_file, secret_name
from gitops.targets.local.spec import deployment_spec

VAULT_REF = "multiplier@https://kv-demo.vault.azure.net"  # the keyvault example's shape
URI_REF = "https://kv-demo.vault.azure.net/secrets/db-password/0123456789abcdef0123456789abcdef"


@pytest.mark.parametrize(
    ("value", "name"),
    [
        (VAULT_REF, "multiplier"),
        (URI_REF, "db-password"),
        ("https://kv-demo.vault.azure.net/secrets/db-password", "db-password"),
        ("${{azureml://connections/my-conn/credentials/key}}", "my-conn-key"),
        ("plain value", None),
        ("someone@example.com", None),
    ],
)
def test_secret_name(value: str, name: str | None) -> None:
    assert secret_name(value) == name


def _deployment(tmp_path: Path, variables: dict[str, str]) -> Any:
    code = tmp_path / "code"
    code.mkdir(exist_ok=True)
    (code / "score.py").write_text("def init(): pass\n")
    return SimpleNamespace(
        name="kvdep",
        endpoint_name="ep",
        base_path=str(tmp_path),
        code_configuration=SimpleNamespace(code="code", scoring_script="score.py"),
        model=None,
        environment_variables=variables,
    )


@pytest.mark.parametrize(
    ("environ", "file_text", "expected"),
    [
        ({"MLOPS_SECRET_MULTIPLIER": "7"}, None, "7"),  # the process environment
        ({}, "# local only\nmultiplier=7\n", "7"),  # the secrets file, as Key Vault names it
        ({}, 'export MULTIPLIER="7"\n', "7"),  # dotenv spelling
        ({"MLOPS_SECRET_MULTIPLIER": "8"}, "multiplier=7\n", "8"),  # the environment wins
    ],
)
def test_reference_resolved_from_environment_or_file(
    tmp_path: Path, environ: dict[str, str], file_text: str | None, expected: str
) -> None:
    file = tmp_path / "secrets.env"
    if file_text is not None:
        file.write_text(file_text)
    secrets = LocalSecrets(file, environ)
    spec = deployment_spec(
        _deployment(tmp_path, {"KV_SECRET_MULTIPLIER": VAULT_REF, "MODE": "x"}), None, secrets
    )
    # The spec (stored in the state database) keeps the reference; the process gets the value.
    assert spec.environment_variables == {"KV_SECRET_MULTIPLIER": VAULT_REF, "MODE": "x"}
    resolved = secrets.resolve("deployment ep/kvdep", spec.environment_variables)
    assert resolved == {"KV_SECRET_MULTIPLIER": expected, "MODE": "x"}


def test_unresolvable_reference_fails_naming_the_variable_and_where(tmp_path: Path) -> None:
    file = tmp_path / "secrets.env"
    file.write_text("other=s3cr3t-value\n")
    with pytest.raises(LocalTargetError) as err:
        deployment_spec(
            _deployment(tmp_path, {"KV_SECRET_MULTIPLIER": VAULT_REF}), None, LocalSecrets(file, {})
        )
    message = str(err.value)
    assert message.startswith(
        "deployment ep/kvdep: environment variable KV_SECRET_MULTIPLIER is a secret reference"
    )
    assert "set MLOPS_SECRET_MULTIPLIER in the environment, or add `multiplier=<value>` to" in message
    assert "s3cr3t" not in message


def test_without_secrets_the_spec_is_as_written(tmp_path: Path) -> None:
    spec = deployment_spec(_deployment(tmp_path, {"KV_SECRET_MULTIPLIER": VAULT_REF}), None)
    assert spec.environment_variables == {"KV_SECRET_MULTIPLIER": VAULT_REF}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("multiplier 7\n", "secrets.env:1: expected NAME=value"),
        ("multiplier=s3cr3t\nMULTIPLIER=other\n", "secrets.env:2: MULTIPLIER is also set on line 1"),
    ],
)
def test_bad_secrets_file_names_the_line_never_the_value(tmp_path: Path, text: str, message: str) -> None:
    file = tmp_path / "secrets.env"
    file.write_text(text)
    with pytest.raises(LocalTargetError) as err:
        read_secrets_file(file)
    assert str(err.value).endswith(message)
    assert "s3cr3t" not in str(err.value)
