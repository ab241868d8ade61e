"""One small function per action kind: how a planned action becomes calls on the target.

The executor decides *whether* an action runs (phase order, isolation of a failed endpoint,
healthy traffic targets); a handler only performs it. Each handler takes the shared
:class:`SyncContext` and the action, raises on failure, and returns a message for the result
('' when there is nothing to add). :data:`HANDLERS` is the one dispatch table.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from typing import Any

from gitops.errors import GitopsError
from gitops.model.tags import is_rollout_tag
from gitops.model.traffic import wanted
from gitops.model.vocab import ActionKind
from gitops.plan import Action
from gitops.rollout.providers import MetricsProvider
from gitops.rollout.runner import RolloutRunner, RunSettings
from gitops.rollout.spec import RolloutPlan
from gitops.sync.context import SyncContext
from gitops.targets.base import TargetHandle

Handler = Callable[[SyncContext, Action], str]


def apply_endpoint(ctx: SyncContext, action: Action) -> str:
    """Create or update the endpoint with the traffic it has now: traffic moves only in the
    traffic phase, after new deployments are healthy."""
    want = ctx.endpoint(action.name)
    entity = copy.deepcopy(want.entity)
    entity.tags = ctx.tags(want.entity.tags)
    have = ctx.actual.endpoints.get(want.name)
    entity.traffic = dict(have.traffic) if have else {}
    entity.mirror_traffic = dict(have.mirror_traffic) if have else {}
    if have:
        # The rollout progress record lives in these tags (azureml); an endpoint update keeps it.
        entity.tags.update({k: v for k, v in have.tags.items() if is_rollout_tag(k)})
    ctx.target.create_or_update_endpoint(entity)
    return ""


def _deployment_entity(ctx: SyncContext, action: Action) -> Any:
    want = ctx.endpoint(action.endpoint).deployments[action.name or ""]
    entity = copy.deepcopy(want.entity)
    entity.tags = ctx.tags(want.entity.tags, want.spec_hash)
    return entity


def apply_deployment(ctx: SyncContext, action: Action) -> str:
    """Create or update at the traffic it has, and wait until healthy (the target raises if not)."""
    entity = _deployment_entity(ctx, action)
    ctx.target.create_or_update_deployment(entity, ctx.settings.deployment_timeout_minutes * 60.0)
    return ""


def replace_deployment(ctx: SyncContext, action: Action) -> str:
    """A field Azure cannot change in place: delete, then create (planned only at 0 % traffic)."""
    ep = ctx.endpoint(action.endpoint)
    entity = _deployment_entity(ctx, action)
    ctx.target.delete_deployment(ep.name, ep.deployments[action.name or ""].name)
    ctx.target.create_or_update_deployment(entity, ctx.settings.deployment_timeout_minutes * 60.0)
    return ""


def set_traffic(ctx: SyncContext, action: Action) -> str:
    """Live and mirror maps are one call: the service validates them together."""
    ep = ctx.endpoint(action.name)
    have = ctx.actual.endpoints.get(ep.name)
    # A map git does not declare is sent back as the endpoint has it (not managed).
    traffic = wanted(ep.traffic, have.traffic if have else None)
    mirror = wanted(ep.mirror_traffic, have.mirror_traffic if have else None)
    ctx.target.set_traffic(ep.name, traffic, mirror)
    return ""


def _metrics_provider(handle: TargetHandle, plan: RolloutPlan, skip_analysis: bool) -> MetricsProvider | None:
    if skip_analysis or not any(s.analysed and s.duration_s > 0 for s in plan.steps):
        return None
    return handle.require_metrics().metrics_provider(plan.analysis.provider)


def run_rollout(ctx: SyncContext, action: Action) -> str:
    """Smoke test, canary steps with gates, final traffic, or rollback (gitops.rollout.runner)."""
    if action.rollout is None:
        raise GitopsError(f"rollout action for {action.resource} carries no steps; re-run `mlops plan`")
    plan = RolloutPlan.from_dict(action.rollout)
    opts = ctx.options
    handle = TargetHandle.of(ctx.target)
    runner = RolloutRunner(
        handle.require_rollouts(),
        action.name or "",
        plan,
        _metrics_provider(handle, plan, opts.skip_analysis),
        RunSettings(revision=opts.revision, out=opts.log, skip_analysis=opts.skip_analysis),
        sleep=opts.sleep,
        clock=opts.clock,
    )
    return runner.run()


def apply_monitor(ctx: SyncContext, action: Action) -> str:
    mon = ctx.desired.monitors[action.name or ""]
    entity = copy.deepcopy(mon.entity)
    entity.tags = ctx.tags(mon.entity.tags, mon.spec_hash)
    ctx.target.create_or_update_monitor(entity)
    return ""


def register_asset(ctx: SyncContext, action: Action) -> str:
    """Register the model or environment with its content hash in its tags: the next plan compares it."""
    asset = ctx.desired.assets[action.name or ""]
    entity = copy.copy(asset.entity)
    entity.tags = ctx.tags(asset.entity.tags, asset.content_hash)
    entity.version = asset.version
    TargetHandle.of(ctx.target).require_assets().register_asset(asset.kind, entity)
    return ""


def delete_monitor(ctx: SyncContext, action: Action) -> str:
    ctx.target.delete_monitor(action.name or "")
    return ""


def delete_deployment(ctx: SyncContext, action: Action) -> str:
    ctx.target.delete_deployment(action.endpoint or "", action.name or "")
    return ""


def delete_endpoint(ctx: SyncContext, action: Action) -> str:
    ctx.target.delete_endpoint(action.name or "")
    return ""


HANDLERS: Mapping[ActionKind, Handler] = {
    ActionKind.REGISTER_MODEL: register_asset,
    ActionKind.REGISTER_ENVIRONMENT: register_asset,
    ActionKind.CREATE_ENDPOINT: apply_endpoint,
    ActionKind.UPDATE_ENDPOINT: apply_endpoint,
    ActionKind.CREATE_DEPLOYMENT: apply_deployment,
    ActionKind.UPDATE_DEPLOYMENT: apply_deployment,
    ActionKind.REPLACE_DEPLOYMENT: replace_deployment,
    ActionKind.SET_TRAFFIC: set_traffic,
    ActionKind.SET_MIRROR: set_traffic,
    ActionKind.ROLLOUT: run_rollout,
    ActionKind.CREATE_MONITOR: apply_monitor,
    ActionKind.UPDATE_MONITOR: apply_monitor,
    ActionKind.ENABLE_MONITOR: apply_monitor,
    ActionKind.DELETE_MONITOR: delete_monitor,
    ActionKind.DELETE_DEPLOYMENT: delete_deployment,
    ActionKind.DELETE_ENDPOINT: delete_endpoint,
}


def handler_for(kind: str) -> Handler:
    try:
        return HANDLERS[ActionKind(kind)]
    except (KeyError, ValueError):
        raise NotImplementedError(f"action kind {kind!r} is not implemented") from None
