"""Model monitors git declares: create them, update them when they differ from git (a signal
field, or the spec hash that covers what the service rewrites), and enable them when someone
disabled them in the target."""

from __future__ import annotations

from gitops.diff.normalize import diff_views, monitor_view
from gitops.model.tags import TAG_SPEC_HASH
from gitops.model.vocab import ActionKind, Reason
from gitops.plan.comparable import desired_monitor_view, field_diffs
from gitops.plan.pairing import MonitorPair, Pairing
from gitops.plan.planners import PlanContext
from gitops.plan.types import Action, Decisions, FieldDiff


def plan_monitors(pairing: Pairing, ctx: PlanContext) -> Decisions:
    out = Decisions()
    for pair in pairing.monitors:
        action = plan_monitor(pair, ctx)
        if action is not None:
            out.actions.append(action)
    return out


def plan_monitor(pair: MonitorPair, ctx: PlanContext) -> Action | None:
    want = desired_monitor_view(pair.desired, ctx.owner_tags)
    if pair.actual is None:
        diff = field_diffs(diff_views(want, {}))
        return _action(pair, ActionKind.CREATE_MONITOR, Reason.MISSING, diff)
    changes = diff_views(want, monitor_view(pair.actual.entity))
    live_hash = pair.actual.tags.get(TAG_SPEC_HASH)
    if live_hash != pair.desired.spec_hash and not changes:
        changes = [("spec", live_hash, pair.desired.spec_hash)]
    if changes:
        return _action(pair, ActionKind.UPDATE_MONITOR, Reason.DIFFERS, field_diffs(changes))
    if not pair.actual.enabled:
        return _action(pair, ActionKind.ENABLE_MONITOR, Reason.DISABLED, [FieldDiff("enabled", False, True)])
    return None


_REASONS = {
    Reason.MISSING: "declared in git, missing in target",
    Reason.DIFFERS: "differs from git",
    Reason.DISABLED: "monitor is disabled in the target",
}


def _action(pair: MonitorPair, kind: ActionKind, code: Reason, diff: list[FieldDiff]) -> Action:
    return Action(
        kind,
        str(pair.address),
        _REASONS[code],
        diff,
        endpoint=pair.desired.endpoint_name,
        name=pair.name,
        reason_code=code,
    )
