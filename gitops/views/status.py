"""What `mlops status` tells people (StatusHuman) and machines (StatusJSON), including where the
last progressive rollout of each endpoint stands (step, gate values, time left in the step)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

from gitops.rollout.record import RolloutRecord, RolloutStatus
from gitops.sync.status import EnvironmentStatus

Clock = Callable[[], float]


def _time_left(record: RolloutRecord, now: float) -> float | None:
    if record.status is not RolloutStatus.RUNNING:
        return None
    return max(0.0, record.step_started + record.step_duration - now)


def _summary(record: RolloutRecord, left: float | None) -> str:
    text = f"{record.status} {record.canary} (rollout {record.id}, revision {record.revision})"
    if record.step >= 0:
        text += f", step {record.step + 1}/{len(record.steps)} {record.where}"
    else:
        text += f", {record.where}"
    if left is not None:
        text += f", {left:.0f}s left in this step"
    if record.skip_analysis:
        text += ", analysis skipped (--skip-analysis)"
    return text


def rollout_status(record: RolloutRecord, now: float | None = None) -> dict[str, Any]:
    """A rollout progress record for people: which step, its gate values, how long it has left."""
    now = time.time() if now is None else now
    left = _time_left(record, now)
    return {
        "id": record.id,
        "canary": record.canary,
        "status": record.status.value,
        "step": record.step,
        "step_name": record.step_name,
        "revision": record.revision,
        "gates": record.gates,
        "evidence": record.evidence,
        "steps": list(record.steps),
        "time_left_s": None if left is None else round(left, 1),
        "summary": _summary(record, left),
    }


class StatusHuman:
    def __init__(self, clock: Clock = time.time) -> None:
        self.clock = clock

    def _rollout_lines(self, status: EnvironmentStatus) -> list[str]:
        lines: list[str] = []
        for name, record in status.rollouts.items():
            ro = rollout_status(record, self.clock())
            lines.append(f"  rollout endpoint/{name}: {ro['summary']}")
            if ro["gates"]:
                lines.append(f"      gates: {ro['gates']}")
            if ro["evidence"]:
                lines.append(f"      evidence: {ro['evidence']}")
        return lines

    def render(self, status: EnvironmentStatus) -> str:
        lines = [f"{status.env}: {status.state.replace('_', ' ')} ({status.location})"]
        for f in status.failed:
            lines.append(f"  failed: {f}")
            if f in status.causes:
                lines.append(f"      cause: {status.causes[f]}")
        lines += [f"  endpoint/{name}: scoring URI {uri}" for name, uri in status.scoring_uris.items()]
        lines += [f"  diverged: {dv}" for dv in status.plan.diverged]
        lines += self._rollout_lines(status)
        for a in status.plan.actions:
            lines.append(f"  {a.kind} {a.resource}: {a.reason}")
            lines += [f"      {d.field}: {d.before} -> {d.after}" for d in a.diff]
        return "\n".join(lines) + "\n"


class StatusJSON:
    def __init__(self, clock: Clock = time.time) -> None:
        self.clock = clock

    def render(self, status: EnvironmentStatus) -> str:
        doc = {
            "env": status.env,
            "status": status.state.value,
            "failed": status.failed,
            "causes": status.causes,
            "scoring_uris": status.scoring_uris,
            "drift": [a.to_dict() for a in status.plan.actions],
            "blocked": status.plan.blocked,
            "diverged": status.plan.diverged,
            "rollouts": {name: rollout_status(r, self.clock()) for name, r in status.rollouts.items()},
        }
        return json.dumps(doc, indent=2, default=str) + "\n"


StatusView = StatusHuman | StatusJSON
