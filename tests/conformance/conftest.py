"""The two targets behind one test interface, so that one suite states what every target must do.

``world`` is parametrised over ``azureml`` (the real MLClient against the HTTPS fake ARM of
tests/gitops/fake_arm.py, gates fed by the fake Azure Monitor metrics API) and ``local`` (real
inference servers and routers on 127.0.0.1 serving the sample wine model). Both hold the same
environment: ``credit-default`` (blue 90 %, green 10 %) and ``churn-score`` (main 100 %).

A World only answers what a user could observe (traffic maps, which deployments and endpoints
exist, the CLI's output) and does what a test must do differently per target: make a deployment
fail, make a canary good or bad, add an endpoint this environment does not own.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

TESTS = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(TESTS / "gitops"))

from fake_arm import FakeArm, client_options  # noqa: E402
from fake_metrics import FakeMetrics, Series  # noqa: E402
from localkit import FIXTURES, REPO, SAMPLE, deployment_yaml, write_yaml  # noqa: E402
from stepclock import StepClock, more_requests, router_requests  # noqa: E402

from gitops import commands  # noqa: E402
from mlops.cli import main as cli_main  # noqa: E402

ENV = "conf"
DRIVER = TESTS / "apply_with_step_clock.py"
GOOD = Series(requests={("200", "200"): [120, 130]}, p95_ms=[40, 45], p99_ms=[60, 70])
BAD = Series(requests={("200", "200"): [100, 100], ("503", ""): [5, 6], ("424", "500"): [4, 4]}, p95_ms=[50])
PER_EVALUATION = 10  # local: new canary requests each gate evaluation waits for (min_requests is 8)


@dataclass
class Result:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


class World:
    kind = ""

    def __init__(self, root: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch):
        self.root = root  # the environments/ folder
        self.env_dir = root / ENV
        self.capsys = capsys
        self.monkeypatch = monkeypatch

    # ----------------------------------------------------------------- what every target shares
    def mlops(self, *argv: str) -> Result:
        self.capsys.readouterr()
        code = cli_main([*argv, "--env", ENV, "--environments", str(self.root)])
        cap = self.capsys.readouterr()
        return Result(code, cap.out, cap.err)

    def ep_dir(self, ep: str) -> Path:
        return self.env_dir / "endpoints" / ep

    def edit(self, path: Path, **changes: Any) -> None:
        data = yaml.safe_load(path.read_text())
        data.update(changes)
        path.write_text(yaml.safe_dump(data, sort_keys=False))

    def set_traffic(self, ep: str, traffic: dict[str, int]) -> None:
        self.edit(self.ep_dir(ep) / "endpoint.yml", traffic=traffic)

    def strategy(self, ep: str, steps: str, interval: str = "1s") -> None:
        (self.ep_dir(ep) / "rollout.yml").write_text(
            f"steps:\n{steps}analysis:\n  interval: {interval}\n  min_requests: 8\n  failure_limit: 2\n"
            "  error_ratio: {max: 0.02, max_increase: 0.01}\n"
        )

    def rollout_status(self, ep: str) -> dict[str, Any]:
        r = self.mlops("status", "--output", "json")
        return dict(r.json().get("rollouts", {}).get(ep) or {})

    def step_clock(self, canary_ep: str, canary: str) -> StepClock:
        clock = StepClock(self.evaluation_ready(canary_ep, canary))
        self.monkeypatch.setattr(commands, "RUNNER_OPTIONS", clock.options())
        return clock

    # ------------------------------------------------------------------------- per target
    def traffic(self, ep: str) -> dict[str, int]:
        raise NotImplementedError

    def endpoints(self) -> set[str]:
        raise NotImplementedError

    def deployments(self, ep: str) -> set[str]:
        raise NotImplementedError

    def add_unowned_endpoint(self, name: str) -> None:
        raise NotImplementedError

    def write_failing_deployment(self, ep: str, dep: str) -> None:
        raise NotImplementedError

    def good_canary(self, ep: str, dep: str) -> None:
        raise NotImplementedError

    def bad_canary(self, ep: str, dep: str) -> None:
        """Change the deployment (a new spec, so it is rolled out again) into one that fails gates."""
        raise NotImplementedError

    def load(self, ep: str) -> contextlib.AbstractContextManager[Any]:
        return contextlib.nullcontext()

    def evaluation_ready(self, ep: str, canary: str) -> Callable[[], Callable[[], bool]] | None:
        return None

    def driver_options(self, ep: str, canary: str) -> list[str]:
        return []


class AzureWorld(World):
    kind = "azureml"

    def __init__(self, fake: FakeArm, metrics: FakeMetrics, *args: Any) -> None:
        super().__init__(*args)
        self.fake = fake
        self.metrics = metrics
        shutil.copytree(REPO / "environments" / "dev", self.env_dir)
        shutil.rmtree(self.env_dir / "monitors")  # the local World has none; monitors have their own tests
        options = client_options(fake)
        options["metrics_options"] = {
            "metrics_endpoint": metrics.url + "/{location}",
            "connection_verify": str(metrics.ca_path),
        }
        self.monkeypatch.setattr(commands, "TARGET_OPTIONS", options)

    def traffic(self, ep: str) -> dict[str, int]:
        return self.fake.traffic(ep)

    def endpoints(self) -> set[str]:
        return set(self.fake.endpoints)

    def deployments(self, ep: str) -> set[str]:
        return {d for (e, d) in self.fake.deployments if e == ep}

    def add_unowned_endpoint(self, name: str) -> None:
        some = next(iter(self.fake.endpoints.values()))
        self.fake.endpoints[name] = {**some, "name": name, "tags": {"owner": "alice"}}

    def write_failing_deployment(self, ep: str, dep: str) -> None:
        shutil.copy(
            REPO / "environments" / "dev" / "endpoints" / ep / "deployments" / f"{dep}.yml",
            self.ep_dir(ep) / "deployments" / f"{dep}.yml",
        )
        self.fake.failing_deployments.add(f"{ep}/{dep}")

    def good_canary(self, ep: str, dep: str) -> None:
        for d in self.deployments(ep) | {dep}:
            self.metrics.set(ep, d, GOOD)

    def bad_canary(self, ep: str, dep: str) -> None:
        self.good_canary(ep, dep)
        self.edit(self.ep_dir(ep) / "deployments" / f"{dep}.yml", description=f"{dep}, retrained")
        self.metrics.set(ep, dep, BAD)

    def driver_options(self, ep: str, canary: str) -> list[str]:
        return [
            "--fake-arm",
            self.fake.url,
            str(self.fake.ca_path),
            str(self.fake.port),
            "--metrics",
            self.metrics.url + "/{location}",
            str(self.metrics.ca_path),
        ]


class LocalWorld(World):
    kind = "local"

    def __init__(self, registry: Any, state: Path, *args: Any) -> None:
        from gitops.targets.local import LocalEngine

        super().__init__(*args)
        self.state = state
        self.engine = LocalEngine(state, ENV, model_registry=registry.root)
        write_yaml(
            self.env_dir / "environment.yaml",
            f"target: local\nprune: true\napply:\n  concurrency: 4\n"
            f"local:\n  state_dir: {state}\n  model_registry: {registry.root}\n",
        )
        self.deployment("credit-default", "blue", 1)
        self.deployment("credit-default", "green", 2)
        self.deployment("churn-score", "main", 1)
        self.write_endpoint("credit-default", {"blue": 90, "green": 10})
        self.write_endpoint("churn-score", {"main": 100})
        self.body = (SAMPLE / "sample-request.json").read_bytes()

    def write_endpoint(self, ep: str, traffic: dict[str, int], tags: str = "") -> Path:
        lines = "traffic:\n" + "".join(f"  {k}: {v}\n" for k, v in traffic.items()) if traffic else ""
        return write_yaml(self.ep_dir(ep) / "endpoint.yml", f"name: {ep}\nauth_mode: key\n{tags}{lines}")

    def deployment(
        self, ep: str, dep: str, version: int, script: str = "score.py", env_vars: str = ""
    ) -> None:
        text = deployment_yaml(dep, ep, SAMPLE / "code", f"azureml:wine-classifier:{version}", env_vars)
        write_yaml(self.ep_dir(ep) / "deployments" / f"{dep}.yml", text.replace("score.py", script))

    def traffic(self, ep: str) -> dict[str, int]:
        row = self.engine.store.endpoint(ep)
        return {k: v for k, v in (row.traffic if row else {}).items() if v}

    def endpoints(self) -> set[str]:
        return {e["name"] for e in self.engine.read_state()}

    def deployments(self, ep: str) -> set[str]:
        return {d["name"] for e in self.engine.read_state() if e["name"] == ep for d in e["deployments"]}

    def add_unowned_endpoint(self, name: str) -> None:
        from azure.ai.ml import load_online_endpoint

        path = self.write_endpoint(name, {}, tags="tags:\n  owner: alice\n")
        spec = load_online_endpoint(path)
        path.unlink()
        shutil.rmtree(path.parent)  # made by hand, not declared in git
        self.engine.ensure_endpoint(spec)

    def write_failing_deployment(self, ep: str, dep: str) -> None:
        # A real model, so that only the scoring script's init fails (validate requires a model).
        text = deployment_yaml(dep, ep, FIXTURES / "broken_init", "azureml:wine-classifier:1")
        write_yaml(self.ep_dir(ep) / "deployments" / f"{dep}.yml", text)

    def good_canary(self, ep: str, dep: str) -> None:
        pass  # the sample model serves well

    def bad_canary(self, ep: str, dep: str) -> None:
        faults = "environment_variables:\n  WINE_FAULT_ERROR_RATE: '0.5'\n  WINE_FAULT_SEED: '5'\n"
        self.deployment(ep, dep, 2, "score_v3_faulty.py", faults)

    def load(self, ep: str) -> contextlib.AbstractContextManager[Any]:
        from gitops.rollout.loadgen import LoadGenerator

        return LoadGenerator(
            self.engine.scoring_uri(ep),
            self.engine.keys(ep)[0],
            self.body,
            max_requests=20_000,
            max_seconds=100,
        )

    def evaluation_ready(self, ep: str, canary: str) -> Callable[[], Callable[[], bool]] | None:
        return more_requests(router_requests(self.engine, ep, canary), PER_EVALUATION)

    def driver_options(self, ep: str, canary: str) -> list[str]:
        return ["--canary", str(self.state), ENV, ep, canary, str(PER_EVALUATION)]


@pytest.fixture(params=["azureml", "local"])
def world(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[World]:
    monkeypatch.setenv("MLOPS_LOCK_DIR", str(tmp_path / "locks"))
    root = tmp_path / "environments"
    if request.param == "azureml":
        # See tests/gitops/conftest.py: MLClient writes the fake cloud's name into os.environ.
        monkeypatch.setenv("AZUREML_CURRENT_CLOUD", "AzureCloud")
        fake, metrics = FakeArm(), FakeMetrics(region="eastus")
        try:
            yield AzureWorld(fake, metrics, root, capsys, monkeypatch)
        finally:
            metrics.close()
            fake.close()
    else:
        registry = request.getfixturevalue("registry")
        w = LocalWorld(registry, tmp_path / "state", root, capsys, monkeypatch)
        try:
            yield w
        finally:
            w.engine.down()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.conformance)
            item.add_marker(pytest.mark.e2e)
