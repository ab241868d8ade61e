"""Every planner rule, one table row each: an environment on disk (loaded with the SDK, as
``mlops plan`` does), a converged in-memory target edited per row, and the actions, refusals,
notes and divergences the plan must hold."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from planworld import ROLLOUT_YML, clone, converged, deployment_yml, load, set_line, write_env

from gitops.desired import DesiredState
from gitops.model.tags import TAG_SPEC_HASH
from gitops.model.vocab import ActionKind, Phase, Reason
from gitops.plan import Plan, make_plan
from gitops.rollout.record import RolloutRecord, RolloutStatus
from gitops.rollout.spec import rollout_id
from gitops.targets.base import (
    CAP_MIRROR_TRAFFIC,
    CAP_MONITORS,
    ActualDeployment,
    ActualEndpoint,
    ActualMonitor,
    ActualState,
)

NOW = 1_000_000.0
K = ActionKind
R = Reason
ENDPOINT_YML = "endpoints/shop/endpoint.yml"
GREEN_YML = "endpoints/shop/deployments/green.yml"
BLUE_YML = "endpoints/shop/deployments/blue.yml"
MONITOR_YML = "monitors/shop-blue.yml"
SPLIT = "name: shop\nauth_mode: key\ndescription: shop\ntraffic:\n  blue: 50\n  green: 50\n"
CANARY_10 = "name: shop\nauth_mode: key\ndescription: shop\ntraffic:\n  blue: 90\n  green: 10\n"
MIRROR_10 = (
    "name: shop\nauth_mode: key\ndescription: shop\ntraffic: {blue: 100}\nmirror_traffic: {green: 10}\n"
)
ROLLOUT = {ENDPOINT_YML: SPLIT, "endpoints/shop/rollout.yml": ROLLOUT_YML}
EMPTY_ENV = {ENDPOINT_YML: None, BLUE_YML: None, GREEN_YML: None, MONITOR_YML: None}


@dataclass(frozen=True)
class Case:
    id: str
    expect: list[tuple[ActionKind, str, Reason]]
    files: Mapping[str, str | None] = field(default_factory=dict)
    live: Callable[[ActualState], None] | None = None
    options: Mapping[str, Any] = field(default_factory=dict)
    capabilities: frozenset[str] = frozenset({CAP_MIRROR_TRAFFIC, CAP_MONITORS})
    blocked: list[str] = field(default_factory=list)  # a fragment of each refusal, in order
    notes: list[str] = field(default_factory=list)
    diverged: list[str] = field(default_factory=list)


# ---------------------------------------------------------------- live-state edits
def _shop(s: ActualState) -> ActualEndpoint:
    return s.endpoints["shop"]


def empty(s: ActualState) -> None:
    s.endpoints.clear()
    s.monitors.clear()


def untagged_endpoint(s: ActualState) -> None:
    _shop(s).tags = {}
    _shop(s).entity.tags = {}


def failed_endpoint(s: ActualState) -> None:
    _shop(s).provisioning_state = "Failed"


def green_state(state: str) -> Callable[[ActualState], None]:
    def edit(s: ActualState) -> None:
        _shop(s).deployments["green"].provisioning_state = state

    return edit


def stale_green_hash(s: ActualState) -> None:
    _shop(s).deployments["green"].tags[TAG_SPEC_HASH] = "0" * 16


def green_spelled_by_azure(s: ActualState) -> None:
    deps = _shop(s).deployments
    deps["Green"] = deps.pop("green")


def extra_deployment(owned: bool) -> Callable[[ActualState], None]:
    def edit(s: ActualState) -> None:
        green = _shop(s).deployments["green"]
        tags = dict(green.tags) if owned else {}
        _shop(s).deployments["old"] = ActualDeployment(
            "old", "shop", clone(green.entity, name="old", tags=tags), tags=tags
        )

    return edit


def extra_endpoint(owned: bool) -> Callable[[ActualState], None]:
    def edit(s: ActualState) -> None:
        tags = dict(_shop(s).tags) if owned else {"team": "someone-else"}
        s.endpoints["legacy"] = ActualEndpoint(
            "legacy", clone(_shop(s).entity, name="legacy", tags=tags), tags=tags
        )

    return edit


def no_monitor(s: ActualState) -> None:
    s.monitors.clear()


def disabled_monitor(s: ActualState) -> None:
    s.monitors["shop-blue"].enabled = False


def extra_monitor(owned: bool) -> Callable[[ActualState], None]:
    def edit(s: ActualState) -> None:
        mon = s.monitors["shop-blue"]
        tags = dict(mon.tags) if owned else {}
        s.monitors["old-mon"] = ActualMonitor(
            "old-mon", clone(mon.entity, name="old-mon", tags=tags), True, tags, "shop", "blue"
        )

    return edit


def record(status: RolloutStatus, **extra: Any) -> Callable[[ActualState], None]:
    """The endpoint carries the record of the blue -> green 50 % rollout ``ROLLOUT`` plans."""

    def edit(s: ActualState) -> None:
        fields = dict(extra)
        spec_hash = _shop(s).deployments["green"].tags[TAG_SPEC_HASH]
        rid = fields.pop("id", rollout_id("green", spec_hash, {"blue": 50, "green": 50}, {}))
        traffic = fields.pop("traffic", None)
        if traffic is not None:
            _shop(s).traffic = traffic
        _shop(s).rollout = RolloutRecord(
            id=rid, canary="green", status=status, previous_traffic={"blue": 100}, **fields
        )

    return edit


def no_traffic(s: ActualState) -> None:
    _shop(s).traffic = {}


CASES = [
    Case("converged", []),
    Case(
        "create everything",
        [
            (K.CREATE_ENDPOINT, "endpoint/shop", R.MISSING),
            (K.CREATE_DEPLOYMENT, "deployment/shop/blue", R.MISSING),
            (K.CREATE_DEPLOYMENT, "deployment/shop/green", R.MISSING),
            (K.SET_TRAFFIC, "endpoint/shop", R.TRAFFIC_DIFFERS),
            (K.CREATE_MONITOR, "monitor/shop-blue", R.MISSING),
        ],
        live=empty,
    ),
    # endpoint planner
    Case(
        "endpoint differs",
        [(K.UPDATE_ENDPOINT, "endpoint/shop", R.DIFFERS)],
        files={ENDPOINT_YML: "name: shop\nauth_mode: key\ndescription: shop v2\ntraffic:\n  blue: 100\n"},
    ),
    Case("adopting", [(K.UPDATE_ENDPOINT, "endpoint/shop", R.ADOPTING)], live=untagged_endpoint),
    Case("failed endpoint", [(K.UPDATE_ENDPOINT, "endpoint/shop", R.FAILED_STATE)], live=failed_endpoint),
    # deployments planner
    Case(
        "new deployment",
        [(K.CREATE_DEPLOYMENT, "deployment/shop/red", R.MISSING)],
        files={"endpoints/shop/deployments/red.yml": deployment_yml("red", 3)},
    ),
    Case(
        "deployment differs",
        [(K.UPDATE_DEPLOYMENT, "deployment/shop/green", R.DIFFERS)],
        files={GREEN_YML: set_line(GREEN_YML, "instance_count", "2")},
    ),
    Case(
        "spec hash differs",
        [(K.UPDATE_DEPLOYMENT, "deployment/shop/green", R.DIFFERS)],
        live=stale_green_hash,
    ),
    Case(
        "failed deployment re-applied",
        [(K.UPDATE_DEPLOYMENT, "deployment/shop/green", R.NOT_HEALTHY)],
        live=green_state("Failed"),
    ),
    Case(
        "not succeeded re-applied",
        [(K.UPDATE_DEPLOYMENT, "deployment/shop/green", R.NOT_HEALTHY)],
        live=green_state("Canceled"),
    ),
    Case("names matched case-insensitively", [], live=green_spelled_by_azure),
    Case(
        "immutable field replaced at 0 %",
        [(K.REPLACE_DEPLOYMENT, "deployment/shop/green", R.IMMUTABLE_FIELD)],
        files={GREEN_YML: set_line(GREEN_YML, "instance_type", "Standard_DS4_v2")},
    ),
    Case(
        "immutable field blocked while serving",
        [],
        files={BLUE_YML: set_line(BLUE_YML, "instance_type", "Standard_DS4_v2")},
        blocked=["instance_type of deployment shop/blue cannot change in place and it serves traffic"],
    ),
    Case(
        "immutable field blocked when it would serve",
        [(K.SET_TRAFFIC, "endpoint/shop", R.TRAFFIC_DIFFERS)],
        files={GREEN_YML: set_line(GREEN_YML, "instance_type", "Standard_DS4_v2"), ENDPOINT_YML: CANARY_10},
        blocked=[
            "green cannot change in place and it would serve traffic. "
            "Add a new deployment file (e.g. green-v2.yml)"
        ],
    ),
    # prune planner
    Case(
        "owned deployment pruned",
        [(K.DELETE_DEPLOYMENT, "deployment/shop/old", R.PRUNED)],
        live=extra_deployment(owned=True),
    ),
    Case(
        "prune off keeps deployment",
        [],
        files={"environment.yaml": set_line("environment.yaml", "prune", "false")},
        live=extra_deployment(owned=True),
        notes=["deployment/shop/old is not in git; kept because prune is off"],
    ),
    Case(
        "unowned deployment left alone",
        [],
        live=extra_deployment(owned=False),
        notes=["deployment/shop/old is not in git and not managed by mlops for 'dev'; left alone"],
    ),
    Case(
        "owned endpoint pruned", [(K.DELETE_ENDPOINT, "endpoint/legacy", R.PRUNED)], live=extra_endpoint(True)
    ),
    Case("unowned endpoint not mentioned", [], live=extra_endpoint(owned=False)),
    Case(
        "prune off keeps endpoint",
        [],
        files={"environment.yaml": set_line("environment.yaml", "prune", "false")},
        live=extra_endpoint(owned=True),
        notes=["endpoint/legacy is not in git; kept because prune is off"],
    ),
    Case(
        "allow-empty guard",
        [(K.DELETE_MONITOR, "monitor/shop-blue", R.PRUNED)],
        files=EMPTY_ENV,
        blocked=["would delete every endpoint of environment 'dev' (shop); if that is intended, re-run with"],
    ),
    Case(
        "allow-empty given",
        [(K.DELETE_MONITOR, "monitor/shop-blue", R.PRUNED), (K.DELETE_ENDPOINT, "endpoint/shop", R.PRUNED)],
        files=EMPTY_ENV,
        options={"allow_empty": True},
    ),
    # traffic planner
    Case("traffic", [(K.SET_TRAFFIC, "endpoint/shop", R.TRAFFIC_DIFFERS)], files={ENDPOINT_YML: CANARY_10}),
    Case(
        "mirror only",
        [(K.SET_MIRROR, "endpoint/shop", R.TRAFFIC_DIFFERS)],
        files={ENDPOINT_YML: MIRROR_10},
    ),
    # rollout planning
    Case("rollout starts", [(K.ROLLOUT, "endpoint/shop", R.ROLLOUT)], files=ROLLOUT),
    Case(
        "rollout resumes",
        [(K.ROLLOUT, "endpoint/shop", R.ROLLOUT_RESUME)],
        files=ROLLOUT,
        live=record(RolloutStatus.RUNNING, step=1, step_started=NOW - 60, traffic={"blue": 90, "green": 10}),
    ),
    Case(
        "rolled-back rollout diverges",
        [],
        files=ROLLOUT,
        live=record(RolloutStatus.FAILED, step=1, step_name="weight 10%", evidence="error ratio 0.2 > 0.01"),
        diverged=[
            " of green was rolled back at weight 10%: error ratio 0.2 > 0.01. "
            "Traffic stays {'blue': 100}; git wants {'blue': 50, 'green': 50}."
        ],
    ),
    Case(
        "rolled-back rollout retried",
        [(K.ROLLOUT, "endpoint/shop", R.ROLLOUT_RETRY)],
        files=ROLLOUT,
        live=record(RolloutStatus.FAILED, step=1),
        options={"retry_rollout": True},
    ),
    Case(
        "changed canary starts afresh",
        [(K.ROLLOUT, "endpoint/shop", R.ROLLOUT)],
        files=ROLLOUT,
        live=record(RolloutStatus.FAILED, id="an-older-one"),
    ),
    Case(
        "rollout disabled",
        [(K.SET_TRAFFIC, "endpoint/shop", R.TRAFFIC_DIFFERS)],
        files={ENDPOINT_YML: SPLIT, "endpoints/shop/rollout.yml": "enabled: false\n"},
    ),
    Case(
        "nothing serving: no baseline, no rollout",
        [(K.SET_TRAFFIC, "endpoint/shop", R.TRAFFIC_DIFFERS)],
        files=ROLLOUT,
        live=no_traffic,
    ),
    # monitors planner
    Case("monitor created", [(K.CREATE_MONITOR, "monitor/shop-blue", R.MISSING)], live=no_monitor),
    Case(
        "monitor differs",
        [(K.UPDATE_MONITOR, "monitor/shop-blue", R.DIFFERS)],
        files={MONITOR_YML: set_line(MONITOR_YML, "interval", "2")},
    ),
    Case("monitor enabled", [(K.ENABLE_MONITOR, "monitor/shop-blue", R.DISABLED)], live=disabled_monitor),
    Case("monitor pruned", [(K.DELETE_MONITOR, "monitor/old-mon", R.PRUNED)], live=extra_monitor(owned=True)),
    Case("unowned monitor left alone", [], live=extra_monitor(owned=False)),
    # capabilities
    Case(
        "target without monitors",
        [],
        capabilities=frozenset({CAP_MIRROR_TRAFFIC}),
        blocked=["target fake does not support monitors; remove environments/dev/monitors/"],
    ),
    Case(
        "target without mirror traffic",
        [(K.SET_MIRROR, "endpoint/shop", R.TRAFFIC_DIFFERS)],
        files={ENDPOINT_YML: MIRROR_10},
        capabilities=frozenset({CAP_MONITORS}),
        blocked=["endpoint.yml: target fake does not support mirror_traffic"],
    ),
]


@pytest.fixture(scope="session")
def base_desired(tmp_path_factory: pytest.TempPathFactory) -> DesiredState:
    """The SDK import and the BASE environment load, paid once."""
    return load(write_env(tmp_path_factory.mktemp("base")))


def plan_case(case: Case, base: DesiredState, tmp_path: Path) -> tuple[Plan, DesiredState]:
    desired = load(write_env(tmp_path, dict(case.files))) if case.files else base
    state = converged(base).read_state()
    if case.live is not None:
        case.live(state)
    plan = make_plan(desired, state, "fake", case.capabilities, now=NOW, **case.options)
    return plan, desired


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_planner_rule(case: Case, base_desired: DesiredState, tmp_path: Path) -> None:
    plan, _ = plan_case(case, base_desired, tmp_path)
    assert [(a.kind, a.resource, a.reason_code) for a in plan.actions] == case.expect
    for got, fragments in (
        (plan.blocked, case.blocked),
        (plan.notes, case.notes),
        (plan.diverged, case.diverged),
    ):
        assert len(got) == len(fragments), got
        for text, fragment in zip(got, fragments, strict=True):
            assert fragment in text, (fragment, text)


def _case(case_id: str) -> Case:
    return next(c for c in CASES if c.id == case_id)


def test_rollout_plan_carries_steps_and_baseline(base_desired: DesiredState, tmp_path: Path) -> None:
    plan, _ = plan_case(_case("rollout starts"), base_desired, tmp_path)
    (action,) = plan.actions
    assert action.reason == "progressive rollout of green (3 step(s))"
    ro = action.rollout or {}
    assert [s["name"] for s in ro["steps"]] == ["mirror 10%", "weight 10%", "final (green 50%)"]
    assert ro["baseline"] == ["blue"]
    assert ro["previous_traffic"] == {"blue": 100}
    assert (ro["resume_step"], ro["resume_elapsed_s"]) == (0, 0.0)


def test_resumed_rollout_credits_time_already_held(base_desired: DesiredState, tmp_path: Path) -> None:
    plan, _ = plan_case(_case("rollout resumes"), base_desired, tmp_path)
    (action,) = plan.actions
    assert action.reason == "resuming interrupted rollout of green at step 2/3"
    ro = action.rollout or {}
    # The baseline comes from the record, not from the step's live split (blue 90 / green 10).
    assert ro["previous_traffic"] == {"blue": 100}
    assert ro["baseline"] == ["blue"]
    assert (ro["resume_step"], ro["resume_elapsed_s"]) == (1, 60.0)


def test_update_names_the_fields(base_desired: DesiredState, tmp_path: Path) -> None:
    plan, _ = plan_case(_case("deployment differs"), base_desired, tmp_path)
    assert [(d.field, d.before, d.after) for d in plan.actions[0].diff] == [("instance_count", 1, 2)]
    plan, _ = plan_case(_case("spec hash differs"), base_desired, tmp_path)
    assert [d.field for d in plan.actions[0].diff] == ["spec"]


def test_monitor_of_a_deleted_endpoint_is_deleted_in_its_sequence(
    base_desired: DesiredState, tmp_path: Path
) -> None:
    plan, _ = plan_case(_case("allow-empty given"), base_desired, tmp_path)
    assert [(a.kind, a.endpoint, a.phase) for a in plan.actions] == [
        (K.DELETE_MONITOR, "shop", Phase.DELETE_MONITORS),
        (K.DELETE_ENDPOINT, "shop", Phase.DELETE_ENDPOINTS),
    ]
    blocked, _ = plan_case(_case("allow-empty guard"), base_desired, tmp_path / "guard")
    assert blocked.actions[0].endpoint is None  # its endpoint stays: the monitor goes on its own


def test_actions_are_ordered_by_phase_then_endpoint(base_desired: DesiredState, tmp_path: Path) -> None:
    plan, _ = plan_case(_case("create everything"), base_desired, tmp_path)
    assert [a.phase for a in plan.actions] == sorted(a.phase for a in plan.actions)
    assert plan.to_dict()["summary"] == {"create": 4, "update": 0, "replace": 0, "delete": 0, "traffic": 1}


def test_fingerprint_follows_both_sides(base_desired: DesiredState, tmp_path: Path) -> None:
    same, _ = plan_case(_case("converged"), base_desired, tmp_path)
    again, _ = plan_case(_case("converged"), base_desired, tmp_path)
    live_moved, _ = plan_case(_case("monitor enabled"), base_desired, tmp_path)
    git_moved, _ = plan_case(_case("traffic"), base_desired, tmp_path / "git")
    unowned, _ = plan_case(_case("unowned endpoint not mentioned"), base_desired, tmp_path)
    assert same.fingerprint == again.fingerprint == unowned.fingerprint
    assert len({same.fingerprint, live_moved.fingerprint, git_moved.fingerprint}) == 3


# ------------------------------------------------- traffic git does not declare (issue 13)
NO_TRAFFIC = "name: shop\nauth_mode: key\ndescription: shop\n"


def split_live(s: ActualState) -> None:
    _shop(s).traffic = {"blue": 70, "green": 30}


def live_mirror(s: ActualState) -> None:
    _shop(s).mirror_traffic = {"green": 10}


def old_serving(s: ActualState) -> None:
    extra_deployment(owned=True)(s)
    _shop(s).traffic = {"old": 100}


UNMANAGED = [
    Case(
        "absent traffic leaves the live split as it is",
        [],
        files={ENDPOINT_YML: NO_TRAFFIC},
        live=split_live,
        notes=["endpoint/shop: traffic not declared in git; left as it is ({'blue': 70, 'green': 30})"],
    ),
    Case(
        "absent mirror_traffic leaves the live mirror as it is",
        [],
        files={ENDPOINT_YML: "name: shop\nauth_mode: key\ndescription: shop\ntraffic: {blue: 100}\n"},
        live=live_mirror,
        notes=["endpoint/shop: mirror_traffic not declared in git; left as it is ({'green': 10})"],
    ),
    Case(
        "declared empty mirror stops mirroring",
        [(K.SET_MIRROR, "endpoint/shop", R.TRAFFIC_DIFFERS)],
        files={
            ENDPOINT_YML: "name: shop\nauth_mode: key\ndescription: shop\ntraffic: {blue: 100}\nmirror_traffic: {}\n"
        },
        live=live_mirror,
    ),
    Case(
        "absent traffic on a new endpoint: deployments at 0 %, and a warning",
        [
            (K.CREATE_ENDPOINT, "endpoint/shop", R.MISSING),
            (K.CREATE_DEPLOYMENT, "deployment/shop/blue", R.MISSING),
            (K.CREATE_DEPLOYMENT, "deployment/shop/green", R.MISSING),
            (K.CREATE_MONITOR, "monitor/shop-blue", R.MISSING),
        ],
        files={ENDPOINT_YML: NO_TRAFFIC},
        live=empty,
        notes=["warning: endpoint/shop will serve nothing: "],
    ),
    Case(
        "absent traffic never zeroes a serving endpoint, even with a strategy",
        [],
        files={ENDPOINT_YML: NO_TRAFFIC, "endpoints/shop/rollout.yml": ROLLOUT_YML},
        notes=["endpoint/shop: traffic not declared in git; left as it is ({'blue': 100})"],
    ),
    Case(
        "declared 0 is Azure's idle endpoint",
        [(K.SET_TRAFFIC, "endpoint/shop", R.TRAFFIC_DIFFERS)],
        files={ENDPOINT_YML: "name: shop\nauth_mode: key\ndescription: shop\ntraffic: {}\n"},
    ),
    Case(
        "a removed deployment that serves unmanaged traffic is not deleted",
        [],
        files={ENDPOINT_YML: NO_TRAFFIC},
        live=old_serving,
        blocked=["deployment/shop/old is no longer in git but serves 100% of traffic"],
        notes=["endpoint/shop: traffic not declared in git; left as it is ({'old': 100})"],
    ),
]


@pytest.mark.parametrize("case", UNMANAGED, ids=[c.id for c in UNMANAGED])
def test_unmanaged_traffic(case: Case, base_desired: DesiredState, tmp_path: Path) -> None:
    test_planner_rule(case, base_desired, tmp_path)


def test_warning_is_shown_as_a_warning(base_desired: DesiredState, tmp_path: Path) -> None:
    from gitops.views.plan import plan_markdown, plan_text

    plan, _ = plan_case(UNMANAGED[3], base_desired, tmp_path)
    text = plan_text(plan)
    assert "WARNING: endpoint/shop will serve nothing:" in text
    assert "`traffic: {blue: 100}`" in text
    assert "> [!WARNING]" in plan_markdown(plan)
