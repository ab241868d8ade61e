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
from gitops.targets.base import ActualDeployment, ActualState


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
    # deployment/<ep>/<dep> in `failed` -> why, in one line, with its log's path when the target keeps one
    causes: dict[str, str] = field(default_factory=dict)
    scoring_uris: dict[str, str] = field(default_factory=dict)  # declared endpoint -> where requests go


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
    broken = {
        f"deployment/{d.endpoint_name}/{d.name}": d
        for e in declared
        for d in e.deployments.values()
        if d.health is Health.FAILED
    }
    failed = list(broken)
    causes = {address: text for address, d in broken.items() if (text := _cause(d))}
    rollouts = {e.name: r for e in declared if (r := as_record(e.rollout)) is not None}
    # The azureml target's endpoint entity carries scoring_uri as Azure returned it; a target
    # that knows better (the local router's URL) says so on ActualEndpoint.
    uris = {
        e.name: str(uri) for e in declared if (uri := e.scoring_uri or getattr(e.entity, "scoring_uri", None))
    }
    return EnvironmentStatus(
        desired.env, location, _state(failed, plan), plan, failed, rollouts, causes, uris
    )


def _cause(d: ActualDeployment) -> str:
    if not d.message:
        return f"log: {d.log_path}" if d.log_path else ""
    return f"{d.message} (log: {d.log_path})" if d.log_path and d.log_path not in d.message else d.message
