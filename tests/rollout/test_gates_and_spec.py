"""Pure parts of rollouts: gate decisions, consecutive failures, step expansion, rollback maps."""

from __future__ import annotations

from pathlib import Path

import pytest

from gitops.rollout.gates import (
    FAIL,
    INCONCLUSIVE,
    PASS,
    GateState,
    Window,
    advance,
    evaluate,
    percentile_from_buckets,
    step_outcome,
)
from gitops.rollout.runner import rollback_maps, smoke_check
from gitops.rollout.spec import Analysis, Gate, build_spec, expand_steps, format_duration, parse_duration
from gitops.targets.local.metrics import window_from_stats

A = Analysis(
    min_requests=10,
    failure_limit=2,
    error_ratio=Gate(max=0.05, relative=0.02),
    latency_p95_ms=Gate(max=300, relative=2.0),
)


def test_thresholds_absolute_and_relative() -> None:
    base = Window(1000, 10, 50, 80)
    assert evaluate(A, base, Window(100, 2, 60, 90)).verdict == PASS
    d = evaluate(A, base, Window(100, 6, 60, 90))  # 0.06 > 0.05 and 0.06 - 0.01 > 0.02
    assert d.verdict == FAIL
    assert [c.ok for c in d.checks if c.gate == "error_ratio"] == [False, False]
    d = evaluate(A, base, Window(100, 0, 120, 150))  # under 300 ms but 2.4x the baseline
    assert d.verdict == FAIL
    assert "latency_p95_ms 120 / baseline 50 > 2x" in d.evidence()
    assert evaluate(A, base, Window(9, 9, 900, 900)).verdict == INCONCLUSIVE
    # An idle baseline: the relative checks are skipped, the absolute ones decide.
    d = evaluate(A, Window(0, 0), Window(50, 0, 100, 100))
    assert d.verdict == PASS
    assert any("skipped" in c.note for c in d.checks)


def test_consecutive_failure_limit_and_step_outcome() -> None:
    s = GateState()
    fail, ok = evaluate(A, None, Window(100, 50, 50)), evaluate(A, None, Window(100, 0, 50))
    assert not advance(s, fail, 2)
    assert not advance(s, ok, 2)  # a pass resets the count
    assert not advance(s, fail, 2)
    assert advance(s, fail, 2)
    assert step_outcome(GateState(), "fail")[0] is False
    s2 = GateState()
    advance(s2, evaluate(A, None, Window(1, 0)), 2)
    assert step_outcome(s2, "fail")[0] is False
    assert step_outcome(s2, "pass")[0] is True


def test_histogram_percentiles_and_windows() -> None:
    bounds = [10.0, 100.0, 1000.0]
    assert percentile_from_buckets(bounds, [90, 9, 1, 0], 0.95) == 100.0
    assert percentile_from_buckets(bounds, [0, 0, 0, 5], 0.5) == 2000.0
    assert percentile_from_buckets(bounds, [0, 0, 0, 0], 0.5) is None
    before = {"requests": 10, "status": {"5xx": 1}, "model_errors": 2, "latency_buckets": [10, 0, 0, 0]}
    after = {"requests": 30, "status": {"5xx": 3}, "model_errors": 7, "latency_buckets": [10, 19, 1, 0]}
    w = window_from_stats(before, after, bounds)
    assert (w.requests, w.errors, w.p95_ms) == (20, 7, 100.0)


def test_steps_skip_weights_beyond_target_and_end_at_git(tmp_path: Path) -> None:
    spec = build_spec(
        {
            "steps": [
                {"mirror": 10, "duration": "5s"},
                {"weight": 10, "duration": "1m"},
                {"weight": 50, "duration": "500ms"},
            ]
        },
        tmp_path,
        "x",
        1.0,
    )
    steps = expand_steps(spec, "green", {"blue": 100}, {"green": 100}, {})
    assert [(s.name, s.traffic, s.mirror, s.duration_s) for s in steps] == [
        ("mirror 10%", {"blue": 100}, {"green": 10}, 5.0),
        ("weight 10%", {"green": 10, "blue": 90}, {}, 60.0),
        ("weight 50%", {"green": 50, "blue": 50}, {}, 0.5),
        ("final (green 100%)", {"green": 100}, {}, 0.0),
    ]
    partial = expand_steps(spec, "green", {"blue": 60, "red": 40}, {"blue": 60, "green": 20, "red": 20}, {})
    assert [s.name for s in partial] == ["mirror 10%", "weight 10%", "final (green 20%)"]
    assert partial[1].traffic == {"green": 10, "blue": 54, "red": 36}
    with pytest.raises(ValueError, match="not a duration"):
        parse_duration("5 minutes")


@pytest.mark.parametrize("text", ["500ms", "2s", "90s", "15m", "90m", "2h"])
def test_plan_shows_durations_as_written(text: str) -> None:
    shown = format_duration(parse_duration(text))
    assert parse_duration(shown) == parse_duration(text)
    assert shown == {"500ms": "0.5s", "90s": "90s"}.get(text, text)


def test_rollback_restores_previous_maps_never_the_canary() -> None:
    assert rollback_maps({"blue": 100}, {"blue": 0}, "green") == ({"blue": 100}, {})
    assert rollback_maps({"blue": 80, "green": 20}, {"red": 10}, "green") == ({"blue": 100}, {"red": 10})
    assert smoke_check(200, b'{"predictions": [1]}', 200, ["predictions"]) == ""
    assert "lacks key" in smoke_check(200, b'{"x": 1}', 200, ["predictions"])
    assert "status 500" in smoke_check(500, b"boom", 200, [])
