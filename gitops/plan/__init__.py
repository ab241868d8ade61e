"""The plan: an ordered list of typed actions, computed from desired (git) and actual (target) state.

Text, JSON, Markdown and execution all consume the same :class:`Plan`. A saved plan carries a
fingerprint of both sides; ``apply --plan`` recomputes it and refuses a plan that went stale.

Rooms: :mod:`.types` (the values and the plan file), :mod:`.pairing` (desired <-> live, no
decisions), :mod:`.planners` (one small pure planner per rule family), :mod:`.rollout`
(progressive rollouts), :mod:`.fingerprint`, and :mod:`.make` (``make_plan``, composing them).
"""

from __future__ import annotations

from gitops.model.tags import is_owned
from gitops.plan.make import make_plan, ownership_tags
from gitops.plan.types import PLAN_FORMAT_VERSION, Action, Decisions, FieldDiff, Plan, summary

__all__ = [
    "PLAN_FORMAT_VERSION",
    "Action",
    "Decisions",
    "FieldDiff",
    "Plan",
    "is_owned",
    "make_plan",
    "ownership_tags",
    "summary",
]
