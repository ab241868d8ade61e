"""The endpoint's live and mirror traffic: set them as git declares (``set_traffic`` /
``set_mirror``), as a progressive ``rollout`` when the endpoint has a strategy, or not at all
when the same rollout was rolled back (diverged). Runs after the endpoint's deployments are
healthy (phase 3).

A map endpoint.yml does not declare is not managed (:func:`gitops.model.traffic.wanted`): the plan
leaves it as it is and says so, and warns about an endpoint that would serve nothing."""

from __future__ import annotations

from gitops.model.traffic import Traffic
from gitops.model.vocab import ActionKind, Reason
from gitops.plan.pairing import EndpointPair
from gitops.plan.planners import PlanContext
from gitops.plan.rollout import RolloutDiverged, plan_rollout
from gitops.plan.types import Action, Decisions, FieldDiff


def unmanaged_notes(pair: EndpointPair) -> list[str]:
    """What the plan says about maps git leaves alone."""
    ep, have = pair.desired, pair.have_traffic
    notes = []
    if ep.traffic is None and have.live:
        notes.append(f"{pair.address}: traffic not declared in git; left as it is ({have.live})")
    if ep.mirror_traffic is None and have.mirror:
        notes.append(f"{pair.address}: mirror_traffic not declared in git; left as it is ({have.mirror})")
    if ep.traffic is None and not have.live and ep.deployments:
        first = next(iter(ep.deployments))
        notes.append(
            f"warning: {pair.address} will serve nothing: {ep.doc.file} declares no traffic and none is "
            f"live, so its deployments ({', '.join(ep.deployments)}) get 0%; add e.g. "
            f"`traffic: {{{first}: 100}}` to it, or set it with `az ml online-endpoint update --traffic`"
        )
    return notes


def plan_traffic(pair: EndpointPair, ctx: PlanContext) -> Decisions:
    want, have = pair.want_traffic, pair.have_traffic
    notes = unmanaged_notes(pair)
    if want == have:
        return Decisions(notes=notes)
    out = _plan_change(pair, ctx, want, have)
    out.notes = notes + out.notes
    return out


def _plan_change(pair: EndpointPair, ctx: PlanContext, want: Traffic, have: Traffic) -> Decisions:
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
