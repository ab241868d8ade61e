"""Model and environment assets git declares: register the versions the target lacks, and block
when a declared version is already registered with other content (asset versions are immutable on
Azure ML: the same number cannot be made to mean new files)."""

from __future__ import annotations

from collections.abc import Mapping

from gitops.desired.types import DesiredAsset
from gitops.model.vocab import ActionKind, Reason
from gitops.plan.planners import PlanContext
from gitops.plan.types import Action, Decisions, FieldDiff
from gitops.targets.base import CAP_ASSETS, ActualAsset

_KINDS = {"model": ActionKind.REGISTER_MODEL, "environment": ActionKind.REGISTER_ENVIRONMENT}


def plan_assets(
    desired: Mapping[str, DesiredAsset], actual: Mapping[str, ActualAsset], ctx: PlanContext
) -> Decisions:
    out = Decisions()
    if desired and CAP_ASSETS not in ctx.capabilities:
        files = ", ".join(sorted({a.doc.file for a in desired.values()}))
        out.blocked.append(f"target {ctx.target_kind} cannot register models or environments ({files})")
        return out
    for key, want in sorted(desired.items()):
        have = actual.get(key)
        if have is None:
            out.actions.append(_register(want))
        elif have.content_hash != want.content_hash:
            out.blocked.append(_conflict(want, have))
    return out


def _register(want: DesiredAsset) -> Action:
    return Action(
        _KINDS[want.kind],
        want.key,
        "declared in git, not registered in target",
        [FieldDiff("content", None, want.content_hash)],
        endpoint=None,
        name=want.key,
        reason_code=Reason.MISSING,
    )


def _conflict(want: DesiredAsset, have: ActualAsset) -> str:
    where = "by hand (no content hash)" if have.content_hash is None else "with other content"
    return (
        f"{want.doc.file}: {want.kind} {want.name}:{want.version} is already registered {where}; "
        "bump the version"
    )
