"""The gate engine: pure functions from metric windows to a decision with its evidence.

No I/O here: providers produce :class:`Window` values, the runner feeds them in and acts on the
:class:`Decision`; tests drive this module with hand-made windows.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from gitops.rollout.spec import Analysis, Gate

PASS, FAIL, INCONCLUSIVE = "pass", "fail", "inconclusive"


@dataclass(frozen=True)
class Window:
    """What one deployment served during the analysis window."""

    requests: int
    errors: int  # 5xx answers plus model errors (a model's 5xx, timeouts)
    p95_ms: float | None = None
    p99_ms: float | None = None

    @property
    def error_ratio(self) -> float | None:
        return self.errors / self.requests if self.requests else None


@dataclass(frozen=True)
class Check:
    gate: str  # error_ratio, latency_p95_ms, ...
    kind: str  # max | max_increase | max_ratio
    canary: float | None
    baseline: float | None
    threshold: float
    ok: bool
    note: str = ""

    def text(self) -> str:
        c = _num(self.canary)
        if self.kind == "max":
            cond = f"{c} {'<=' if self.ok else '>'} {_num(self.threshold)}"
        elif self.kind == "max_increase":
            diff = None if self.canary is None or self.baseline is None else self.canary - self.baseline
            cond = f"{c} - baseline {_num(self.baseline)} = {_num(diff)} {'<=' if self.ok else '>'} {_num(self.threshold)}"
        else:
            cond = f"{c} / baseline {_num(self.baseline)} {'<=' if self.ok else '>'} {_num(self.threshold)}x"
        return f"{self.gate} {cond}{' (' + self.note + ')' if self.note else ''}"


@dataclass
class Decision:
    verdict: str  # pass | fail | inconclusive
    checks: list[Check]
    canary: Window
    baseline: Window | None
    reason: str = ""

    def evidence(self) -> str:
        head = f"canary {self.canary.requests} req"
        if self.baseline is not None:
            head += f", baseline {self.baseline.requests} req"
        parts = [c.text() for c in self.checks]
        return "; ".join([head, *parts] if parts else [head, self.reason])

    def to_dict(self) -> dict[str, Any]:
        return {
            "verdict": self.verdict,
            "reason": self.reason,
            "canary": asdict(self.canary),
            "baseline": asdict(self.baseline) if self.baseline else None,
            "checks": [asdict(c) | {"text": c.text()} for c in self.checks],
        }


def _num(v: float | None) -> str:
    if v is None:
        return "n/a"
    if abs(v) >= 10:
        return f"{v:.0f}"
    return f"{v:.3f}".rstrip("0").rstrip(".") if v else "0"


def _checks(
    name: str, gate: Gate | None, relative_kind: str, canary: float | None, baseline: float | None
) -> list[Check]:
    if gate is None:
        return []
    out = []
    if gate.max is not None:
        if canary is None:
            out.append(Check(name, "max", None, baseline, gate.max, False, "no canary measurement"))
        else:
            out.append(Check(name, "max", canary, baseline, gate.max, canary <= gate.max))
    if gate.relative is not None and canary is not None:
        if baseline is None:
            # Nothing to compare with (baseline idle): the absolute threshold alone decides.
            out.append(
                Check(name, relative_kind, canary, None, gate.relative, True, "no baseline data, skipped")
            )
        elif relative_kind == "max_increase":
            out.append(
                Check(
                    name, relative_kind, canary, baseline, gate.relative, canary - baseline <= gate.relative
                )
            )
        else:
            # A floor of 1 ms keeps a near-zero baseline from turning noise into a failure.
            ratio_ok = canary <= max(baseline, 1.0) * gate.relative
            out.append(Check(name, relative_kind, canary, baseline, gate.relative, ratio_ok))
    return out


def evaluate(analysis: Analysis, baseline: Window | None, canary: Window) -> Decision:
    """One evaluation of every configured gate."""
    if canary.requests < analysis.min_requests:
        return Decision(
            INCONCLUSIVE,
            [],
            canary,
            baseline,
            f"{canary.requests} canary request(s) < min_requests {analysis.min_requests}",
        )
    base_ok = baseline is not None and baseline.requests > 0
    b = baseline if base_ok else None
    checks = [
        *_checks(
            "error_ratio",
            analysis.error_ratio,
            "max_increase",
            canary.error_ratio,
            b.error_ratio if b else None,
        ),
        *_checks(
            "latency_p95_ms", analysis.latency_p95_ms, "max_ratio", canary.p95_ms, b.p95_ms if b else None
        ),
        *_checks(
            "latency_p99_ms", analysis.latency_p99_ms, "max_ratio", canary.p99_ms, b.p99_ms if b else None
        ),
    ]
    failed = [c for c in checks if not c.ok]
    verdict = FAIL if failed else PASS
    return Decision(verdict, checks, canary, baseline, "; ".join(c.text() for c in failed))


@dataclass
class GateState:
    """Evaluations of one step so far."""

    evaluations: int = 0
    consecutive_failures: int = 0
    passes: int = 0
    last: Decision | None = None
    history: list[str] = field(default_factory=list)


def advance(state: GateState, decision: Decision, failure_limit: int) -> bool:
    """Fold one decision into the step's state; True when the failure limit is reached."""
    state.evaluations += 1
    state.last = decision
    state.history.append(decision.verdict)
    if decision.verdict == FAIL:
        state.consecutive_failures += 1
    elif decision.verdict == PASS:
        state.consecutive_failures = 0
        state.passes += 1
    return state.consecutive_failures >= failure_limit


def step_outcome(state: GateState, on_inconclusive: str) -> tuple[bool, str]:
    """At the end of a step's duration: may the rollout go on?"""
    last = state.last
    if last is None:
        return on_inconclusive == "pass", "no evaluation ran during the step"
    if last.verdict == FAIL:
        return False, f"last evaluation failed: {last.reason}"
    if last.verdict == INCONCLUSIVE and state.passes == 0:
        ok = on_inconclusive == "pass"
        return ok, f"inconclusive: {last.reason} (on_inconclusive: {on_inconclusive})"
    return True, ""


def percentile_from_buckets(bounds: list[float], counts: list[int], q: float) -> float | None:
    """The q-quantile of a histogram as its bucket's upper bound (the open last bucket reports
    twice the last bound): conservative, never under-reports latency."""
    total = sum(counts)
    if total <= 0:
        return None
    rank = q * total
    seen = 0
    for i, n in enumerate(counts):
        seen += n
        if seen >= rank and n:
            return float(bounds[i]) if i < len(bounds) else float(bounds[-1]) * 2
    return float(bounds[-1]) * 2
