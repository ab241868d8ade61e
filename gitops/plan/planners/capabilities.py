"""Refuse desired state the target cannot hold (a local target has no model monitors, for
instance) before anything is changed, naming the file to edit; note what it holds differently.

Each check reads the deployment entity as azure-ai-ml loaded it and the target's CAP_* names;
whether something blocks or is a note is decided here once: it blocks when apply would fail or
serve something other than what Azure would serve, it is a note when it runs, only differently.
"""

from __future__ import annotations

import re
from typing import Any

from gitops.plan.pairing import DeploymentPair, Pairing
from gitops.plan.planners import PlanContext
from gitops.plan.types import Decisions
from gitops.targets.base import (
    CAP_CUSTOM_CONTAINER,
    CAP_GENERATED_SCORING,
    CAP_GPU,
    CAP_MIRROR_TRAFFIC,
    CAP_MONITORS,
)

# Azure's GPU VM families are the N-series NC, ND, NG and NV (https://learn.microsoft.com/azure/virtual-machines/sizes/overview,
# "GPU accelerated"); managed online endpoint SKUs are named Standard_<family><size>...
_GPU_SKU = re.compile(r"^standard_n[cdgv]", re.IGNORECASE)


def _no_code_mlflow(entity: Any) -> bool:
    # A no-code deployment gives an mlflow_model and no code_configuration; Azure then builds the
    # scoring server from the MLmodel file (learn.microsoft.com/azure/machine-learning/how-to-deploy-mlflow-models-online-endpoints).
    model = getattr(entity, "model", None)
    kind = str(getattr(model, "type", "") or "").lower()
    return kind == "mlflow_model" and getattr(entity, "code_configuration", None) is None


def _custom_container(entity: Any) -> bool:
    # An environment with inference_config is a custom container: its own server answers the
    # liveness, readiness and scoring routes, not the Azure ML inference server.
    return getattr(getattr(entity, "environment", None), "inference_config", None) is not None


def _deployment_findings(p: DeploymentPair, ctx: PlanContext) -> Decisions:
    out = Decisions()
    entity = p.desired.entity
    where = f"{p.desired.doc.file}: deployment {p.endpoint}/{p.desired.name}"
    target = f"target {ctx.target_kind}"
    if CAP_GENERATED_SCORING not in ctx.capabilities and _no_code_mlflow(entity):
        out.blocked.append(
            f"{where}: {target} cannot run a no-code MLflow deployment (Azure builds its scoring "
            "server; here the inference server needs code_configuration with a scoring script)"
        )
    if CAP_CUSTOM_CONTAINER not in ctx.capabilities and _custom_container(entity):
        out.blocked.append(
            f"{where}: {target} cannot run a custom container (environment.inference_config: the "
            "image's own server would serve it on Azure; here the scoring script runs in the "
            "Azure ML inference server without containers)"
        )
    instance_type = str(getattr(entity, "instance_type", "") or "")
    if CAP_GPU not in ctx.capabilities and _GPU_SKU.match(instance_type):
        out.notes.append(
            f"{where}: instance_type {instance_type} is a GPU size; {target} runs it on this "
            "machine's CPU (a model that needs CUDA fails at start-up)"
        )
    return out


def plan_capabilities(pairing: Pairing, ctx: PlanContext) -> Decisions:
    out = Decisions()
    if pairing.monitors and CAP_MONITORS not in ctx.capabilities:
        out.blocked.append(
            f"target {ctx.target_kind} does not support monitors; remove environments/{ctx.env}/monitors/"
        )
    if CAP_MIRROR_TRAFFIC not in ctx.capabilities:
        out.blocked += [
            f"{p.desired.doc.file}: target {ctx.target_kind} does not support mirror_traffic"
            for p in pairing.endpoints
            if any((p.desired.mirror_traffic or {}).values())
        ]
    for ep in pairing.endpoints:
        for dp in ep.deployments:
            out.extend(_deployment_findings(dp, ctx))
    return out
