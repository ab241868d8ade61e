"""Secrets committed to git: environment variables whose name says secret and that carry a value.

A deployment should read them at runtime with its managed identity; a value in git is readable by
everyone with the repository and lands in Azure's deployment record in clear text.
"""

from __future__ import annotations

import re

from gitops.errors import Diagnostic
from gitops.yamlmarks import YamlDoc

_SECRET_NAME = re.compile(
    r"SECRET|PASSWORD|PASSWD|TOKEN|CONNECTION_?STRING|API_?KEY|ACCESS_?KEY|ACCOUNT_?KEY|(^|_)SAS($|_)", re.I
)


def committed_secrets(doc: YamlDoc) -> list[Diagnostic]:
    env = doc.data.get("environment_variables")
    if not isinstance(env, dict):
        return []
    return [
        doc.diag(
            f"environment variable {name} looks like a secret committed to git; read it at runtime with the "
            "deployment's managed identity (e.g. from Key Vault) instead",
            "environment_variables",
            name,
        )
        for name, value in env.items()
        if _SECRET_NAME.search(str(name)) and value not in (None, "")
    ]
