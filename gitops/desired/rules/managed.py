"""Only managed online endpoints and deployments are reconciled (no Kubernetes compute): the
planner and both targets know only their fields and limits."""

from __future__ import annotations

from gitops.errors import Diagnostic
from gitops.yamlmarks import YamlDoc


def managed_endpoint(doc: YamlDoc) -> list[Diagnostic]:
    if doc.data.get("compute") or doc.data.get("kind") == "kubernetes":
        return [doc.diag("only managed online endpoints are supported; remove `compute`", "compute")]
    return []


def managed_deployment(doc: YamlDoc) -> list[Diagnostic]:
    if doc.data.get("type", "managed") != "managed":
        return [
            doc.diag(
                "only managed online deployments are supported; remove `type` or set `type: managed`", "type"
            )
        ]
    return []
