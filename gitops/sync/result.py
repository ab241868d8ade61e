"""What happened to one planned action, as apply reports it (text, JSON) and tests assert it."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from gitops.plan import Action


class ResultStatus(StrEnum):
    OK = "ok"
    FAILED = "failed"
    SKIPPED = "skipped"  # not attempted: an earlier action of the same endpoint failed


@dataclass
class ActionResult:
    action: Action
    status: ResultStatus
    message: str = ""
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.status is ResultStatus.OK

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": str(self.action.kind),
            "resource": self.action.resource,
            "status": self.status.value,
            "message": self.message,
            "seconds": round(self.seconds, 3),
        }
