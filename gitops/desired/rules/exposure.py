"""Production endpoints are private and token-authenticated, and their deployments have no
internet egress. Azure accepts either setting, so nothing but this rule (shared with the checkov
checks CKV_MLP_101 and CKV_MLP_102 through :mod:`gitops.model.policy_rules`) stops a public prod
endpoint before it is live."""

from __future__ import annotations

from gitops.errors import Diagnostic
from gitops.manifest import Manifest
from gitops.model import policy_rules
from gitops.yamlmarks import YamlDoc


def private_endpoint(doc: YamlDoc, manifest: Manifest) -> list[Diagnostic]:
    if not policy_rules.is_production(manifest.env):
        return []
    return [doc.diag(f.message, *f.keys) for f in policy_rules.endpoint_exposure(doc.data)]


def private_deployment(doc: YamlDoc, manifest: Manifest) -> list[Diagnostic]:
    if not policy_rules.is_production(manifest.env):
        return []
    return [doc.diag(f.message, *f.keys) for f in policy_rules.deployment_exposure(doc.data)]
