"""A monitor must watch a deployment declared in the same environment, and that deployment must
collect the inputs and outputs the monitor reads; otherwise it fails on its first run, days later."""

from __future__ import annotations

import re
from typing import Any

from gitops.desired.types import DesiredDeployment, DesiredState
from gitops.errors import Diagnostic
from gitops.yamlmarks import YamlDoc

_REF = re.compile(r"^azureml:([^:/]+):([^:/]+)$")
_TARGET_KEYS = ("create_monitor", "monitoring_target", "endpoint_deployment_id")
_COLLECTIONS = ("model_inputs", "model_outputs")


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
    collector = dep.doc.data.get("data_collector")
    collections = collector.get("collections") if isinstance(collector, dict) else None
    collections = collections if isinstance(collections, dict) else {}
    return [
        c
        for c in _COLLECTIONS
        if not isinstance(collections.get(c), dict)
        or str(collections[c].get("enabled", "")).lower() != "true"
    ]


def _target_diagnostics(doc: YamlDoc, ep_name: str, dep_name: str, state: DesiredState) -> list[Diagnostic]:
    ep = state.endpoints.get(ep_name)
    if ep is None:
        return [
            doc.diag(
                f"monitor targets endpoint {ep_name!r}, which is not declared in this environment",
                *_TARGET_KEYS,
            )
        ]
    dep = ep.deployments.get(dep_name)
    if dep is None:
        return [
            doc.diag(
                f"monitor targets deployment {dep_name!r}, which is not declared under endpoint {ep_name!r}",
                *_TARGET_KEYS,
            )
        ]
    missing = missing_collections(dep)
    if missing:
        return [
            doc.diag(
                f"monitor needs deployment {ep_name}/{dep_name} to collect {' and '.join(missing)}; add "
                f"data_collector.collections.<name>.enabled: 'true' in {dep.doc.file}",
                *_TARGET_KEYS,
            )
        ]
    return []


def monitor_target(
    doc: YamlDoc, mon: Any, state: DesiredState
) -> tuple[str | None, str | None, list[Diagnostic]]:
    """The endpoint and deployment the monitor watches (None when it names none, or not as
    ``azureml:<endpoint>:<deployment>``) and what is wrong with that target."""
    ref = monitor_target_ref(mon)
    if ref is None:
        return None, None, []
    m = _REF.match(ref)
    if not m:
        return (
            None,
            None,
            [
                doc.diag(
                    f"endpoint_deployment_id {ref!r} must be azureml:<endpoint>:<deployment> "
                    "of a declared deployment",
                    *_TARGET_KEYS,
                )
            ],
        )
    ep_name, dep_name = m.group(1), m.group(2)
    return ep_name, dep_name, _target_diagnostics(doc, ep_name, dep_name, state)
