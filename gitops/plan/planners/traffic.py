"""The endpoint's live and mirror traffic: set them as git declares (``set_traffic`` /
``set_mirror``), as a progressive ``rollout`` when the endpoint has a strategy, or not at all
when the same rollout was rolled back (diverged). Runs after the endpoint's deployments are
healthy (phase 3)."""

from __future__ import annotations

from gitops.model.vocab import ActionKind, Reason
from gitops.plan.pairing import EndpointPair
from gitops.plan.planners import PlanContext
from gitops.plan.rollout import RolloutDiverged, plan_rollout
from gitops.plan.types import Action, Decisions, FieldDiff


def plan_traffic(pair: EndpointPair, ctx: PlanContext) -> Decisions:
    want, have = pair.want_traffic, pair.have_traffic
    if want == have:
        return Decisions()
    diff = []
    if want.live != have.live:
        diff.append(FieldDiff("traffic", have.live, want.live))
    if want.mirror != have.mirror:
        diff.append(FieldDiff("mirror_traffic", have.mirror, want.mirror))
    address, name = str(pair.address), pair.name
    if want.live == have.live:
        return Decisions(
            actions=[_set(ActionKind.SET_MIRROR, address, diff, name)],
        )
    decision = plan_rollout(pair, ctx.retry_rollout, ctx.now)
    if isinstance(decision, RolloutDiverged):
        return Decisions(diverged=[decision.reason])
    if decision is None:
        return Decisions(actions=[_set(ActionKind.SET_TRAFFIC, address, diff, name)])
    action = Action(
        ActionKind.ROLLOUT,
        address,
        decision.reason,
        diff,
        endpoint=name,
        name=name,
        rollout=decision.plan.to_dict(),
        reason_code=decision.reason_code,
    )
    return Decisions(actions=[action])


def _set(kind: ActionKind, address: str, diff: list[FieldDiff], name: str) -> Action:
    return Action(
        kind,
        address,
        "traffic differs from git",
        diff,
        endpoint=name,
        name=name,
        reason_code=Reason.TRAFFIC_DIFFERS,
    )
