"""The views' output for small hand-built plans, results and statuses.

Text and Markdown are compared whole: PR comments, CI logs and people read them, so a change is
deliberate. JSON is parsed back and must be stable (same input, same bytes).
"""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from rich.console import Console

from gitops.model.vocab import ActionKind, Reason
from gitops.plan import Action, FieldDiff, Plan
from gitops.rollout.record import RolloutRecord, RolloutStatus
from gitops.sync import ActionResult, ResultStatus
from gitops.sync.status import EnvironmentStatus, SyncState, as_record
from gitops.views import (
    ApplyHuman,
    ApplyJSON,
    PlanJSON,
    PlanMarkdown,
    PlanText,
    StatusHuman,
    StatusJSON,
    apply_view,
    plan_json,
    plan_view,
    status_view,
)
from gitops.views.status import rollout_status

_ROLLOUT: dict[str, Any] = {
    "canary": "green",
    "baseline": ["blue"],
    "previous_traffic": {"blue": 100},
    "previous_mirror": {},
    "analysis": {
        "interval_s": 300.0,
        "min_requests": 10,
        "failure_limit": 2,
        "error_ratio": {"max": 0.01, "relative": 0.005},
        "latency_p95_ms": {"max": None, "relative": 1.5},
    },
    "smoke_request": "{}",
    "smoke_source": "smoke-request.json",
    "smoke_expect_status": 200,
    "smoke_expect_keys": ["predictions"],
    "steps": [
        {"name": "mirror 10%", "traffic": {"blue": 100}, "mirror": {"green": 10}, "duration_s": 900.0},
        {"name": "final", "traffic": {"green": 100}, "mirror": {}, "duration_s": 0},
    ],
    "resume_step": 0,
    "resume_elapsed_s": 0.0,
}


def _plan() -> Plan:
    return Plan(
        env="dev",
        target="azureml",
        actions=[
            Action(
                kind=ActionKind.UPDATE_DEPLOYMENT,
                resource="deployment/shop/green",
                reason="differs from git",
                diff=[FieldDiff("instance_count", 1, 2), FieldDiff("tags", None, {"team": "shop"})],
                endpoint="shop",
                name="green",
            ),
            Action(
                kind=ActionKind.ROLLOUT,
                resource="endpoint/shop",
                reason="progressive rollout of green (2 step(s))",
                endpoint="shop",
                name="shop",
                rollout=_ROLLOUT,
                reason_code=Reason.ROLLOUT,
            ),
            Action(
                kind=ActionKind.DELETE_DEPLOYMENT,
                resource="deployment/shop/old",
                reason="managed by mlops, removed from git",
                endpoint="shop",
                name="old",
                reason_code=Reason.PRUNED,
            ),
        ],
        fingerprint="0123456789abcdef" * 4,
        notes=["monitor/legacy is not managed by mlops; left alone"],
    )


PLAN_TEXT = """\
~ update_deployment  deployment/shop/green  (differs from git)
      instance_count: 1 -> 2
      tags: (unset) -> {"team": "shop"}
> rollout            endpoint/shop  (progressive rollout of green (2 step(s)))
      canary green vs baseline blue; rollback to blue 100%
      gates every 5m: error_ratio <= 0.01 and <= baseline + 0.005; latency_p95_ms <= 1.5x baseline; \
min 10 request(s); rollback after 2 consecutive failure(s)
      0. smoke test smoke-request.json -> green: expect 200 with keys ['predictions']
      1. mirror 10%: blue 100% + mirror green 10% for 15m
      2. final: green 100%
- delete_deployment  deployment/shop/old  (managed by mlops, removed from git)

Plan for dev (azureml): 0 to create, 1 to update, 0 to replace, 1 traffic change(s), 1 to delete.
note: monitor/legacy is not managed by mlops; left alone
"""

PLAN_MARKDOWN = """\
### mlops plan: `dev` (azureml)

> [!CAUTION]
> This plan cannot be applied:
> - deleting every endpoint needs --allow-empty

Plan for dev (azureml): 0 to create, 1 to update, 0 to replace, 1 traffic change(s), 1 to delete.

| # | action | resource | reason |
|---|---|---|---|
| 1 | `update_deployment` | `deployment/shop/green` | differs from git |
| 2 | `rollout` | `endpoint/shop` | progressive rollout of green (2 step(s)) |
| 3 | `delete_deployment` | `deployment/shop/old` | managed by mlops, removed from git |

**Rollout of `green` on `endpoint/shop`**

- canary green vs baseline blue; rollback to blue 100%
- gates every 5m: error_ratio <= 0.01 and <= baseline + 0.005; latency_p95_ms <= 1.5x baseline; \
min 10 request(s); rollback after 2 consecutive failure(s)
0. smoke test smoke-request.json -> green: expect 200 with keys ['predictions']
1. mirror 10%: blue 100% + mirror green 10% for 15m
2. final: green 100%

<details><summary>Field changes</summary>

```diff
# update_deployment deployment/shop/green
- instance_count: 1
+ instance_count: 2
+ tags: {"team": "shop"}
```

</details>

- note: monitor/legacy is not managed by mlops; left alone

<sub>fingerprint `0123456789abcdef`</sub>
"""


# ---------------------------------------------------------------------------------------- plan
def test_plan_text() -> None:
    assert PlanText().render(_plan()) == PLAN_TEXT


def test_plan_text_of_an_empty_plan() -> None:
    empty = Plan(env="dev", target="local", actions=[], fingerprint="f" * 64)
    assert PlanText().render(empty) == "No changes. Environment dev matches git.\n"
    diverged = Plan(
        env="dev", target="local", actions=[], fingerprint="f" * 64, diverged=["endpoint/shop: x"]
    )
    assert PlanText().render(diverged) == "DIVERGED: endpoint/shop: x\n"


def test_plan_markdown() -> None:
    plan = _plan()
    plan.blocked = ["deleting every endpoint needs --allow-empty"]
    assert PlanMarkdown().render(plan) == PLAN_MARKDOWN


def test_plan_markdown_without_changes() -> None:
    empty = Plan(env="dev", target="local", actions=[], fingerprint="f" * 64)
    assert PlanMarkdown().render(empty) == (
        "### mlops plan: `dev` (local)\n\nNo changes: the environment matches git.\n\n"
        f"<sub>fingerprint `{'f' * 16}`</sub>\n"
    )


def test_plan_json_round_trips_and_is_stable() -> None:
    plan = _plan()
    text = PlanJSON().render(plan)
    assert text == plan_json(plan) == PlanJSON().render(_plan())
    doc = json.loads(text)
    assert doc["summary"] == {"create": 0, "update": 1, "replace": 0, "delete": 1, "traffic": 1}
    assert [a["kind"] for a in doc["actions"]] == ["update_deployment", "rollout", "delete_deployment"]
    assert PlanText().render(Plan.from_dict(doc)) == PLAN_TEXT


@pytest.mark.parametrize(
    ("fmt", "view"), [("text", PlanText), ("json", PlanJSON), ("markdown", PlanMarkdown)]
)
def test_plan_view_factory(fmt: str, view: type) -> None:
    assert isinstance(plan_view(fmt), view)


# --------------------------------------------------------------------------------------- apply
def _console() -> tuple[Console, io.StringIO]:
    buf = io.StringIO()
    return Console(file=buf, highlight=False, soft_wrap=True, force_terminal=False, width=200), buf


def _results(plan: Plan) -> list[ActionResult]:
    update, rollout, delete = plan.actions
    return [
        ActionResult(update, ResultStatus.OK, "", 12.3456),
        ActionResult(rollout, ResultStatus.FAILED, "rollout of green rolled back to {'blue': 100}: [/gates]"),
        ActionResult(delete, ResultStatus.SKIPPED, "skipped: rollout endpoint/shop failed"),
    ]


def test_apply_view_factory() -> None:
    assert isinstance(apply_view("json"), ApplyJSON)
    assert isinstance(apply_view("text"), ApplyHuman)


def test_apply_human_results_list_what_did_not_succeed() -> None:
    err, buf = _console()
    plan = _plan()
    ApplyHuman(err).results(plan, _results(plan), skip_analysis=False)
    assert buf.getvalue() == (
        "FAILED rollout endpoint/shop rollout of green rolled back to {'blue': 100}: [/gates]\n"
        "skipped delete_deployment deployment/shop/old skipped: rollout endpoint/shop failed\n"
        "1/3 action(s) succeeded.\n"
    )


def test_apply_human_keeps_a_rollouts_summary() -> None:
    err, buf = _console()
    plan = _plan()
    ok = ActionResult(plan.actions[1], ResultStatus.OK, "rolled out through 2 step(s); last gates: pass")
    ApplyHuman(err).results(plan, [ok], skip_analysis=False)
    assert buf.getvalue() == (
        "ok rollout endpoint/shop rolled out through 2 step(s); last gates: pass\n1/1 action(s) succeeded.\n"
    )


def test_apply_human_progress_off_a_terminal_is_one_line_per_action() -> None:
    err, buf = _console()
    plan = _plan()
    view = ApplyHuman(err)
    with view.progress(plan) as observer:
        for result in _results(plan):
            observer.action_started(result.action)
            observer.action_finished(result)
    view.log("rollout shop/green: step 1/2")
    assert buf.getvalue() == (
        "  ok      update_deployment deployment/shop/green\n"
        "  failed  rollout endpoint/shop\n"
        "  skipped delete_deployment deployment/shop/old\n"
        "rollout shop/green: step 1/2\n"
    )


def test_apply_human_outcomes_without_changes() -> None:
    err, buf = _console()
    view = ApplyHuman(err)
    view.in_sync(Plan(env="dev", target="local", actions=[], fingerprint=""))
    view.diverged(
        Plan(env="dev", target="local", actions=[], fingerprint="", diverged=["endpoint/shop: [x]"])
    )
    assert buf.getvalue() == "No changes. Environment dev matches git.\nDIVERGED: endpoint/shop: [x]\n"


def test_apply_json_results_are_one_parseable_document(capsys: pytest.CaptureFixture[str]) -> None:
    err, buf = _console()
    plan = _plan()
    view = ApplyJSON(err)
    view.proposed(plan)
    with view.progress(plan) as observer:
        observer.action_finished(_results(plan)[0])
    view.results(plan, _results(plan), skip_analysis=True)
    out = capsys.readouterr().out
    assert buf.getvalue() == ""  # nothing on stderr but rollout logs and refusals
    doc = json.loads(out)
    assert doc["env"] == "dev"
    assert doc["status"] == "failed"
    assert doc["skip_analysis"] is True
    assert doc["results"][0] == {
        "kind": "update_deployment",
        "resource": "deployment/shop/green",
        "status": "ok",
        "message": "",
        "seconds": 12.346,
    }
    assert [r["status"] for r in doc["results"]] == ["ok", "failed", "skipped"]
    view.results(plan, _results(plan), skip_analysis=True)
    assert capsys.readouterr().out == out


def test_apply_json_outcomes_without_changes(capsys: pytest.CaptureFixture[str]) -> None:
    view = ApplyJSON(_console()[0])
    view.in_sync(Plan(env="dev", target="local", actions=[], fingerprint=""))
    view.diverged(Plan(env="dev", target="local", actions=[], fingerprint="", diverged=["endpoint/shop: x"]))
    lines = capsys.readouterr().out.splitlines()
    assert [json.loads(line) for line in lines] == [
        {"env": "dev", "status": "in_sync", "results": []},
        {"env": "dev", "status": "diverged", "diverged": ["endpoint/shop: x"]},
    ]


# -------------------------------------------------------------------------------------- status
_RECORD = RolloutRecord(
    id="green-abc-100",
    canary="green",
    status=RolloutStatus.RUNNING,
    baseline=("blue",),
    revision="abc123",
    steps=("mirror 10%", "weight 50%", "final"),
    step=1,
    step_name="weight 50%",
    step_started=1000.0,
    step_duration=600.0,
    gates="pass: error_ratio 0.001",
)


def _status() -> EnvironmentStatus:
    plan = _plan()
    plan.actions = plan.actions[:1]
    return EnvironmentStatus(
        env="dev",
        location="azureml workspace ws (rg)",
        state=SyncState.FAILED,
        plan=plan,
        failed=["deployment/shop/old"],
        rollouts={"shop": _RECORD},
    )


def test_status_human() -> None:
    assert StatusHuman(clock=lambda: 1400.0).render(_status()) == (
        "dev: failed (azureml workspace ws (rg))\n"
        "  failed: deployment/shop/old\n"
        "  rollout endpoint/shop: running green (rollout green-abc-100, revision abc123), "
        "step 2/3 weight 50%, 200s left in this step\n"
        "      gates: pass: error_ratio 0.001\n"
        "  update_deployment deployment/shop/green: differs from git\n"
        "      instance_count: 1 -> 2\n"
        "      tags: None -> {'team': 'shop'}\n"
    )


def test_status_json_is_parseable_and_stable() -> None:
    view = StatusJSON(clock=lambda: 1400.0)
    text = view.render(_status())
    assert text == view.render(_status())
    doc = json.loads(text)
    assert doc["status"] == "failed"
    assert doc["failed"] == ["deployment/shop/old"]
    assert [a["kind"] for a in doc["drift"]] == ["update_deployment"]
    assert doc["rollouts"]["shop"]["time_left_s"] == 200.0
    assert doc["rollouts"]["shop"]["steps"] == ["mirror 10%", "weight 50%", "final"]
    assert isinstance(status_view("json"), StatusJSON)
    assert isinstance(status_view("text"), StatusHuman)


def test_rollout_status_of_a_rolled_back_rollout() -> None:
    record = _RECORD.replace(
        status=RolloutStatus.FAILED,
        step=-1,
        step_name="",
        evidence="smoke test: status 500",
        skip_analysis=True,
    )
    ro = rollout_status(record, now=5000.0)
    assert ro["time_left_s"] is None
    assert ro["summary"] == (
        "failed green (rollout green-abc-100, revision abc123), smoke test, analysis skipped (--skip-analysis)"
    )
    assert ro["status"] == "failed"
    assert ro["evidence"] == "smoke test: status 500"


def test_a_plain_dict_record_is_read_as_the_typed_record() -> None:
    assert as_record(None) is None
    assert as_record({}) is None
    assert as_record(_RECORD) is _RECORD
    assert as_record(_RECORD.to_json()) == _RECORD
