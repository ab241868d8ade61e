"""The `mlops` CLI on the local target, end to end in a throw-away environments folder.

Covers what a user types: models register, validate, apply (from empty, then again as a no-op),
get-credentials + scoring, status after a killed process, down, and `--target local` on an
environment whose manifest says azureml.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from localkit import mlops_in

from gitops.targets.local import process as proc

mlops = mlops_in


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory, trained_models: Path, h: Any) -> Iterator[Path]:
    tmp = tmp_path_factory.mktemp("cli")
    state = tmp / "state"
    # Code and reference data live inside the repository they are deployed from (validate refuses
    # paths outside it), as in a user's own repository.
    sample = tmp / "samples" / "wine-classifier"
    shutil.copytree(h.sample, sample)
    echo = tmp / "fixtures" / "echo"  # the echo script doubles as its own (ignored) model folder
    shutil.copytree(h.fixtures / "echo", echo)
    local = tmp / "environments" / "local"
    h.write_yaml(
        local / "environment.yaml",
        f"target: local\nlocal:\n  state_dir: {state}\n  model_registry: {tmp / 'registry'}\n",
    )
    h.write_yaml(
        local / "endpoints" / "wine" / "endpoint.yml",
        "name: wine\nauth_mode: key\ntraffic:\n  blue: 80\n  green: 20\n",
    )
    collect = "data_collector:\n  collections:\n    model_inputs: {enabled: 'true'}\n    model_outputs: {enabled: 'true'}\n"
    for name, version in (("blue", 1), ("green", 2)):
        h.write_yaml(
            local / "endpoints" / "wine" / "deployments" / f"{name}.yml",
            h.deployment_yaml(
                name,
                "wine",
                sample / "code",
                f"azureml:wine-classifier:{version}",
                collect if name == "blue" else "",
            ),
        )
    # A monitor in Azure's schedule YAML: recorded by apply, compared by plan like any resource.
    h.write_yaml(
        local / "monitors" / "wine-mon.yml",
        "name: wine-mon\ntrigger: {type: recurrence, frequency: day, interval: 1}\ncreate_monitor:\n"
        "  compute: {instance_type: standard_e4s_v3, runtime_version: '3.4'}\n"
        "  monitoring_target: {ml_task: classification, endpoint_deployment_id: 'azureml:wine:blue'}\n"
        "  monitoring_signals:\n    drift:\n      type: data_drift\n      reference_data:\n"
        f"        input_data: {{path: {sample / 'monitoring' / 'reference.csv'}, type: uri_file}}\n"
        "        data_context: training\n      metric_thresholds:\n"
        "        numerical: {normalized_wasserstein_distance: 0.2}\n",
    )
    rehearse = tmp / "environments" / "rehearse"
    h.write_yaml(
        rehearse / "environment.yaml",
        "target: azureml\nsubscription_id: 00000000-0000-0000-0000-000000000000\nresource_group: rg\n"
        f"workspace: ws-rehearse\nlocal:\n  state_dir: {state}\n",
    )
    h.write_yaml(
        rehearse / "endpoints" / "echo-ep" / "endpoint.yml",
        "name: echo-ep\nauth_mode: aml_token\ntraffic:\n  main: 100\n",
    )
    h.write_yaml(
        rehearse / "endpoints" / "echo-ep" / "deployments" / "main.yml",
        h.deployment_yaml(
            "main",
            "echo-ep",
            echo,
            f"{{path: {echo}}}",
            "egress_public_network_access: disabled\n",
        ),
    )
    try:
        yield tmp
    finally:
        for env in ("local", "rehearse"):
            mlops(tmp, "down", "--env", env)


def test_register_validate_and_apply_from_empty(tree: Path, trained_models: Path) -> None:
    for v in ("v1", "v2"):
        r = mlops(
            tree,
            "models",
            "register",
            "--env",
            "local",
            "--name",
            "wine-classifier",
            "--path",
            str(trained_models / v / "model"),
        )
        assert r.returncode == 0, r.stderr
    assert "azureml:wine-classifier:2" in r.stdout
    r = mlops(tree, "validate", "--env", "local")
    assert r.returncode == 0, r.stdout + r.stderr
    r = mlops(tree, "apply", "--env", "local", "--auto-approve")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "instance_type=Standard_DS3_v2 is not applicable locally" in r.stderr
    assert "create_monitor monitor/wine-mon" in r.stdout + r.stderr


def test_credentials_and_observed_split(tree: Path, h: Any) -> None:
    r = mlops(tree, "get-credentials", "--env", "local", "--endpoint", "wine", "-o", "json")
    assert r.returncode == 0, r.stderr
    creds = json.loads(r.stdout)
    request = json.loads((h.sample / "sample-request.json").read_text())
    n = 300
    green = 0
    for _ in range(n):
        reply = h.score(creds["scoringUri"], request, key=creds["primaryKey"])
        assert reply.status == 200
        green += reply.json()["model_version"] == "v2"
    assert abs(green - 0.2 * n) <= 4 * math.sqrt(n * 0.2 * 0.8), f"green served {green}/{n}, declared 20%"


def test_reapply_is_a_noop(tree: Path) -> None:
    r = mlops(tree, "apply", "--env", "local", "--auto-approve")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "No changes" in r.stdout + r.stderr, r.stdout + r.stderr
    r = mlops(tree, "status", "--env", "local", "--detailed-exitcode")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "in sync" in r.stdout, r.stdout + r.stderr


def test_status_reports_a_killed_deployment(tree: Path) -> None:
    from gitops.targets.local import LocalEngine

    engine = LocalEngine(tree / "state", "local")
    blue = next(d for d in engine.read_state()[0]["deployments"] if d["name"] == "blue")
    os.killpg(blue["pid"], signal.SIGKILL)
    deadline = time.monotonic() + 5
    while proc.group_members(blue["pid"]) and time.monotonic() < deadline:
        time.sleep(0.05)
    r = mlops(tree, "status", "--env", "local", "--detailed-exitcode")
    assert r.returncode == 2, r.stdout + r.stderr
    assert "failed: deployment/wine/blue" in r.stdout
    assert "inference server" in r.stderr
    assert "is not running" in r.stderr


def test_down_stops_everything(tree: Path) -> None:
    from gitops.targets.local import LocalEngine

    pids = [p.pid for p in LocalEngine(tree / "state", "local").store.processes()]
    assert pids
    r = mlops(tree, "down", "--env", "local")
    assert r.returncode == 0
    assert "stopped router wine" in r.stdout
    for pid in pids:
        assert not proc.group_members(pid)


def test_rehearse_an_azureml_environment_locally(tree: Path, h: Any) -> None:
    r = mlops(tree, "apply", "--env", "rehearse", "--target", "local", "--auto-approve")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "egress_public_network_access=disabled is not applicable locally" in r.stderr
    r = mlops(tree, "get-credentials", "--env", "rehearse", "--endpoint", "echo-ep", "-o", "json")
    creds = json.loads(r.stdout)
    assert "accessToken" in creds, "aml_token endpoints hand out tokens, not keys"
    assert h.score(creds["scoringUri"], {"a": 1}, key=creds["accessToken"]).status == 200
    assert h.score(creds["scoringUri"], {"a": 1}, key="not-a-token").status == 401
    r = mlops(tree, "down", "--env", "rehearse")
    assert r.returncode == 0
    assert "stopped" in r.stdout
