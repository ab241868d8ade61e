"""What the target has and git no longer declares. Only what this environment created (its
ownership tags, :func:`gitops.model.tags.is_owned`) is ever deleted, and only with
``prune: true``; anything else is left alone, with a note where a reader might expect a
deletion. A plan that would delete every endpoint of the environment is refused unless
``--allow-empty`` (an emptied or mis-pointed checkout must not wipe production)."""

from __future__ import annotations

from collections.abc import Collection

from gitops.model.address import ResourceAddress
from gitops.model.vocab import ActionKind, Reason
from gitops.plan.pairing import EndpointPair, Pairing
from gitops.plan.planners import PlanContext
from gitops.plan.types import Action, Decisions

PRUNED = "managed by mlops and removed from git (prune)"
PRUNE_OFF = "is not in git; kept because prune is off in environment.yaml"


def _delete(kind: ActionKind, address: ResourceAddress, endpoint: str | None, name: str) -> Action:
    return Action(kind, str(address), PRUNED, [], endpoint=endpoint, name=name, reason_code=Reason.PRUNED)


def prune_deployments(pair: EndpointPair, ctx: PlanContext) -> Decisions:
    out = Decisions()
    want = pair.want_traffic
    for live in pair.live_only_deployments:
        address = ResourceAddress.deployment(pair.name, live.actual.name)
        share = want.share(live.actual.name)
        if live.owned and ctx.prune and share:
            # Only possible when endpoint.yml leaves traffic unmanaged: nothing would move the
            # share off it first, and Azure refuses to delete a deployment that serves traffic.
            out.blocked.append(
                f"{address} is no longer in git but serves {share}% of traffic, and "
                f"{pair.desired.doc.file} does not declare `traffic`, so nothing moves it off first; "
                "declare `traffic` routing to the deployments that stay, or restore its file"
            )
        elif not live.owned:
            out.notes.append(f"{address} is not in git and not managed by mlops for {ctx.env!r}; left alone")
        elif not ctx.prune:
            out.notes.append(f"{address} {PRUNE_OFF}")
        else:
            out.actions.append(_delete(ActionKind.DELETE_DEPLOYMENT, address, pair.name, live.actual.name))
    return out


def prune_endpoints(pairing: Pairing, ctx: PlanContext) -> Decisions:
    # Endpoints not owned by this environment are not even mentioned: other environments and
    # hand-made endpoints share the workspace.
    owned = [x.actual for x in pairing.live_only_endpoints if x.owned]
    if not ctx.prune:
        return Decisions(notes=[f"{ResourceAddress.endpoint_(e.name)} {PRUNE_OFF}" for e in owned])
    if owned and len(owned) == pairing.owned_live_endpoints and not ctx.allow_empty:
        names = ", ".join(e.name for e in owned)
        return Decisions(
            blocked=[
                f"this plan would delete every endpoint of environment {ctx.env!r} ({names}); "
                "if that is intended, re-run with --allow-empty"
            ]
        )
    return Decisions(
        actions=[
            _delete(ActionKind.DELETE_ENDPOINT, ResourceAddress.endpoint_(e.name), e.name, e.name)
            for e in owned
        ]
    )


def prune_monitors(pairing: Pairing, ctx: PlanContext, deleted_endpoints: Collection[str]) -> Decisions:
    """``deleted_endpoints``: endpoints this plan deletes; a monitor of one is deleted in that
    endpoint's sequence (before it), others on their own."""
    declared = {p.name for p in pairing.endpoints}
    out = Decisions()
    for live in pairing.live_only_monitors:
        if not live.owned:
            continue
        mon = live.actual
        address = ResourceAddress.monitor(mon.name)
        if not ctx.prune:
            out.notes.append(f"{address} {PRUNE_OFF}")
            continue
        group = (
            mon.endpoint_name
            if mon.endpoint_name in declared or mon.endpoint_name in deleted_endpoints
            else None
        )
        out.actions.append(_delete(ActionKind.DELETE_MONITOR, address, group, mon.name))
    return out
