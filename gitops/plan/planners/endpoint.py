"""The endpoint itself (auth, description, network access, identity, tags): create it, update
it when it differs from git (adopting it when it is not yet tagged as ours), or re-apply it when
the service left it Failed. Traffic is planned separately (:mod:`.traffic`)."""

from __future__ import annotations

from gitops.diff.normalize import diff_views, endpoint_view
from gitops.model.tags import is_owned
from gitops.model.vocab import ActionKind, Health, Reason
from gitops.plan.comparable import desired_endpoint_view, field_diffs
from gitops.plan.pairing import EndpointPair
from gitops.plan.planners import PlanContext
from gitops.plan.types import Action, Decisions

_REASONS = {
    Reason.MISSING: "declared in git, missing in target",
    Reason.DIFFERS: "differs from git",
    Reason.ADOPTING: "differs from git (adopting: not yet tagged as managed)",
    Reason.FAILED_STATE: "endpoint is in Failed state; re-applying",
}


def plan_endpoint(pair: EndpointPair, ctx: PlanContext) -> Decisions:
    want = desired_endpoint_view(pair.desired, ctx.owner_tags)
    if pair.actual is None:
        return _action(pair, ActionKind.CREATE_ENDPOINT, Reason.MISSING, diff_views(want, {}))
    changes = diff_views(want, endpoint_view(pair.actual.entity))
    if changes:
        code = Reason.DIFFERS if is_owned(pair.actual.tags, ctx.env) else Reason.ADOPTING
        return _action(pair, ActionKind.UPDATE_ENDPOINT, code, changes)
    if pair.actual.health is Health.FAILED:
        return _action(pair, ActionKind.UPDATE_ENDPOINT, Reason.FAILED_STATE, [])
    return Decisions()


def _action(
    pair: EndpointPair, kind: ActionKind, code: Reason, changes: list[tuple[str, object, object]]
) -> Decisions:
    action = Action(
        kind,
        str(pair.address),
        _REASONS[code],
        field_diffs(changes),
        endpoint=pair.name,
        name=pair.name,
        reason_code=code,
    )
    return Decisions(actions=[action])
