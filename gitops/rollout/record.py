"""The progress record of one progressive rollout, as one typed value.

The runner (:mod:`gitops.rollout.runner`) writes it after every change; the plan reads it back
(resume at a step, or keep a rolled-back canary diverged); status shows it. Each target stores it
with its own codec, which knows that store's limits (Azure endpoint tags, the local SQLite
state): see ``gitops.targets.<kind>.rollout_store``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from gitops.errors import GitopsError

SMOKE_STEP = -1  # ``step`` while the smoke test runs, before any live traffic moves


class RolloutStatus(StrEnum):
    RUNNING = "running"
    FAILED = "failed"  # rolled back: the endpoint stays on its previous traffic
    SUCCEEDED = "succeeded"


class RolloutRecordError(GitopsError):
    """A target cannot store or read back a rollout record. Never swallowed: without the record
    the plan would retry a canary that was rolled back, or restart an interrupted rollout."""


class RolloutRecordUnreadable(RolloutRecordError):
    pass


class RolloutRecordTooLarge(RolloutRecordError):
    pass


@dataclass(frozen=True)
class RolloutRecord:
    id: str  # gitops.rollout.spec.rollout_id: canary, its spec hash and the target split
    canary: str
    status: RolloutStatus
    canary_spec_hash: str = ""
    baseline: tuple[str, ...] = ()
    revision: str = ""  # git revision of the apply that ran it (may end "-dirty")
    started: float = 0.0  # epoch seconds
    finished: float | None = None
    previous_traffic: dict[str, int] = field(default_factory=dict)  # restored on rollback
    previous_mirror: dict[str, int] = field(default_factory=dict)
    steps: tuple[str, ...] = ()  # step names, e.g. ("mirror 10%", "weight 50%", "final")
    step: int = 0  # index into steps; SMOKE_STEP during the smoke test
    step_name: str = ""
    step_started: float = 0.0
    step_duration: float = 0.0
    gates: str = ""  # the last gate evaluation, for people
    evidence: str = ""  # why it was rolled back
    skip_analysis: bool = False

    def replace(self, **changes: Any) -> RolloutRecord:
        return dataclasses.replace(self, **changes)

    @property
    def where(self) -> str:
        """The step for people: its name, or its number, or the smoke test."""
        if self.step_name:
            return self.step_name
        return f"step {self.step + 1}" if self.step >= 0 else "smoke test"

    def to_json(self) -> dict[str, Any]:
        """Plain JSON types (stores that hold JSON use this; the tag codec has its own layout)."""
        d = dataclasses.asdict(self)
        d["status"] = self.status.value
        d["baseline"] = list(self.baseline)
        d["steps"] = list(self.steps)
        return d

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> RolloutRecord:
        """Inverse of :meth:`to_json`; raises ``ValueError`` (or ``KeyError``) on a malformed record."""
        return cls(
            id=str(d["id"]),
            canary=str(d["canary"]),
            status=RolloutStatus(d["status"]),
            canary_spec_hash=str(d.get("canary_spec_hash") or ""),
            baseline=tuple(str(x) for x in d.get("baseline") or ()),
            revision=str(d.get("revision") or ""),
            started=float(d.get("started") or 0.0),
            finished=None if d.get("finished") is None else float(d["finished"]),
            previous_traffic={str(k).lower(): int(v) for k, v in (d.get("previous_traffic") or {}).items()},
            previous_mirror={str(k).lower(): int(v) for k, v in (d.get("previous_mirror") or {}).items()},
            steps=tuple(str(x) for x in d.get("steps") or ()),
            step=int(d.get("step", 0)),
            step_name=str(d.get("step_name") or ""),
            step_started=float(d.get("step_started") or 0.0),
            step_duration=float(d.get("step_duration") or 0.0),
            gates=str(d.get("gates") or ""),
            evidence=str(d.get("evidence") or ""),
            skip_analysis=bool(d.get("skip_analysis", False)),
        )
