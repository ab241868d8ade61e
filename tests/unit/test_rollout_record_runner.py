"""The runner saves a typed RolloutRecord, and saves it once before it moves any traffic.

On the in-memory fake target: the records it writes are RolloutRecord values (never dicts), the
first write comes before the first ``set_traffic``, and a record the target cannot store stops the
rollout with the endpoint's traffic untouched.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from fake_target import FakeTarget

from gitops.rollout.record import SMOKE_STEP, RolloutRecord, RolloutRecordTooLarge, RolloutStatus
from gitops.rollout.runner import RolloutFailed, RolloutRunner, RunSettings
from gitops.rollout.spec import Analysis, RolloutPlan, Step

EP = "credit-default-scoring-prod-euw1"
CANARY = "credit-default-green-2025-06-v12"


class RecordingTarget(FakeTarget):
    def __init__(self) -> None:
        super().__init__()
        self.records: list[RolloutRecord | None] = []
        self.seed_endpoint(SimpleNamespace(name=EP, tags={}), {"blue": 100})

    def write_rollout(self, endpoint_name: str, record: Any) -> None:
        super().write_rollout(endpoint_name, record)
        self.records.append(record)


def _plan(smoke: str | None = None) -> RolloutPlan:
    return RolloutPlan(
        id="3f2a9c0d1e4b",
        canary=CANARY,
        baseline=["blue"],
        canary_spec_hash="a1b2c3d4e5f60718",
        previous_traffic={"blue": 100},
        previous_mirror={},
        steps=[
            Step("weight 50%", {"blue": 50, CANARY: 50}, {}, 0.0, analysed=False),
            Step("final", {CANARY: 100}, {}, 0.0, analysed=False),
        ],
        analysis=Analysis(),
        smoke_request=smoke,
    )


def _run(target: FakeTarget, plan: RolloutPlan) -> str:
    ticks = iter(float(t) for t in range(1_000, 2_000))
    settings = RunSettings(revision="0123456789ab-dirty", out=lambda _: None)
    runner = RolloutRunner(target, EP, plan, None, settings, sleep=lambda _: None, clock=lambda: next(ticks))
    return runner.run()


def test_records_are_typed_and_the_first_is_written_before_any_traffic_moves() -> None:
    target = RecordingTarget()
    _run(target, _plan())
    assert all(isinstance(r, RolloutRecord) for r in target.records)
    calls = [c[0] for c in target.calls]
    assert calls == ["write_rollout", *["set_traffic", "write_rollout"] * 2, "write_rollout"]
    assert [(r.step, r.step_name) for r in target.records if r is not None] == [
        (0, "weight 50%"),
        (0, "weight 50%"),
        (1, "final"),
        (1, "final"),
    ]
    last = target.records[-1]
    assert last is not None
    assert (last.status, last.revision, last.canary) == (
        RolloutStatus.SUCCEEDED,
        "0123456789ab-dirty",
        CANARY,
    )
    assert last.previous_traffic == {"blue": 100}
    assert last.steps == ("weight 50%", "final")
    assert last.finished is not None


def test_failed_smoke_test_records_the_evidence_and_moves_no_traffic() -> None:
    target = RecordingTarget()
    target.smoke_answer = (500, b"boom")
    with pytest.raises(RolloutFailed):
        _run(target, _plan(smoke='{"data": [1]}'))
    assert "set_traffic" not in [c[0] for c in target.calls]
    first, last = target.records[0], target.records[-1]
    assert first is not None
    assert last is not None
    assert (first.step, first.status) == (SMOKE_STEP, RolloutStatus.RUNNING)
    assert last.status is RolloutStatus.FAILED
    assert "status 500" in last.evidence


@pytest.mark.parametrize("smoke", [None, '{"data": [1]}'])
def test_a_record_the_target_cannot_store_stops_before_any_traffic_moves(smoke: str | None) -> None:
    target = RecordingTarget()
    target.raise_on["write_rollout"] = RolloutRecordTooLarge(
        f"endpoint {EP}: the rollout record needs 9 tags"
    )
    with pytest.raises(RolloutRecordTooLarge):
        _run(target, _plan(smoke))
    assert [c[0] for c in target.calls] == ["write_rollout"]
    assert target.endpoints[EP].traffic == {"blue": 100}


def test_a_resumed_rollout_records_its_step_and_the_time_already_spent_first() -> None:
    target = RecordingTarget()
    plan = _plan()
    plan.resume_step, plan.resume_elapsed_s = 1, 20.0
    _run(target, plan)
    first = target.records[0]
    assert first is not None
    assert (first.step, first.step_name, first.status) == (1, "final", RolloutStatus.RUNNING)
    assert first.step_started == first.started - 20.0
    assert [c[0] for c in target.calls][:2] == ["write_rollout", "set_traffic"]
