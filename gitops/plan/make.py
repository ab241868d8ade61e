"""``make_plan``: pair desired with actual state, run each planner, order the actions.

This is the composition only; every rule lives in one planner (:mod:`gitops.plan.planners`).
"""

from __future__ import annotations

import hashlib
import json
import time
from typing import TYPE_CHECKING

from gitops.model.tags import ownership_tags as _ownership_tags
from gitops.model.vocab import ActionKind
from gitops.plan.fingerprint import fingerprint
from gitops.plan.pairing import pair
from gitops.plan.planners import PlanContext
from gitops.plan.planners.assets import plan_assets
from gitops.plan.planners.capabilities import plan_capabilities
from gitops.plan.planners.deployments import plan_deployments
from gitops.plan.planners.endpoint import plan_endpoint
from gitops.plan.planners.monitors import plan_monitors
from gitops.plan.planners.prune import prune_deployments, prune_endpoints, prune_monitors
from gitops.plan.planners.traffic import plan_traffic
from gitops.plan.types import Decisions, Plan
from gitops.targets.base import ActualState

if TYPE_CHECKING:
    from gitops.desired import DesiredState


def ownership_tags(desired: DesiredState) -> dict[str, str]:
    """The tags every resource of this environment is created with."""
    return _ownership_tags(desired.env, desired.manifest.tags)


def make_plan(
    desired: DesiredState,
    actual: ActualState,
    target_kind: str,
    capabilities: frozenset[str],
    *,
    allow_empty: bool = False,
    retry_rollout: bool = False,
    now: float | None = None,
) -> Plan:
    ctx = PlanContext(
        env=desired.env,
        target_kind=target_kind,
        capabilities=capabilities,
        owner_tags=ownership_tags(desired),
        prune=desired.manifest.prune,
        allow_empty=allow_empty,
        retry_rollout=retry_rollout,
        now=time.time() if now is None else now,
    )
    pairing = pair(desired, actual)
    out = plan_capabilities(pairing, ctx)
    # Assets first: deployments may reference them (the executor runs them as a pre-phase).
    out.extend(plan_assets(desired.assets, actual.assets, ctx))
    for ep in pairing.endpoints:
        # Within an endpoint: its own settings, its deployments, leftovers, then traffic.
        for planner in (plan_endpoint, plan_deployments, prune_deployments, plan_traffic):
            out.extend(planner(ep, ctx))
    out.extend(prune_endpoints(pairing, ctx))
    out.extend(plan_monitors(pairing, ctx))
    deleted = {a.name for a in out.actions if a.kind is ActionKind.DELETE_ENDPOINT and a.name}
    out.extend(prune_monitors(pairing, ctx, deleted))
    return _plan(ctx, out, _with_assets(fingerprint(pairing, ctx.owner_tags), desired, actual))


def _with_assets(fp: str, desired: DesiredState, actual: ActualState) -> str:
    """A saved plan goes stale when an asset's files or its registration change too. Without
    assets the fingerprint stays what it was, so existing plan files keep matching."""
    if not desired.assets and not actual.assets:
        return fp
    sides = {
        "fp": fp,
        "desired": {k: a.content_hash for k, a in sorted(desired.assets.items())},
        "actual": {k: a.content_hash for k, a in sorted(actual.assets.items())},
    }
    return hashlib.sha256(json.dumps(sides, sort_keys=True).encode()).hexdigest()[: len(fp)]


def _plan(ctx: PlanContext, decided: Decisions, fp: str) -> Plan:
    actions = sorted(decided.actions, key=lambda a: (a.phase, a.endpoint or "", a.resource))
    return Plan(
        env=ctx.env,
        target=ctx.target_kind,
        actions=actions,
        fingerprint=fp,
        blocked=decided.blocked,
        notes=decided.notes,
        diverged=decided.diverged,
    )
