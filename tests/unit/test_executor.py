"""The executor on the in-memory fake target: phase order, parallel endpoints, isolation of a
failed endpoint, healthy-only traffic, replace, rollouts on an injected clock, plan-order results.

Desired state is real: small YAML environments loaded by :func:`gitops.desired.load_desired`
(azure-ai-ml's loaders), once per session. Plans are either :func:`gitops.plan.make_plan` over a
fake target or hand-built actions, when a test needs an order or a mix the planner would not make.
"""

from __future__ import annotations

import copy
import dataclasses
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fake_target import FakeTarget
from planworld import DEPLOYMENT_YAML

from gitops.desired import DesiredState, load_desired
from gitops.model.tags import (
    ROLLOUT_TAG_PREFIX,
    TAG_MANAGED_BY,
    TAG_REVISION,
    TAG_SPEC_HASH,
    ownership_tags,
)
from gitops.model.vocab import ActionKind
from gitops.plan import Action, Plan, make_plan
from gitops.rollout.gates import Window
from gitops.rollout.record import RolloutStatus
from gitops.sync import HANDLERS, ActionResult, Executor, ResultStatus, SyncOptions
from gitops.targets.base import CAP_MIRROR_TRAFFIC, CAP_MONITORS

_ENVIRONMENT = (
    "target: azureml\nsubscription_id: 00000000-0000-0000-0000-000000000000\n"
    "resource_group: rg\nworkspace: ws-shop\nprune: true\ntags:\n  team: shop\napply:\n  concurrency: 4\n"
)
_MONITOR = (
    "name: shop-blue\ntrigger:\n  type: recurrence\n  frequency: day\n  interval: 1\n"
    "create_monitor:\n  compute:\n    instance_type: standard_e4s_v3\n    runtime_version: '3.4'\n"
    "  monitoring_target:\n    ml_task: classification\n    endpoint_deployment_id: azureml:shop:blue\n"
)
_ROLLOUT = (
    "steps:\n  - {weight: 10, duration: 10m}\n  - {weight: 50, duration: 10m}\n"
    "analysis:\n  provider: azureml\n  interval: 5m\n  min_requests: 10\n  failure_limit: 1\n"
    "  error_ratio: {max: 0.05}\n"
)


def _write(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def _endpoint(name: str, traffic: dict[str, int], deployments: list[str]) -> dict[str, str]:
    lines = "".join(f"  {k}: {v}\n" for k, v in traffic.items())
    files = {f"endpoints/{name}/endpoint.yml": f"name: {name}\nauth_mode: key\ntraffic:\n{lines}"}
    for i, dep in enumerate(deployments, 1):
        files[f"endpoints/{name}/deployments/{dep}.yml"] = DEPLOYMENT_YAML.format(
            name=dep, endpoint=name, version=i
        )
    return files


@pytest.fixture(scope="session")
def two_endpoints(tmp_path_factory: pytest.TempPathFactory) -> DesiredState:
    """shop (blue 50 %, green 50 %, a monitor on blue) and cart (one 100 %)."""
    root = tmp_path_factory.mktemp("executor") / "dev"
    files = {
        "environment.yaml": _ENVIRONMENT,
        **_endpoint("shop", {"blue": 50, "green": 50}, ["blue", "green"]),
        **_endpoint("cart", {"one": 100}, ["one"]),
        "monitors/shop-blue.yml": _MONITOR,
    }
    return load_desired(_write(root, files))


@pytest.fixture(scope="session")
def canary(tmp_path_factory: pytest.TempPathFactory) -> DesiredState:
    """shop moves from blue to green through two analysed weight steps."""
    root = tmp_path_factory.mktemp("executor-rollout") / "dev"
    files = {
        "environment.yaml": _ENVIRONMENT,
        **_endpoint("shop", {"green": 100}, ["blue", "green"]),
        "endpoints/shop/rollout.yml": _ROLLOUT,
    }
    return load_desired(_write(root, files))


def _action(kind: ActionKind, endpoint: str, name: str | None = None) -> Action:
    resource = f"deployment/{endpoint}/{name}" if name else f"endpoint/{endpoint}"
    return Action(kind=kind, resource=resource, reason="test", endpoint=endpoint, name=name or endpoint)


def _plan(*actions: Action) -> Plan:
    return Plan(env="dev", target="fake", actions=list(actions), fingerprint="0" * 64)


def _concurrency(desired: DesiredState, n: int) -> DesiredState:
    manifest = desired.manifest
    apply = dataclasses.replace(manifest.apply, concurrency=n)
    return dataclasses.replace(desired, manifest=dataclasses.replace(manifest, apply=apply))


def _seed(target: FakeTarget, desired: DesiredState, *names: str) -> None:
    """The named endpoints as a previous apply left them: declared traffic, tagged as owned."""
    owner = ownership_tags(desired.env, desired.manifest.tags)
    for name in names:
        ep = desired.endpoints[name]
        entity = copy.deepcopy(ep.entity)
        entity.tags = {**(entity.tags or {}), **owner}
        target.seed_endpoint(entity, ep.traffic)
        for dep in ep.deployments.values():
            dentity = copy.deepcopy(dep.entity)
            dentity.tags = {**(dentity.tags or {}), **owner, TAG_SPEC_HASH: dep.spec_hash}
            target.seed_deployment(dentity)


def _run(
    plan: Plan, desired: DesiredState, target: FakeTarget, **options: Any
) -> tuple[list[ActionResult], list[str]]:
    events: list[str] = []

    class Observer:
        def action_started(self, action: Action) -> None:
            events.append(f"start {action.kind} {action.resource}")

        def action_finished(self, result: ActionResult) -> None:
            events.append(f"{result.status} {result.action.kind} {result.action.resource}")

    opts = SyncOptions(**{"revision": "abc123", "log": lambda _: None, **options})
    results = Executor(plan, desired, target.read_state(), target, options=opts, observer=Observer()).run()
    return results, events


def _calls(target: FakeTarget, endpoint: str) -> list[tuple[str, ...]]:
    return [c for c in target.calls if len(c) > 1 and c[1] == endpoint]


def _statuses(results: list[ActionResult]) -> list[tuple[str, str, str]]:
    return [(str(r.action.kind), r.action.resource, str(r.status)) for r in results]


# --------------------------------------------------------------------------------------- order
def test_every_action_kind_has_a_handler() -> None:
    assert set(HANDLERS) == set(ActionKind)


def test_fresh_environment_runs_in_phase_order_per_endpoint(two_endpoints: DesiredState) -> None:
    target = FakeTarget()
    plan = make_plan(two_endpoints, target.read_state(), target.kind, target.capabilities)
    results, _ = _run(plan, two_endpoints, target)

    assert [r.status for r in results] == [ResultStatus.OK] * len(plan.actions)
    assert [r.action for r in results] == plan.actions  # plan order, whatever ran first
    shop = [c[0] for c in _calls(target, "shop")]
    assert shop == [
        "create_or_update_endpoint",
        "create_or_update_deployment",
        "create_or_update_deployment",
        "set_traffic",
    ]
    assert target.endpoints["shop"].traffic == {"blue": 50, "green": 50}
    assert target.endpoints["cart"].traffic == {"one": 100}
    assert set(target.monitors) == {"shop-blue"}


def test_actions_are_sorted_by_phase_and_results_keep_plan_order(two_endpoints: DesiredState) -> None:
    target = FakeTarget()
    plan = _plan(
        _action(ActionKind.SET_TRAFFIC, "shop"),
        _action(ActionKind.CREATE_DEPLOYMENT, "shop", "green"),
        _action(ActionKind.CREATE_DEPLOYMENT, "shop", "blue"),
        _action(ActionKind.CREATE_ENDPOINT, "shop"),
    )
    results, events = _run(plan, two_endpoints, target)

    assert [c[0] for c in target.calls] == [
        "create_or_update_endpoint",
        "create_or_update_deployment",
        "create_or_update_deployment",
        "set_traffic",
    ]
    # Within one phase the plan's order holds (the sort is stable).
    assert [c[2] for c in target.calls if c[0] == "create_or_update_deployment"] == ["green", "blue"]
    assert [r.action for r in results] == plan.actions
    assert events[:2] == ["start create_endpoint endpoint/shop", "ok create_endpoint endpoint/shop"]


def test_written_entities_carry_ownership_revision_and_spec_hash(two_endpoints: DesiredState) -> None:
    target = FakeTarget()
    plan = make_plan(two_endpoints, target.read_state(), target.kind, target.capabilities)
    _run(plan, two_endpoints, target)

    entity, _ = target.endpoints["shop"].deployments["blue"]
    assert entity.tags[TAG_MANAGED_BY] == "mlops-gitops"
    assert entity.tags[TAG_REVISION] == "abc123"
    assert entity.tags[TAG_SPEC_HASH] == two_endpoints.endpoints["shop"].deployments["blue"].spec_hash
    assert entity.tags["team"] == "shop"
    assert target.endpoints["shop"].entity.tags[TAG_REVISION] == "abc123"


# ------------------------------------------------------------------------------------ parallel
class _MeetingTarget(FakeTarget):
    """Endpoint writes wait for each other: passes only if endpoints really run side by side."""

    def __init__(self, parties: int) -> None:
        super().__init__(frozenset({CAP_MIRROR_TRAFFIC, CAP_MONITORS}))
        self.barrier = threading.Barrier(parties, timeout=10)
        self.active = 0
        self.most_active = 0
        self._guard = threading.Lock()

    def create_or_update_endpoint(self, endpoint: Any) -> None:
        with self._guard:
            self.active += 1
            self.most_active = max(self.most_active, self.active)
        try:
            if self.barrier.parties > 1:
                self.barrier.wait()
            super().create_or_update_endpoint(endpoint)
        finally:
            with self._guard:
                self.active -= 1


def test_endpoints_run_in_parallel_up_to_concurrency(two_endpoints: DesiredState) -> None:
    target = _MeetingTarget(parties=2)
    plan = make_plan(two_endpoints, target.read_state(), target.kind, target.capabilities)
    results, _ = _run(plan, two_endpoints, target)

    assert all(r.ok for r in results), [r.message for r in results if not r.ok]
    assert target.most_active == 2


def test_concurrency_one_runs_endpoints_one_after_the_other(two_endpoints: DesiredState) -> None:
    desired = _concurrency(two_endpoints, 1)
    target = _MeetingTarget(parties=1)
    plan = make_plan(desired, target.read_state(), target.kind, target.capabilities)
    results, _ = _run(plan, desired, target)

    assert all(r.ok for r in results)
    assert target.most_active == 1
    first = target.calls[0][1]
    # A whole endpoint finishes before the next one starts.
    endpoints = [c[1] for c in target.calls if c[0] != "create_or_update_monitor"]
    assert endpoints == sorted(endpoints, key=lambda e: e != first)


# ----------------------------------------------------------------------------------- isolation
def test_failed_deployment_isolates_its_endpoint_only(two_endpoints: DesiredState) -> None:
    target = FakeTarget()
    target.fail_deployments = {"green"}
    plan = _plan(
        _action(ActionKind.CREATE_ENDPOINT, "shop"),
        _action(ActionKind.CREATE_DEPLOYMENT, "shop", "green"),
        _action(ActionKind.CREATE_DEPLOYMENT, "shop", "blue"),
        _action(ActionKind.SET_TRAFFIC, "shop"),
        _action(ActionKind.DELETE_DEPLOYMENT, "shop", "old"),
        _action(ActionKind.CREATE_ENDPOINT, "cart"),
        _action(ActionKind.CREATE_DEPLOYMENT, "cart", "one"),
        _action(ActionKind.SET_TRAFFIC, "cart"),
    )
    results, _ = _run(plan, two_endpoints, target)

    assert _statuses(results) == [
        ("create_endpoint", "endpoint/shop", "ok"),
        ("create_deployment", "deployment/shop/green", "failed"),
        ("create_deployment", "deployment/shop/blue", "ok"),  # the sibling still rolls out
        ("set_traffic", "endpoint/shop", "skipped"),
        ("delete_deployment", "deployment/shop/old", "skipped"),
        ("create_endpoint", "endpoint/cart", "ok"),
        ("create_deployment", "deployment/cart/one", "ok"),
        ("set_traffic", "endpoint/cart", "ok"),
    ]
    assert results[1].message == "deployment shop/green ended in state Failed"
    reason = "skipped: deployment green failed, traffic left unchanged"
    assert results[3].message == results[4].message == reason
    assert not any(c[0] in ("set_traffic", "delete_deployment") for c in _calls(target, "shop"))
    assert target.endpoints["cart"].traffic == {"one": 100}


class _EndpointFails(FakeTarget):
    def create_or_update_endpoint(self, endpoint: Any) -> None:
        if endpoint.name == "shop":
            self.calls.append(("create_or_update_endpoint", endpoint.name))
            raise RuntimeError("409 Conflict: the endpoint is being updated\nretry later")
        super().create_or_update_endpoint(endpoint)


def test_failing_endpoint_update_stops_its_group(two_endpoints: DesiredState) -> None:
    target = _EndpointFails()
    _seed(target, two_endpoints, "shop", "cart")
    plan = _plan(
        _action(ActionKind.UPDATE_ENDPOINT, "shop"),
        _action(ActionKind.UPDATE_DEPLOYMENT, "shop", "blue"),
        _action(ActionKind.SET_TRAFFIC, "shop"),
        _action(ActionKind.UPDATE_ENDPOINT, "cart"),
    )
    results, _ = _run(plan, two_endpoints, target)

    assert _statuses(results) == [
        ("update_endpoint", "endpoint/shop", "failed"),
        ("update_deployment", "deployment/shop/blue", "skipped"),
        ("set_traffic", "endpoint/shop", "skipped"),
        ("update_endpoint", "endpoint/cart", "ok"),
    ]
    assert results[0].message == "409 Conflict: the endpoint is being updated"  # first line only
    assert results[1].message == "skipped: update_endpoint endpoint/shop failed"
    assert _calls(target, "shop") == [("create_or_update_endpoint", "shop")]


# ------------------------------------------------------------------------------------- traffic
def test_traffic_is_refused_to_an_unhealthy_deployment(two_endpoints: DesiredState) -> None:
    target = FakeTarget()
    _seed(target, two_endpoints, "shop")
    target.endpoints["shop"].traffic = {"blue": 100}
    green = target.endpoints["shop"].deployments["green"][0]
    target.seed_deployment(green, "Failed")
    results, _ = _run(_plan(_action(ActionKind.SET_TRAFFIC, "shop")), two_endpoints, target)

    assert _statuses(results) == [("set_traffic", "endpoint/shop", "failed")]
    assert results[0].message == (
        "refusing to send traffic to green: not healthy on shop; traffic left unchanged"
    )
    assert not [c for c in target.calls if c[0] == "set_traffic"]
    assert target.endpoints["shop"].traffic == {"blue": 100}


def test_deployment_made_healthy_in_this_apply_may_take_traffic(two_endpoints: DesiredState) -> None:
    target = FakeTarget()
    _seed(target, two_endpoints, "shop")
    green = target.endpoints["shop"].deployments["green"][0]
    target.seed_deployment(green, "Failed")
    plan = _plan(
        _action(ActionKind.UPDATE_DEPLOYMENT, "shop", "green"), _action(ActionKind.SET_TRAFFIC, "shop")
    )
    results, _ = _run(plan, two_endpoints, target)

    assert [r.status for r in results] == [ResultStatus.OK, ResultStatus.OK]
    assert target.endpoints["shop"].traffic == {"blue": 50, "green": 50}


def test_endpoint_update_keeps_live_traffic_and_rollout_tags(two_endpoints: DesiredState) -> None:
    target = FakeTarget()
    _seed(target, two_endpoints, "shop")
    target.endpoints["shop"].traffic = {"blue": 100}
    target.endpoints["shop"].entity.tags = {"team": "old", f"{ROLLOUT_TAG_PREFIX}-0": "record"}
    results, _ = _run(_plan(_action(ActionKind.UPDATE_ENDPOINT, "shop")), two_endpoints, target)

    assert results[0].ok
    ep = target.endpoints["shop"]
    assert ep.traffic == {"blue": 100}  # traffic moves only in the traffic phase
    assert ep.entity.tags[f"{ROLLOUT_TAG_PREFIX}-0"] == "record"
    assert ep.entity.tags["team"] == "shop"


def test_replace_deletes_then_creates(two_endpoints: DesiredState) -> None:
    target = FakeTarget()
    _seed(target, two_endpoints, "shop")
    results, _ = _run(_plan(_action(ActionKind.REPLACE_DEPLOYMENT, "shop", "green")), two_endpoints, target)

    assert results[0].ok
    assert target.calls == [
        ("delete_deployment", "shop", "green"),
        ("create_or_update_deployment", "shop", "green"),
    ]


def test_deletes_run_last_monitors_first(two_endpoints: DesiredState) -> None:
    target = FakeTarget()
    _seed(target, two_endpoints, "shop")
    monitor = Action(
        kind=ActionKind.DELETE_MONITOR, resource="monitor/old", reason="test", endpoint="shop", name="old"
    )
    plan = _plan(
        _action(ActionKind.DELETE_ENDPOINT, "shop"),
        _action(ActionKind.DELETE_DEPLOYMENT, "shop", "green"),
        monitor,
    )
    results, _ = _run(plan, two_endpoints, target)

    assert all(r.ok for r in results)
    assert [c[0] for c in target.calls] == ["delete_monitor", "delete_deployment", "delete_endpoint"]


# ------------------------------------------------------------------------------------ rollouts
class _Metrics:
    name = "fake"

    def __init__(self, errors: int) -> None:
        self.errors = errors

    def begin(self, endpoint: str, window_start: float) -> None:
        return None

    def windows(self, endpoint: str, deployments: list[str], window_start: float) -> dict[str, Window]:
        return {d: Window(requests=100, errors=self.errors if d == "green" else 0) for d in deployments}


class _FakeClock:
    def __init__(self) -> None:
        self.now = 1_000_000.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def _rollout_world(canary: DesiredState, errors: int) -> tuple[FakeTarget, Plan]:
    target = FakeTarget()
    _seed(target, canary, "shop")
    target.endpoints["shop"].traffic = {"blue": 100}
    target.metrics = _Metrics(errors)
    plan = make_plan(canary, target.read_state(), target.kind, target.capabilities)
    assert [a.kind for a in plan.actions] == ["rollout"]
    return target, plan


def _record_status(target: FakeTarget) -> str:
    record = target.endpoints["shop"].rollout
    status: Any = getattr(record, "status", None) or record["status"]
    return str(status)


def test_rollout_runs_on_the_injected_clock(canary: DesiredState) -> None:
    target, plan = _rollout_world(canary, errors=0)
    fake = _FakeClock()
    results, _ = _run(plan, canary, target, sleep=fake.sleep, clock=fake.clock)

    assert results[0].ok, results[0].message
    assert results[0].message.startswith("rolled out through")
    assert sum(fake.sleeps) == 20 * 60  # two 10-minute steps, no wall time spent
    assert target.endpoints["shop"].traffic == {"green": 100}
    assert _record_status(target) == RolloutStatus.SUCCEEDED


def test_failed_gate_rolls_back_and_fails_the_action(canary: DesiredState) -> None:
    target, plan = _rollout_world(canary, errors=50)
    fake = _FakeClock()
    logged: list[str] = []
    results, _ = _run(plan, canary, target, sleep=fake.sleep, clock=fake.clock, log=logged.append)

    assert results[0].status is ResultStatus.FAILED
    assert "rolled back" in results[0].message
    assert target.endpoints["shop"].traffic == {"blue": 100}
    assert _record_status(target) == RolloutStatus.FAILED
    assert any("ROLLING BACK" in line for line in logged)


def test_skip_analysis_goes_to_final_traffic_without_metrics(canary: DesiredState) -> None:
    target, plan = _rollout_world(canary, errors=50)
    target.metrics = None
    sleeps: list[float] = []
    sleep: Callable[[float], None] = sleeps.append
    results, _ = _run(plan, canary, target, skip_analysis=True, sleep=sleep)

    assert results[0].ok
    assert results[0].message.startswith("analysis skipped (--skip-analysis)")
    assert sleeps == []
    assert target.endpoints["shop"].traffic == {"green": 100}
