"""One small pure planner per rule family. Each reads pairs (:mod:`gitops.plan.pairing`) and the
:class:`PlanContext`, and returns :class:`gitops.plan.types.Decisions`; none reads files or the
target, so each is tested on in-memory values (tests/unit/test_planners.py)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PlanContext:
    """The switches and environment facts every planner may consult."""

    env: str
    target_kind: str
    capabilities: frozenset[str]
    owner_tags: dict[str, str]  # gitops.model.tags.ownership_tags of the environment
    prune: bool = False
    allow_empty: bool = False  # allow a plan that deletes every endpoint of the environment
    retry_rollout: bool = False  # retry a rolled-back rollout of the same revision
    now: float = 0.0  # epoch seconds: how long a resumed rollout step has already run
