"""What every target must do, asserted the same way on each (``world``: tests/conformance/conftest.py).

Target-specific detail (request counts and ordering against the fake ARM, the local router's
processes) stays in tests/gitops/ and tests/local/; here only what a user observes: traffic maps,
which endpoints and deployments exist, and what plan, apply and status say.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from stepclock import wait_for

CREDIT, CHURN = "credit-default", "churn-score"
DRIVER = Path(__file__).resolve().parents[1] / "apply_with_step_clock.py"


def converge(world: Any) -> None:
    r = world.mlops("apply", "--auto-approve")
    assert r.code == 0, r.out + r.err


def test_first_apply_then_plan_is_empty(world: Any) -> None:
    converge(world)
    assert world.traffic(CREDIT) == {"blue": 90, "green": 10}
    assert world.traffic(CHURN) == {"main": 100}
    assert world.deployments(CREDIT) == {"blue", "green"}
    r = world.mlops("plan", "--detailed-exitcode")
    assert r.code == 0, r.out + r.err
    assert "No changes" in r.out, r.out + r.err


def test_blue_green_traffic_move(world: Any) -> None:
    converge(world)
    world.set_traffic(CREDIT, {"blue": 20, "green": 80})
    r = world.mlops("plan", "--detailed-exitcode")
    assert r.code == 2, r.out
    assert "set_traffic" in r.out, r.out
    assert "deployment/" not in r.out  # nothing else changes
    converge(world)
    assert world.traffic(CREDIT) == {"blue": 20, "green": 80}


def test_failed_deployment_gets_no_traffic_and_other_endpoint_goes_on(world: Any) -> None:
    (world.ep_dir(CREDIT) / "deployments" / "green.yml").unlink()
    world.set_traffic(CREDIT, {"blue": 100})
    converge(world)

    world.write_failing_deployment(CREDIT, "green")
    world.set_traffic(CREDIT, {"blue": 90, "green": 10})
    # The other endpoint's change is metadata only: cheap on every target, and it must still happen.
    world.edit(world.ep_dir(CHURN) / "endpoint.yml", description="churn scoring, described")
    r = world.mlops("apply", "--auto-approve", "--output", "json")
    assert r.code == 1, r.out + r.err
    results = {x["resource"]: x["status"] for x in r.json()["results"]}
    assert results["deployment/credit-default/green"] == "failed"
    assert results["endpoint/credit-default"] == "skipped"  # its traffic change
    assert results["endpoint/churn-score"] == "ok"
    assert world.traffic(CREDIT) == {"blue": 100}
    s = world.mlops("status", "--output", "json", "--detailed-exitcode")
    assert s.code == 2, s.out
    assert s.json()["status"] == "failed", s.out
    assert s.json()["failed"] == ["deployment/credit-default/green"]


def test_prune_removes_owned_and_leaves_unowned(world: Any) -> None:
    converge(world)
    world.add_unowned_endpoint("handmade")
    shutil.rmtree(world.ep_dir(CHURN))
    (world.ep_dir(CREDIT) / "deployments" / "green.yml").unlink()
    world.set_traffic(CREDIT, {"blue": 100})
    r = world.mlops("plan")
    assert "delete_endpoint" in r.out, r.out
    assert "endpoint/churn-score" in r.out, r.out
    assert "delete_deployment" in r.out
    assert "deployment/credit-default/green" in r.out
    assert "handmade" not in r.out
    converge(world)
    assert world.endpoints() == {CREDIT, "handmade"}
    assert world.deployments(CREDIT) == {"blue"}
    assert world.traffic(CREDIT) == {"blue": 100}


def test_rollout_passes_its_gates(world: Any) -> None:
    converge(world)
    world.strategy(CREDIT, "  - {weight: 50, duration: 2s}\n")
    world.good_canary(CREDIT, "green")
    world.set_traffic(CREDIT, {"green": 100})
    r = world.mlops("plan")
    assert "progressive rollout of green" in r.out
    assert "1. weight 50%: blue 50%, green 50% for 2s" in r.out
    clock = world.step_clock(CREDIT, "green")
    with world.load(CREDIT):
        r = world.mlops("apply", "--auto-approve")
    assert r.code == 0, r.out + r.err
    assert "gates [pass]" in r.err, r.err
    assert clock.elapsed == 2.0  # the step's declared length, on rollout time
    assert world.traffic(CREDIT) == {"green": 100}
    assert world.mlops("plan", "--detailed-exitcode").code == 0


def test_rollout_rolls_back_and_plan_shows_diverged(world: Any) -> None:
    converge(world)
    world.strategy(CREDIT, "  - {weight: 50, duration: 4s}\n")
    world.bad_canary(CREDIT, "green")
    world.set_traffic(CREDIT, {"green": 100})
    world.step_clock(CREDIT, "green")
    with world.load(CREDIT):
        r = world.mlops("apply", "--auto-approve")
    assert r.code == 1, r.out + r.err
    assert "ROLLING BACK" in r.err, r.err
    assert "error_ratio" in r.err, r.err
    assert world.traffic(CREDIT) == {"blue": 100}  # the failed canary's share went to blue
    r = world.mlops("plan", "--detailed-exitcode")
    assert r.code == 2, r.out
    assert "DIVERGED: endpoint/credit-default: rollout" in r.out, r.out
    assert "diverged" in world.mlops("status").out


def test_apply_killed_mid_step_resumes_at_its_step(world: Any) -> None:
    converge(world)
    # One gate evaluation per 10s of rollout time. The killed apply's clock starts 30s in the past,
    # so its step 2 has had about 20s when it is killed: the resumed apply must count them.
    world.strategy(CREDIT, "  - {weight: 30, duration: 10s}\n  - {weight: 60, duration: 60s}\n", "10s")
    world.good_canary(CREDIT, "green")
    world.set_traffic(CREDIT, {"green": 100})
    driver = [sys.executable, str(DRIVER), "--hold-after", "1", "--start", str(time.time() - 30)]
    driver += world.driver_options(CREDIT, "green")
    cmd = [*driver, "--", "apply", "--auto-approve", "--env", "conf", "--environments", str(world.root)]
    with world.load(CREDIT):
        proc = subprocess.Popen(
            cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True
        )
        try:
            wait_for(
                lambda: proc.poll() is not None or world.rollout_status(CREDIT).get("step") == 1,
                "the apply to reach step 2",
            )
            assert proc.poll() is None, proc.communicate()[0]
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)  # mid-step, its progress written
            proc.wait(timeout=10)
        assert world.traffic(CREDIT) == {"blue": 40, "green": 60}
        r = world.mlops("plan")
        assert "resuming interrupted rollout of green at step 2/3" in r.out, r.out
        clock = world.step_clock(CREDIT, "green")
        r = world.mlops("apply", "--auto-approve")
    assert r.code == 0, r.out + r.err
    assert "resuming at step 2/3 (weight 60%)" in r.err, r.err
    assert "step 1/3" not in r.err, r.err
    assert 0 < clock.elapsed < 60, clock.sleeps  # the time already spent in the step counted
    assert world.traffic(CREDIT) == {"green": 100}
