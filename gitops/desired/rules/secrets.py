"""Secrets committed to git: environment variables whose value is a credential, or whose name says
secret and that carry a literal value (not a Key Vault reference).

A deployment should read them at runtime with its managed identity; a value in git is readable by
everyone with the repository and lands in Azure's deployment record in clear text. What counts as
a secret is decided in :mod:`gitops.model.policy_rules`, shared with the checkov check CKV_MLP_106.
"""

from __future__ import annotations

from gitops.errors import Diagnostic
from gitops.model import policy_rules
from gitops.yamlmarks import YamlDoc


def committed_secrets(doc: YamlDoc) -> list[Diagnostic]:
    return [doc.diag(f.message, *f.keys) for f in policy_rules.committed_secrets(doc.data)]
