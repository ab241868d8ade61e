"""The plan file: typed actions written as the same JSON as before, read back (also from files
written before reason codes existed), and pairing of desired with live state."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from planworld import converged, load, write_env

from gitops.desired import DesiredState
from gitops.errors import GitopsError
from gitops.model.vocab import ActionKind, Phase, Reason
from gitops.plan import PLAN_FORMAT_VERSION, Action, FieldDiff, Plan, make_plan, summary
from gitops.plan.pairing import pair
from gitops.plan.types import legacy_reason_code
from gitops.targets.base import ActualDeployment

ACTION_JSON = {
    "kind": "update_endpoint",
    "resource": "endpoint/shop",
    "reason": "differs from git (adopting: not yet tagged as managed)",
    "diff": [{"field": "description", "before": None, "after": "shop"}],
    "endpoint": "shop",
    "name": "shop",
    "rollout": None,
    "phase": 1,
    "reason_code": "adopting",
}


def test_action_json_keys_and_values() -> None:
    action = Action(
        ActionKind.UPDATE_ENDPOINT,
        "endpoint/shop",
        "differs from git (adopting: not yet tagged as managed)",
        [FieldDiff("description", None, "shop")],
        endpoint="shop",
        name="shop",
        reason_code=Reason.ADOPTING,
    )
    assert action.phase is Phase.ENDPOINT
    assert action.to_dict() == ACTION_JSON
    # Plain JSON types: the kind is its string, the phase its int.
    assert json.loads(json.dumps(action.to_dict())) == ACTION_JSON
    assert type(action.to_dict()["kind"]) is str
    assert type(action.to_dict()["phase"]) is int
    back = Action.from_dict(ACTION_JSON)
    assert back == action
    assert back.kind is ActionKind.UPDATE_ENDPOINT


@pytest.mark.parametrize(
    ("kind", "reason", "code"),
    [
        ("create_endpoint", "declared in git, missing in target", Reason.MISSING),
        ("update_endpoint", "differs from git", Reason.DIFFERS),
        ("update_endpoint", "differs from git (adopting: not yet tagged as managed)", Reason.ADOPTING),
        ("update_endpoint", "endpoint is in Failed state; re-applying", Reason.FAILED_STATE),
        ("update_deployment", "provisioning state is Creating; re-applying", Reason.NOT_HEALTHY),
        ("replace_deployment", "instance_type cannot change in place; ...", Reason.IMMUTABLE_FIELD),
        ("set_mirror", "traffic differs from git", Reason.TRAFFIC_DIFFERS),
        ("rollout", "progressive rollout of green (3 step(s))", Reason.ROLLOUT),
        ("rollout", "resuming interrupted rollout of green at step 2/3", Reason.ROLLOUT_RESUME),
        ("rollout", "retrying rolled-back rollout of green (--retry-rollout)", Reason.ROLLOUT_RETRY),
        ("enable_monitor", "monitor is disabled in the target", Reason.DISABLED),
        ("delete_endpoint", "managed by mlops and removed from git (prune)", Reason.PRUNED),
    ],
)
def test_plan_files_without_reason_codes(kind: str, reason: str, code: Reason) -> None:
    legacy = {k: v for k, v in ACTION_JSON.items() if k != "reason_code"} | {"kind": kind, "reason": reason}
    assert Action.from_dict(legacy).reason_code is code
    assert legacy_reason_code(ActionKind(kind), reason) is code


def test_plan_round_trip_and_summary() -> None:
    plan = Plan(
        env="dev",
        target="fake",
        actions=[
            Action.from_dict(ACTION_JSON),
            Action(ActionKind.ENABLE_MONITOR, "monitor/m", "monitor is disabled in the target"),
            Action(ActionKind.ROLLOUT, "endpoint/shop", "progressive rollout of green (1 step(s))"),
        ],
        fingerprint="f" * 64,
        notes=["n"],
    )
    d = plan.to_dict()
    assert list(d) == [
        "format_version",
        "env",
        "target",
        "fingerprint",
        "actions",
        "blocked",
        "notes",
        "diverged",
        "summary",
    ]
    assert d["format_version"] == PLAN_FORMAT_VERSION
    assert (
        d["summary"] == summary(plan) == {"create": 0, "update": 2, "replace": 0, "delete": 0, "traffic": 1}
    )
    assert Plan.from_dict(json.loads(json.dumps(d))) == plan


def test_other_format_versions_are_refused() -> None:
    with pytest.raises(GitopsError, match="re-run `mlops plan --out`"):
        Plan.from_dict({"format_version": 2, "env": "dev", "target": "x", "actions": [], "fingerprint": ""})


@pytest.fixture(scope="module")
def desired(tmp_path_factory: pytest.TempPathFactory) -> DesiredState:
    return load(write_env(tmp_path_factory.mktemp("pairing")))


def test_pairing_matches_names_case_insensitively(desired: DesiredState) -> None:
    state = converged(desired).read_state()
    shop = state.endpoints.pop("shop")
    state.endpoints["Shop"] = shop
    shop.deployments["GREEN"] = shop.deployments.pop("green")
    shop.deployments["stray"] = ActualDeployment("stray", "shop", shop.deployments["blue"].entity, tags={})
    pairing = pair(desired, state)
    (ep,) = pairing.endpoints
    assert ep.actual is shop
    assert [str(d.address) for d in ep.deployments] == [
        "deployment/shop/blue",
        "deployment/shop/green",
    ]
    assert all(d.actual is not None for d in ep.deployments)
    assert [(x.actual.name, x.owned) for x in ep.live_only_deployments] == [("stray", False)]
    assert pairing.live_only_endpoints == ()
    assert pairing.owned_live_endpoints == 1
    assert [m.actual is not None for m in pairing.monitors] == [True]


def test_make_plan_takes_options_by_keyword(desired: DesiredState, tmp_path: Path) -> None:
    target = converged(desired)
    with pytest.raises(TypeError):
        make_plan(desired, target.read_state(), "fake", target.capabilities, True)  # type: ignore[misc]
    assert (
        make_plan(desired, target.read_state(), "fake", target.capabilities, allow_empty=True).actions == []
    )
