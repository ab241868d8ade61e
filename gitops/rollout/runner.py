"""Execute one `rollout` plan action: smoke test, canary steps with gate analysis, final traffic,
or an automatic rollback to the traffic and mirror the endpoint had before.

Progress is written to the target as a :class:`~gitops.rollout.record.RolloutRecord` after every
change (``write_rollout``): the rollout's id, the step and when it started, the traffic to restore.
An apply that dies mid-step is resumed by the next apply at that step, with the time already spent
counted. The first write comes before any traffic moves, so a record the target cannot store
stops the rollout with the endpoint untouched.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from gitops.errors import GitopsError
from gitops.rollout.gates import FAIL, Decision, GateState, Window, advance, evaluate, step_outcome
from gitops.rollout.providers import MetricsProvider, MetricsUnavailable
from gitops.rollout.record import SMOKE_STEP, RolloutRecord, RolloutStatus
from gitops.rollout.spec import RolloutPlan, Step, format_duration


class RolloutFailed(GitopsError):
    """The rollout was rolled back; the message carries the evidence."""


def rollback_maps(
    previous_traffic: dict[str, int], previous_mirror: dict[str, int], canary: str
) -> tuple[dict[str, int], dict[str, int]]:
    """The endpoint's maps from before the rollout, minus anything on the failed canary (its
    share goes to the deployment that served most)."""
    traffic = {k: v for k, v in previous_traffic.items() if v}
    share = traffic.pop(canary, 0)
    if share and traffic:
        top = sorted(traffic, key=lambda n: (-traffic[n], n))[0]
        traffic[top] += share
    mirror = {k: v for k, v in previous_mirror.items() if v and k != canary}
    return traffic, mirror


def smoke_check(status: int, body: bytes, expect_status: int, expect_keys: list[str]) -> str:
    """'' when the answer is as expected, else what is wrong."""
    if status != expect_status:
        return f"status {status}, expected {expect_status}: {body[:200].decode('utf-8', 'replace')}"
    if expect_keys:
        try:
            payload = json.loads(body)
        except ValueError:
            return f"answer is not JSON: {body[:200].decode('utf-8', 'replace')}"
        if not isinstance(payload, dict):
            return f"answer is a JSON {type(payload).__name__}, expected an object with keys {expect_keys}"
        missing = [k for k in expect_keys if k not in payload]
        if missing:
            return f"answer lacks key(s) {missing} (has {sorted(payload)})"
    return ""


@dataclass(frozen=True)
class RunSettings:
    """What the apply running the rollout contributes besides the plan."""

    revision: str  # git revision of the apply, kept in the record (may end "-dirty")
    out: Callable[[str], None]  # progress lines for people
    skip_analysis: bool = False  # --skip-analysis: straight to the final step, no smoke test, no gates


class RolloutRunner:
    def __init__(
        self,
        target: Any,
        endpoint: str,
        plan: RolloutPlan,
        provider: MetricsProvider | None,
        settings: RunSettings,
        *,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
    ) -> None:
        # ``target`` can move traffic and record progress: the caller asked the target's
        # TargetHandle for it (require_rollouts), which refuses targets that cannot.
        self.target = target
        self.endpoint = endpoint
        self.plan = plan
        self.provider = provider
        self.revision = settings.revision
        self.out = settings.out
        self.skip_analysis = settings.skip_analysis
        self.sleep = sleep
        self.clock = clock
        self.record: RolloutRecord  # set by run(): it starts with the clock of the run

    # ------------------------------------------------------------------------ progress record
    def _initial_record(self) -> RolloutRecord:
        p = self.plan
        now = self.clock()
        first = p.steps[p.resume_step] if 0 <= p.resume_step < len(p.steps) else None
        return RolloutRecord(
            id=p.id,
            canary=p.canary,
            status=RolloutStatus.RUNNING,
            canary_spec_hash=p.canary_spec_hash,
            baseline=tuple(p.baseline),
            revision=self.revision,
            started=now,
            previous_traffic=dict(p.previous_traffic),
            previous_mirror=dict(p.previous_mirror),
            steps=tuple(s.name for s in p.steps),
            step=p.resume_step,
            # What the first step will record: an apply killed before it still resumes correctly.
            step_name=first.name if first else "",
            step_started=now - p.resume_elapsed_s if first else now,
            step_duration=first.duration_s if first else 0.0,
            skip_analysis=self.skip_analysis,
        )

    def _save(self, **changes: Any) -> None:
        self.record = self.record.replace(**changes)
        self.target.write_rollout(self.endpoint, self.record)

    def _say(self, msg: str) -> None:
        self.out(f"rollout {self.endpoint}/{self.plan.canary}: {msg}")

    # ---------------------------------------------------------------------------------- run
    def run(self) -> str:
        p = self.plan
        self.record = self._initial_record()
        if self.skip_analysis:
            final = p.steps[-1]
            self._say(
                f"ANALYSIS SKIPPED (--skip-analysis): going straight to {final.name}, no smoke test, no gates"
            )
            self._save(step=len(p.steps) - 1, step_name=final.name)
            self.target.set_traffic(self.endpoint, final.traffic, final.mirror)
            self._save(status=RolloutStatus.SUCCEEDED, finished=self.clock())
            return f"analysis skipped (--skip-analysis): traffic set to {final.traffic} in one step"
        fresh = p.resume_step == SMOKE_STEP or (p.resume_step == 0 and not p.resume_elapsed_s)
        if fresh and p.smoke_request is not None:
            self._save(step=SMOKE_STEP, step_name="smoke test")
            self._smoke()
        else:
            # The first write also tells whether the target can store this record at all (Azure
            # tags are few): it must come before the first traffic change.
            self._save()
        if not fresh:
            self._say(
                f"resuming at step {p.resume_step + 1}/{len(p.steps)} ({p.steps[p.resume_step].name}) "
                f"after {p.resume_elapsed_s:.1f}s in it"
            )
        start = max(p.resume_step, 0)
        for i in range(start, len(p.steps)):
            step = p.steps[i]
            elapsed = p.resume_elapsed_s if i == p.resume_step and p.resume_elapsed_s else 0.0
            self._run_step(i, step, elapsed)
        self._save(status=RolloutStatus.SUCCEEDED, finished=self.clock())
        last = self.record.gates or "no gates evaluated"
        return f"rolled out through {len(p.steps)} step(s); last gates: {last}"

    def _smoke(self) -> None:
        p = self.plan
        body = (p.smoke_request or "").encode()
        try:
            status, answer = self.target.smoke_request(self.endpoint, p.canary, body)
        except (OSError, GitopsError) as exc:
            status, answer = 0, str(exc).encode()
        problem = smoke_check(status, answer, p.smoke_expect_status, p.smoke_expect_keys)
        if problem:
            evidence = f"smoke test ({p.smoke_source}) against {p.canary}: {problem}"
            self._say(f"FAILED before any live traffic: {evidence}")
            # No traffic moved yet: the endpoint still has exactly its previous maps.
            self._save(status=RolloutStatus.FAILED, evidence=evidence, finished=self.clock())
            raise RolloutFailed(f"rollout of {p.canary} failed, no live traffic was sent: {evidence}")
        self._say(f"smoke test passed (status {status})")

    def _run_step(self, index: int, step: Step, elapsed: float) -> None:
        p = self.plan
        started = self.clock() - elapsed
        progress: dict[str, Any] = {"step": index, "step_name": step.name, "step_started": started}
        progress["step_duration"] = step.duration_s
        if step.analysed:
            progress["gates"] = ""  # the previous step's values no longer describe the traffic
        self.target.set_traffic(self.endpoint, step.traffic, step.mirror)
        self._save(**progress)
        live = ", ".join(f"{k} {v}%" for k, v in sorted(step.traffic.items()))
        mirror = ", ".join(f"{k} {v}%" for k, v in sorted(step.mirror.items()))
        self._say(
            f"step {index + 1}/{len(p.steps)} {step.name}: traffic {live or 'none'}"
            + (f", mirror {mirror}" if mirror else "")
            + (f" for {format_duration(step.duration_s)}" if step.duration_s else "")
        )
        if not step.analysed or step.duration_s <= 0:
            return
        if self.provider is None:
            raise GitopsError("a rollout step needs a metrics provider")
        window_start = self.clock()
        self._begin(window_start)
        state = GateState()
        a = p.analysis
        end = started + step.duration_s
        # A resumed step whose time is up still gets one evaluation on fresh data.
        end = max(end, window_start + a.interval_s)
        while True:
            wait = min(a.interval_s, max(0.0, end - self.clock()))
            self.sleep(wait)
            decision = self._evaluate(window_start)
            hit_limit = advance(state, decision, a.failure_limit)
            self._say(f"  gates [{decision.verdict}] {decision.evidence()}")
            self._save(gates=f"{decision.verdict}: {decision.evidence()}")
            if hit_limit:
                self._rollback(
                    f"{a.failure_limit} consecutive failed evaluation(s) in step {step.name}: "
                    + decision.evidence()
                )
            if self.clock() >= end - 1e-3:
                break
        ok, why = step_outcome(state, a.on_inconclusive)
        if not ok:
            self._rollback(f"step {step.name} ended without passing gates: {why}")

    def _begin(self, window_start: float) -> None:
        assert self.provider is not None
        try:
            self.provider.begin(self.endpoint, window_start)
        except MetricsUnavailable as exc:
            self._rollback(f"metrics unavailable at step start: {exc}")

    def _evaluate(self, window_start: float) -> Decision:
        assert self.provider is not None
        p = self.plan
        deps = [p.canary, *p.baseline]
        try:
            windows = self.provider.windows(self.endpoint, deps, window_start)
        except MetricsUnavailable as exc:
            # Not knowing is not passing: counts against the consecutive-failure limit.
            return Decision(FAIL, [], Window(0, 0), None, f"metrics unavailable: {exc}")
        base = [windows[b] for b in p.baseline if b in windows]
        baseline = _combine(base) if base else None
        return evaluate(p.analysis, baseline, windows[p.canary])

    def _rollback(self, evidence: str) -> None:
        p = self.plan
        traffic, mirror = rollback_maps(p.previous_traffic, p.previous_mirror, p.canary)
        self._say(f"ROLLING BACK: {evidence}")
        self.target.set_traffic(self.endpoint, traffic, mirror)
        self._save(status=RolloutStatus.FAILED, evidence=evidence, finished=self.clock())
        self._say(f"restored traffic {traffic or '{}'}" + (f", mirror {mirror}" if mirror else ""))
        raise RolloutFailed(f"rollout of {p.canary} rolled back to {traffic}: {evidence}")


def _combine(windows: list[Window]) -> Window:
    """Several baseline deployments as one: summed counts, the worst latency."""
    p95 = [w.p95_ms for w in windows if w.p95_ms is not None]
    p99 = [w.p99_ms for w in windows if w.p99_ms is not None]
    return Window(
        requests=sum(w.requests for w in windows),
        errors=sum(w.errors for w in windows),
        p95_ms=max(p95) if p95 else None,
        p99_ms=max(p99) if p99 else None,
    )
