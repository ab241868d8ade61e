"""Refuse desired state the target cannot hold (a local target has no model monitors, for
instance) before anything is changed, naming the file to edit."""

from __future__ import annotations

from gitops.plan.pairing import Pairing
from gitops.plan.planners import PlanContext
from gitops.plan.types import Decisions
from gitops.targets.base import CAP_MIRROR_TRAFFIC, CAP_MONITORS


def plan_capabilities(pairing: Pairing, ctx: PlanContext) -> Decisions:
    blocked: list[str] = []
    if pairing.monitors and CAP_MONITORS not in ctx.capabilities:
        blocked.append(
            f"target {ctx.target_kind} does not support monitors; remove environments/{ctx.env}/monitors/"
        )
    if CAP_MIRROR_TRAFFIC not in ctx.capabilities:
        blocked += [
            f"{p.desired.doc.file}: target {ctx.target_kind} does not support mirror_traffic"
            for p in pairing.endpoints
            if any((p.desired.mirror_traffic or {}).values())
        ]
    return Decisions(blocked=blocked)
