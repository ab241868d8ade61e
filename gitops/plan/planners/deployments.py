"""The deployments git declares for one endpoint: create them (at 0 % traffic), update them when
they differ from git or their spec hash changed (local files they upload), re-apply them when
they are not Succeeded, and replace them when a field Azure cannot change in place differs --
which is refused while the deployment serves, or would serve, traffic."""

from __future__ import annotations

from typing import Any

from gitops.diff.normalize import deployment_view, diff_views
from gitops.model.tags import TAG_SPEC_HASH
from gitops.model.vocab import ActionKind, Health, Reason
from gitops.plan.comparable import desired_deployment_view, field_diffs
from gitops.plan.pairing import DeploymentPair, EndpointPair
from gitops.plan.planners import PlanContext
from gitops.plan.types import Action, Decisions

# Fields Azure cannot change on an existing managed deployment.
IMMUTABLE_DEPLOYMENT_FIELDS = ("instance_type", "egress_public_network_access")


def plan_deployments(pair: EndpointPair, ctx: PlanContext) -> Decisions:
    out = Decisions()
    for dep in pair.deployments:
        out.extend(plan_deployment(pair, dep, ctx))
    return out


def plan_deployment(pair: EndpointPair, dep: DeploymentPair, ctx: PlanContext) -> Decisions:
    want = desired_deployment_view(dep.desired, ctx.owner_tags)
    if dep.actual is None:
        reason = "declared in git, missing in target (created with 0% traffic)"
        return _action(dep, ActionKind.CREATE_DEPLOYMENT, Reason.MISSING, reason, diff_views(want, {}))
    changes = diff_views(want, deployment_view(dep.actual.entity))
    live_hash = dep.actual.tags.get(TAG_SPEC_HASH)
    if live_hash != dep.desired.spec_hash and not changes:
        # Files uploaded from the repo are anonymous assets on the service: only the hash tells.
        changes = [("spec", live_hash, dep.desired.spec_hash)]
    immutable = [c[0] for c in changes if c[0] in IMMUTABLE_DEPLOYMENT_FIELDS]
    if immutable:
        return _replace(pair, dep, immutable, changes)
    if changes:
        return _action(dep, ActionKind.UPDATE_DEPLOYMENT, Reason.DIFFERS, "differs from git", changes)
    if dep.actual.health is not Health.HEALTHY:
        reason = f"provisioning state is {dep.actual.provisioning_state}; re-applying"
        return _action(dep, ActionKind.UPDATE_DEPLOYMENT, Reason.NOT_HEALTHY, reason, [])
    return Decisions()


def _replace(
    pair: EndpointPair, dep: DeploymentPair, immutable: list[str], changes: list[tuple[str, Any, Any]]
) -> Decisions:
    fields = ", ".join(immutable)
    live = pair.have_traffic.share(dep.name)
    if live or pair.want_traffic.share(dep.name):
        return Decisions(
            blocked=[
                f"{dep.desired.doc.file}: {fields} of deployment {pair.name}/{dep.name} cannot change in "
                f"place and it {'serves' if live else 'would serve'} traffic. Add a new deployment file "
                f"(e.g. {dep.name}-v2.yml) with the new value, move traffic to it, and delete this one in "
                "a later commit."
            ]
        )
    reason = f"{fields} cannot change in place; deployment has 0% traffic, so it is deleted and re-created"
    return _action(dep, ActionKind.REPLACE_DEPLOYMENT, Reason.IMMUTABLE_FIELD, reason, changes)


def _action(
    dep: DeploymentPair, kind: ActionKind, code: Reason, reason: str, changes: list[tuple[str, Any, Any]]
) -> Decisions:
    action = Action(
        kind,
        str(dep.address),
        reason,
        field_diffs(changes),
        endpoint=dep.endpoint,
        name=dep.name,
        reason_code=code,
    )
    return Decisions(actions=[action])
