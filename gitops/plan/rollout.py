"""Rollout planning: whether a traffic change becomes a progressive rollout, resumes one, retries
one, or is held back because the same rollout was already rolled back (the endpoint is then
*diverged* from git on purpose).

A rollout applies when the endpoint has a strategy, something serves now (the baseline) and
exactly one deployment gains live traffic (the canary). Progress comes from the endpoint's
:class:`gitops.rollout.record.RolloutRecord`; the strategy's smoke request body was read with the
desired state, so planning reads no files.
"""

from __future__ import annotations

from dataclasses import dataclass

from gitops.model.traffic import Traffic
from gitops.model.vocab import Reason
from gitops.plan.pairing import EndpointPair
from gitops.rollout.record import RolloutRecord, RolloutStatus
from gitops.rollout.spec import RolloutPlan, RolloutSpec, Step, expand_steps, rollout_id


@dataclass(frozen=True)
class RolloutStart:
    """Plan a ``rollout`` action (start, resume or retry)."""

    reason_code: Reason
    reason: str
    plan: RolloutPlan


@dataclass(frozen=True)
class RolloutDiverged:
    """Leave the endpoint on its current traffic: this rollout was rolled back."""

    reason: str


@dataclass(frozen=True)
class _Baseline:
    canary: str
    previous_traffic: dict[str, int]
    previous_mirror: dict[str, int]


def _running(record: RolloutRecord | None, want: Traffic) -> RolloutRecord | None:
    if record is not None and record.status is RolloutStatus.RUNNING and record.canary in want.live:
        return record
    return None


def _baseline(record: RolloutRecord | None, have: Traffic, want: Traffic) -> _Baseline | None:
    running = _running(record, want)
    if running is not None:
        # Mid-rollout the live maps are a step's; the canary and baseline come from the record.
        previous = {k.lower(): int(v) for k, v in running.previous_traffic.items()}
        previous_mirror = {k.lower(): int(v) for k, v in running.previous_mirror.items()}
        gaining = [running.canary]
    else:
        previous, previous_mirror = dict(have.live), dict(have.mirror)
        gaining = [d for d, w in want.live.items() if w > have.live.get(d, 0)]
    if len(gaining) != 1 or not any(v for k, v in previous.items() if k != gaining[0]):
        return None
    return _Baseline(gaining[0], previous, previous_mirror)


def plan_rollout(pair: EndpointPair, retry: bool, now: float) -> RolloutStart | RolloutDiverged | None:
    """None: a plain ``set_traffic``."""
    spec = pair.desired.rollout
    if not isinstance(spec, RolloutSpec) or not spec.enabled or pair.actual is None:
        return None
    have, want = pair.have_traffic, pair.want_traffic
    record = pair.actual.rollout
    base = _baseline(record, have, want)
    if base is None:
        return None
    canary = base.canary
    desired_dep = {k.lower(): v for k, v in pair.desired.deployments.items()}.get(canary)
    spec_hash = desired_dep.spec_hash if desired_dep is not None else ""
    rid = rollout_id(canary, spec_hash, want.live, want.mirror)
    same = record if record is not None and record.id == rid else None
    if same is not None and same.status is RolloutStatus.FAILED and not retry:
        return RolloutDiverged(
            f"{pair.address}: rollout {rid} of {canary} was rolled back at "
            f"{same.step_name or 'step ' + str(same.step)}: {same.evidence}. "
            f"Traffic stays {have.live}; git wants {want.live}. Not retried until {canary}'s spec "
            "changes, or run apply with --retry-rollout."
        )
    steps = expand_steps(spec, canary, base.previous_traffic, want.live, want.mirror)
    plan = _rollout_plan(spec, rid, spec_hash, base, steps)
    if same is not None and same.status is RolloutStatus.RUNNING:
        return _resume(plan, same, now)
    if same is not None and same.status is RolloutStatus.FAILED:
        return RolloutStart(
            Reason.ROLLOUT_RETRY, f"retrying rolled-back rollout of {canary} (--retry-rollout)", plan
        )
    return RolloutStart(Reason.ROLLOUT, f"progressive rollout of {canary} ({len(steps)} step(s))", plan)


def _rollout_plan(
    spec: RolloutSpec, rid: str, spec_hash: str, base: _Baseline, steps: list[Step]
) -> RolloutPlan:
    smoke = spec.smoke_test
    return RolloutPlan(
        id=rid,
        canary=base.canary,
        baseline=sorted(k for k, v in base.previous_traffic.items() if v and k != base.canary),
        canary_spec_hash=spec_hash,
        previous_traffic=base.previous_traffic,
        previous_mirror=base.previous_mirror,
        steps=steps,
        analysis=spec.analysis,
        smoke_request=smoke.request_body if smoke else None,
        smoke_expect_status=smoke.expect_status if smoke else 200,
        smoke_expect_keys=list(smoke.expect_keys) if smoke else [],
        smoke_source=smoke.request_file if smoke else "",
    )


def _resume(plan: RolloutPlan, record: RolloutRecord, now: float) -> RolloutStart:
    """Continue an interrupted rollout at its recorded step, crediting the time it already held."""
    step = int(record.step)
    steps = plan.steps
    plan.resume_step = step
    if step >= 0:
        elapsed = now - float(record.step_started)
        held = steps[min(step, len(steps) - 1)].duration_s
        plan.resume_elapsed_s = round(min(max(elapsed, 0.0), held), 3)
    reason = f"resuming interrupted rollout of {plan.canary} at step {step + 1}/{len(steps)}"
    return RolloutStart(Reason.ROLLOUT_RESUME, reason, plan)
