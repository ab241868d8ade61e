"""``require_pinned_versions``: every model, environment and code reference names an exact version,
so that the same commit always deploys the same bits (``@latest``, ``:latest`` or a bare name
float). The rule lives in :mod:`gitops.model.policy_rules`, shared with the checkov check
CKV_MLP_105; whether an environment requires it is decided with its manifest
(:func:`gitops.model.policy_rules.pinning_required`).
"""

from __future__ import annotations

from gitops.errors import Diagnostic
from gitops.model import policy_rules
from gitops.yamlmarks import YamlDoc


def pinned_versions(doc: YamlDoc) -> list[Diagnostic]:
    """The deployment's model, environment and (registered) code are pinned."""
    return [doc.diag(f.message, *f.keys) for f in policy_rules.unpinned_versions(doc.data)]
