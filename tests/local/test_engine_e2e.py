"""The engine against real processes on 127.0.0.1: one environment shared by the whole module.

Tests run in file order and build on each other (apply -> traffic -> failures -> drift -> down),
the way a user drives an environment; the module fixture always stops everything at the end.
"""

from __future__ import annotations

import math
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gitops.targets.local import DeploymentFailedError, LocalEngine, LocalTargetError, ModelRegistry
from gitops.targets.local import process as proc
from gitops.targets.local.datacollect import read_collected

EP = "wine-e2e"


class Env:
    def __init__(self, engine: LocalEngine, root: Path, h: Any) -> None:
        from azure.ai.ml import load_online_deployment, load_online_endpoint

        self.engine = engine
        self.root = root
        self.h = h
        self.load_endpoint = load_online_endpoint
        self.load_deployment = load_online_deployment
        self.request = __import__("json").loads((h.sample / "sample-request.json").read_text())

    def endpoint(self) -> Any:
        return self.load_endpoint(self.root / "endpoint.yml")

    def deployment(self, name: str) -> Any:
        return self.load_deployment(self.root / f"{name}.yml")

    @property
    def url(self) -> str:
        return self.engine.scoring_uri(EP)

    @property
    def key(self) -> str:
        return self.engine.keys(EP)[0]

    def score(self, payload: Any = None, **kw: Any) -> Any:
        kw.setdefault("key", self.key)
        return self.h.score(self.url, self.request if payload is None else payload, **kw)

    def pids(self) -> set[int]:
        pids = set()
        for ep in self.engine.read_state():
            pids.add(ep["router_pid"])
            pids |= {d["pid"] for d in ep["deployments"] if d["pid"]}
        return pids


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory, registry: ModelRegistry, h: Any) -> Iterator[Env]:
    root = tmp_path_factory.mktemp("env")
    code = h.sample / "code"
    h.write_yaml(root / "endpoint.yml", f"name: {EP}\nauth_mode: key\ntraffic:\n  blue: 100\n")
    collect = (
        "data_collector:\n  collections:\n    model_inputs:\n      enabled: 'true'\n"
        "    model_outputs:\n      enabled: 'true'\n"
    )
    h.write_yaml(root / "blue.yml", h.deployment_yaml("blue", EP, code, "azureml:wine-classifier:1", collect))
    h.write_yaml(root / "green.yml", h.deployment_yaml("green", EP, code, "azureml:wine-classifier:2"))
    h.write_yaml(root / "broken.yml", h.deployment_yaml("broken", EP, h.fixtures / "broken_init", None))
    h.write_yaml(root / "echo.yml", h.deployment_yaml("echo", EP, h.fixtures / "echo", None))
    engine = LocalEngine(tmp_path_factory.mktemp("state"), "e2e", model_registry=registry.root)
    e = Env(engine, root, h)
    try:
        yield e
    finally:
        leftover = e.pids()
        engine.down()
        for pid in leftover:
            assert not proc.group_members(pid), f"process group {pid} survived down()"


def test_apply_from_empty_serves_both_versions(env: Env) -> None:
    assert env.engine.read_state() == []
    ep = env.engine.ensure_endpoint(env.endpoint())
    assert ep.action == "created"
    assert ep.scoring_uri.startswith("http://127.0.0.1:")
    results = env.engine.ensure_deployments([env.deployment("blue"), env.deployment("green")])
    assert [(r.name, r.action, r.status) for r in results] == [
        ("blue", "created", "Succeeded"),
        ("green", "created", "Succeeded"),
    ]
    assert any(
        "instance_type=Standard_DS3_v2 is not applicable locally" in n for n in results[0].not_applicable
    )
    assert env.engine.set_traffic(EP, env.endpoint().traffic, {}) is True
    r = env.score()
    assert r.status == 200, r.body
    assert r.headers["azureml-model-deployment"] == "blue"
    assert r.json()["model_version"] == "v1"
    assert r.json()["predictions"] == [0, 1, 2]
    r = env.score(deployment="green")
    assert r.status == 200
    assert r.json()["model_version"] == "v2"


def test_servers_listen_on_loopback_only(env: Env) -> None:
    for d in env.engine.read_state()[0]["deployments"]:
        # Any non-loopback address of this machine must not reach the server.
        import socket

        with socket.socket() as s:
            s.settimeout(1)
            assert s.connect_ex(("127.0.0.1", d["port"])) == 0
        hostname_ips = {ai[4][0] for ai in socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET)}
        for ip in hostname_ips - {"127.0.0.1", "127.0.1.1"}:
            with socket.socket() as s:
                s.settimeout(1)
                assert s.connect_ex((ip, d["port"])) != 0, f"{d['name']} reachable on {ip}"


def test_key_is_required(env: Env) -> None:
    assert env.score(key=None).status == 401
    assert env.score(key="wrong").status == 401
    assert env.score(key=env.engine.keys(EP)[1]).status == 200


def test_deployment_header_reaches_one_deployment(env: Env) -> None:
    seen = {env.score(deployment="green").headers["azureml-model-deployment"] for _ in range(10)}
    assert seen == {"green"}
    missing = env.score(deployment="nope")
    assert missing.status == 404
    assert b"nope" in missing.body


def test_observed_split_matches_declared(env: Env) -> None:
    env.engine.set_traffic(EP, {"blue": 70, "green": 30}, {})
    n = 400
    green = sum(env.score().headers["azureml-model-deployment"] == "green" for _ in range(n))
    expected, sigma = n * 0.3, math.sqrt(n * 0.3 * 0.7)
    assert abs(green - expected) <= 4 * sigma, f"green got {green}/{n}, declared 30%"


def test_mirror_copies_reach_mirror_deployment(env: Env) -> None:
    env.engine.set_traffic(EP, {"blue": 100}, {"green": 50})
    before = env.engine.router_stats(EP)["counters"].get("green", {})
    n = 200
    answered_by = {env.score().headers["azureml-model-deployment"] for _ in range(n)}
    assert answered_by == {"blue"}, "mirror answers must be discarded"
    # Copies are sent in the background: wait until the counters stop moving.
    deadline = time.monotonic() + 10
    after = env.engine.router_stats(EP)["counters"].get("green", {})
    while time.monotonic() < deadline:
        time.sleep(0.3)
        now = env.engine.router_stats(EP)["counters"].get("green", {})
        if now == after:
            break
        after = now
    mirrored = after.get("mirror", 0) - before.get("mirror", 0)
    assert after.get("mirror_errors", 0) == 0
    assert abs(mirrored - n / 2) <= 4 * math.sqrt(n / 4), f"{mirrored} mirror copies for {n} requests at 50%"
    assert after.get("live", 0) == before.get("live", 0), "mirror copies must not count as live traffic"
    # header-targeted requests are never mirrored
    env.score(deployment="blue")
    assert env.engine.router_stats(EP)["counters"]["green"].get("mirror", 0) == after.get("mirror", 0)


def test_data_collection_pairs_inputs_and_outputs(env: Env) -> None:
    r = env.score(deployment="blue")
    rid = r.headers["x-request-id"]
    data_root = env.engine.data_dir
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        outputs = read_collected(data_root, EP, "blue", "model_outputs")
        if any(o["correlationid"] == rid for o in outputs):
            break
        time.sleep(0.05)
    inputs = {i["correlationid"]: i for i in read_collected(data_root, EP, "blue", "model_inputs")}
    outputs_by_id = {o["correlationid"]: o for o in read_collected(data_root, EP, "blue", "model_outputs")}
    assert inputs[rid]["data"] == env.request
    assert outputs_by_id[rid]["data"]["model_version"] == "v1"
    day = time.strftime("%Y/%m/%d", time.gmtime())
    assert (data_root / EP / "blue" / "model_inputs" / day / "data.jsonl").is_file()
    assert not (data_root / EP / "green").exists(), "green has no data_collector"


def test_no_deployment_with_traffic_is_404(env: Env) -> None:
    env.engine.set_traffic(EP, {"blue": 0, "green": 0}, {})
    r = env.score()
    assert r.status == 404
    assert b"No valid deployments to route to" in r.body
    assert env.score(deployment="green").status == 200


def test_invalid_input_surfaces_as_424_with_the_models_message(env: Env) -> None:
    env.engine.set_traffic(EP, {"blue": 50, "green": 50}, {})
    r = env.score({"data": [[1, 2, 3]]})
    assert r.status == 424
    assert r.headers["ms-azureml-model-error-statuscode"] == "400"
    assert "must be a list of 13 numbers" in r.json()["error"]


def test_failing_init_never_gets_traffic_and_split_stays(env: Env) -> None:
    before = env.engine.read_state()[0]["traffic"]
    with pytest.raises(DeploymentFailedError) as info:
        env.engine.ensure_deployment(env.deployment("broken"))
    assert "deliberate test failure" in info.value.log_tail
    # One line: the root exception from the server log (not the server's wrapper), and the log.
    message = str(info.value)
    assert "\n" not in message
    assert "during start-up: FileNotFoundError: no model.joblib under" in message
    assert "UserScriptException" not in message
    assert info.value.log_path is not None
    assert message.endswith(f"(log: {info.value.log_path})")
    assert Path(info.value.log_path).is_file()
    state = env.engine.read_state()[0]
    broken = next(d for d in state["deployments"] if d["name"] == "broken")
    assert broken["status"] == "Failed"
    assert broken["message"].startswith(
        "the inference server exited with code 3 during start-up: FileNotFoundError"
    )
    assert broken["log"] == info.value.log_path
    assert not broken["alive"]
    assert state["traffic"] == before
    with pytest.raises(LocalTargetError, match="state is Failed"):
        env.engine.set_traffic(EP, {"blue": 50, "green": 25, "broken": 25}, {})
    assert env.engine.read_state()[0]["traffic"] == before
    assert env.score(deployment="broken").status == 404
    served = {env.score().headers["azureml-model-deployment"] for _ in range(30)}
    assert "broken" not in served


def test_run_exception_surfaces_as_424(env: Env) -> None:
    (res,) = env.engine.ensure_deployments([env.deployment("echo")])
    assert res.status == "Succeeded"
    ok = env.score({"hello": 1}, deployment="echo")
    assert ok.status == 200
    assert ok.json()["echo"] == {"hello": 1}
    r = env.score({"fail": True}, deployment="echo")
    assert r.status == 424
    assert r.headers["ms-azureml-model-error-statuscode"] == "500"
    assert r.headers["x-ms-run-function-failed"] == "True"
    assert "error occurred in scoring script" in r.json()["message"]


def test_failed_update_keeps_previous_version_serving(env: Env, h: Any) -> None:
    old_pid = next(d["pid"] for d in env.engine.read_state()[0]["deployments"] if d["name"] == "echo")
    h.write_yaml(
        env.root / "echo-broken.yml", h.deployment_yaml("echo", EP, h.fixtures / "broken_init", None)
    )
    with pytest.raises(DeploymentFailedError):
        env.engine.ensure_deployment(env.load_deployment(env.root / "echo-broken.yml"))
    echo = next(d for d in env.engine.read_state()[0]["deployments"] if d["name"] == "echo")
    assert echo["status"] == "Succeeded"
    assert echo["pid"] == old_pid
    assert "update failed" in echo["message"]
    assert "FileNotFoundError" in echo["message"]
    assert "log: " in echo["message"]
    assert env.score({"x": 1}, deployment="echo").status == 200


def test_reapply_is_a_noop(env: Env) -> None:
    pids = env.pids()
    assert env.engine.ensure_endpoint(env.endpoint()).action == "unchanged"
    results = env.engine.ensure_deployments(
        [env.deployment("blue"), env.deployment("green"), env.deployment("echo")]
    )
    assert {r.action for r in results} == {"unchanged"}
    assert env.engine.set_traffic(EP, {"blue": 50, "green": 50}, {}) is False
    assert env.pids() == pids


def test_status_reports_a_killed_process_and_reapply_repairs_it(env: Env) -> None:
    assert env.engine.status().drift == []
    green = next(d for d in env.engine.read_state()[0]["deployments"] if d["name"] == "green")
    os.killpg(green["pid"], signal.SIGKILL)
    deadline = time.monotonic() + 5
    while proc.is_alive(green["pid"], None) and time.monotonic() < deadline:
        time.sleep(0.05)
    drift = env.engine.status().drift
    assert any("green" in d and "not running" in d for d in drift), drift
    assert env.score(deployment="green").status == 502
    (res,) = env.engine.ensure_deployments([env.deployment("green")])
    assert res.action == "restarted"
    assert res.status == "Succeeded"
    assert env.engine.status().drift == []
    assert env.score(deployment="green").json()["model_version"] == "v2"


def test_down_leaves_nothing_running(env: Env) -> None:
    pids = env.pids()
    assert len(pids) == 4, pids  # the router, blue, green and echo; the failed deployment has no process
    stopped = env.engine.down()
    assert any(s.startswith("router") for s in stopped)
    for pid in pids:
        assert not proc.group_members(pid), f"process group {pid} still has members"
    assert env.engine.read_state() == []
    assert env.engine.status().drift == []
