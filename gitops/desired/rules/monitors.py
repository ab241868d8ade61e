"""A monitor must watch a deployment declared in the same environment, and that deployment must
collect the inputs and outputs the monitor reads; otherwise it fails on its first run, days later.
The rule lives in :mod:`gitops.model.policy_rules`, shared with the checkov check CKV_MLP_107."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gitops.desired.types import DesiredDeployment, DesiredState
from gitops.errors import Diagnostic
from gitops.model import policy_rules
from gitops.yamlmarks import YamlDoc


def is_monitor_schedule(doc: YamlDoc) -> list[Diagnostic]:
    if "create_monitor" not in doc.data:
        return [
            doc.diag("a monitor file must be a schedule with `create_monitor:` (Azure ML model monitor YAML)")
        ]
    return []


def monitor_target_ref(mon: Any) -> str | None:
    target = getattr(getattr(mon, "create_monitor", None), "monitoring_target", None)
    ref = getattr(target, "endpoint_deployment_id", None)
    return str(ref) if ref else None


def missing_collections(dep: DesiredDeployment) -> list[str]:
    return policy_rules.missing_collections(dep.doc.data)


def _declared(state: DesiredState) -> policy_rules.DeploymentsOf:
    def deployments_of(endpoint: str) -> Mapping[str, policy_rules.DeclaredDeployment] | None:
        ep = state.endpoints.get(endpoint)
        if ep is None:
            return None
        return {
            name: policy_rules.DeclaredDeployment(dep.doc.data, dep.doc.file)
            for name, dep in ep.deployments.items()
        }

    return deployments_of


def monitor_target(
    doc: YamlDoc, mon: Any, state: DesiredState
) -> tuple[str | None, str | None, list[Diagnostic]]:
    """The endpoint and deployment the monitor watches (None when it names none, or not as
    ``azureml:<endpoint>:<deployment>``) and what is wrong with that target."""
    target, findings = policy_rules.monitor_target(monitor_target_ref(mon), _declared(state))
    diags = [doc.diag(f.message, *f.keys) for f in findings]
    return (target[0], target[1], diags) if target else (None, None, diags)
