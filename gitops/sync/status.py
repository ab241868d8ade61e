"""Live state against git, as one value: in sync, drifted, diverged or failed.

``mlops status`` reports it (views decide how); the rule of which state wins lives here once:
a Failed deployment outranks a rolled-back rollout (diverged), which outranks pending changes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from gitops.desired import DesiredState
from gitops.model.vocab import Health
from gitops.plan import Plan
from gitops.rollout.record import RolloutRecord
from gitops.targets.base import ActualState


class SyncState(StrEnum):
    IN_SYNC = "in_sync"
    DRIFTED = "drifted"  # the plan has actions: apply would change something
    DIVERGED = "diverged"  # left different from git on purpose (a rolled-back rollout)
    FAILED = "failed"  # a declared endpoint has a deployment in state Failed


@dataclass(frozen=True)
class EnvironmentStatus:
    env: str
    location: str  # the target's describe(): where this was read from
    state: SyncState
    plan: Plan  # what apply would do now
    failed: list[str] = field(default_factory=list)  # deployment/<ep>/<dep> in state Failed
    rollouts: dict[str, RolloutRecord] = field(default_factory=dict)  # endpoint -> last rollout


def as_record(value: RolloutRecord | Mapping[str, Any] | None) -> RolloutRecord | None:
    """The typed record; a target still handing over the runner's plain dict is read through
    :meth:`RolloutRecord.from_json` (an empty dict means no rollout)."""
    if value is None or isinstance(value, RolloutRecord):
        return value
    return RolloutRecord.from_json(dict(value)) if value else None


def _state(failed: list[str], plan: Plan) -> SyncState:
    if failed:
        return SyncState.FAILED
    if plan.diverged:
        return SyncState.DIVERGED
    return SyncState.DRIFTED if plan.actions else SyncState.IN_SYNC


def environment_status(
    desired: DesiredState, actual: ActualState, plan: Plan, location: str
) -> EnvironmentStatus:
    declared = [e for e in actual.endpoints.values() if e.name in desired.endpoints]
    failed = [
        f"deployment/{d.endpoint_name}/{d.name}"
        for e in declared
        for d in e.deployments.values()
        if d.health is Health.FAILED
    ]
    rollouts = {e.name: r for e in declared if (r := as_record(e.rollout)) is not None}
    return EnvironmentStatus(desired.env, location, _state(failed, plan), plan, failed, rollouts)
