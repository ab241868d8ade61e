"""The plan's values: :class:`Action` (one change, with its kind, reason and field diffs) and
:class:`Plan` (the ordered actions plus what was refused, left alone or left diverged).

The plan file is these values as JSON (``format_version`` 1); text, JSON, Markdown and apply all
read the same :class:`Plan`. Kinds, phases and reason codes are :mod:`gitops.model.vocab` enums,
written as their string/int values so that plan files stay plain JSON.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from gitops.errors import GitopsError
from gitops.model.vocab import ActionKind, Phase, Reason

PLAN_FORMAT_VERSION = 1
SUMMARY_KEYS = ("create", "update", "replace", "delete", "traffic")


@dataclass
class FieldDiff:
    field: str
    before: Any
    after: Any


@dataclass
class Action:
    kind: ActionKind
    resource: str  # str(ResourceAddress): endpoint/<ep>, deployment/<ep>/<dep>, monitor/<name>
    reason: str  # for people; reason_code is the machine-readable why
    diff: list[FieldDiff] = field(default_factory=list)
    endpoint: str | None = None  # actions sharing an endpoint run one at a time, in phase order
    name: str | None = None
    rollout: dict[str, Any] | None = None  # kind "rollout": gitops.rollout.spec.RolloutPlan.to_dict()
    reason_code: Reason = Reason.DIFFERS

    def __post_init__(self) -> None:
        # Callers may pass the JSON spellings; the enums validate them here, not at apply time.
        self.kind = ActionKind(self.kind)
        self.reason_code = Reason(self.reason_code)

    @property
    def phase(self) -> Phase:
        return self.kind.phase

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind.value,
            "resource": self.resource,
            "reason": self.reason,
            "diff": [{"field": d.field, "before": d.before, "after": d.after} for d in self.diff],
            "endpoint": self.endpoint,
            "name": self.name,
            "rollout": self.rollout,
            "phase": int(self.phase),
            "reason_code": self.reason_code.value,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Action:
        kind = ActionKind(d["kind"])
        code = d.get("reason_code")
        return cls(
            kind=kind,
            resource=d["resource"],
            reason=d["reason"],
            diff=[FieldDiff(**x) for x in d.get("diff", [])],
            endpoint=d.get("endpoint"),
            name=d.get("name"),
            rollout=d.get("rollout"),
            reason_code=Reason(code) if code is not None else legacy_reason_code(kind, d["reason"]),
        )


# Plan files written before reason codes existed: each kind has one usual reason; the prose
# tells the exceptions apart (it was produced by this code, so its wording is known).
_USUAL_REASON: dict[ActionKind, Reason] = {
    ActionKind.CREATE_ENDPOINT: Reason.MISSING,
    ActionKind.CREATE_DEPLOYMENT: Reason.MISSING,
    ActionKind.CREATE_MONITOR: Reason.MISSING,
    ActionKind.REPLACE_DEPLOYMENT: Reason.IMMUTABLE_FIELD,
    ActionKind.SET_TRAFFIC: Reason.TRAFFIC_DIFFERS,
    ActionKind.SET_MIRROR: Reason.TRAFFIC_DIFFERS,
    ActionKind.ROLLOUT: Reason.ROLLOUT,
    ActionKind.ENABLE_MONITOR: Reason.DISABLED,
    ActionKind.DELETE_MONITOR: Reason.PRUNED,
    ActionKind.DELETE_DEPLOYMENT: Reason.PRUNED,
    ActionKind.DELETE_ENDPOINT: Reason.PRUNED,
}
_PROSE_REASON = (
    ("(adopting:", Reason.ADOPTING),
    ("is in Failed state", Reason.FAILED_STATE),
    ("provisioning state is", Reason.NOT_HEALTHY),
    ("resuming interrupted rollout", Reason.ROLLOUT_RESUME),
    ("retrying rolled-back rollout", Reason.ROLLOUT_RETRY),
)


def legacy_reason_code(kind: ActionKind, reason: str) -> Reason:
    """The reason code of an action read from a plan file that has none."""
    for marker, code in _PROSE_REASON:
        if marker in reason:
            return code
    return _USUAL_REASON.get(kind, Reason.DIFFERS)


@dataclass
class Plan:
    env: str
    target: str
    actions: list[Action]
    fingerprint: str
    blocked: list[str] = field(default_factory=list)  # refusals: the plan cannot be applied as is
    notes: list[str] = field(default_factory=list)  # things deliberately left alone
    # Endpoints left different from git on purpose (a rolled-back rollout), with the reason.
    diverged: list[str] = field(default_factory=list)

    @property
    def has_changes(self) -> bool:
        return bool(self.actions)

    def to_dict(self) -> dict[str, Any]:
        return {
            "format_version": PLAN_FORMAT_VERSION,
            "env": self.env,
            "target": self.target,
            "fingerprint": self.fingerprint,
            "actions": [a.to_dict() for a in self.actions],
            "blocked": self.blocked,
            "notes": self.notes,
            "diverged": self.diverged,
            "summary": summary(self),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Plan:
        if d.get("format_version") != PLAN_FORMAT_VERSION:
            raise GitopsError(
                f"plan file has format_version {d.get('format_version')!r}; re-run `mlops plan --out`"
            )
        return cls(
            env=d["env"],
            target=d["target"],
            actions=[Action.from_dict(a) for a in d["actions"]],
            fingerprint=d["fingerprint"],
            blocked=list(d.get("blocked", [])),
            notes=list(d.get("notes", [])),
            diverged=list(d.get("diverged", [])),
        )


def summary(plan: Plan) -> dict[str, int]:
    """Actions per column (create, update, replace, delete, traffic), every column present."""
    counts = dict.fromkeys(SUMMARY_KEYS, 0)
    for a in plan.actions:
        counts[a.kind.summary_key] = counts.get(a.kind.summary_key, 0) + 1
    return counts


@dataclass
class Decisions:
    """What one planner decided: actions, refusals, notes and divergences. Planners return one
    each; :func:`gitops.plan.make_plan` concatenates them in order."""

    actions: list[Action] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    diverged: list[str] = field(default_factory=list)

    def extend(self, other: Decisions) -> Decisions:
        self.actions += other.actions
        self.blocked += other.blocked
        self.notes += other.notes
        self.diverged += other.diverged
        return self
