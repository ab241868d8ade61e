"""model.yml / environment.yml on the local target, through the `mlops` CLI: apply registers the
model into the local registry (the environment is recorded only, and says so), the deployment that
references ``azureml:<name>:<version>`` serves it, and a second apply changes nothing."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from localkit import mlops_in

mlops = mlops_in


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory, trained_models: Path, h: Any) -> Iterator[Path]:
    tmp = tmp_path_factory.mktemp("assets")
    local = tmp / "environments" / "local"
    h.write_yaml(
        local / "environment.yaml",
        f"target: local\nlocal:\n  state_dir: {tmp / 'state'}\n  model_registry: {tmp / 'registry'}\n",
    )
    shutil.copytree(trained_models / "v2" / "model", local / "assets" / "wine" / "model")
    shutil.copytree(h.sample / "code", tmp / "code")  # uploads must stay inside the repository
    h.write_yaml(
        local / "assets" / "wine" / "model.yml",
        "$schema: https://azuremlschemas.azureedge.net/latest/model.schema.json\n"
        "name: wine-classifier\nversion: 3\npath: model\n",
    )
    h.write_yaml(
        local / "assets" / "wine" / "environment.yml",
        "$schema: https://azuremlschemas.azureedge.net/latest/environment.schema.json\n"
        "name: wine-sklearn\nversion: 1\nimage: mcr.microsoft.com/azureml/minimal-py312-inference:latest\n",
    )
    h.write_yaml(
        local / "endpoints" / "wine" / "endpoint.yml", "name: wine\nauth_mode: key\ntraffic:\n  blue: 100\n"
    )
    h.write_yaml(
        local / "endpoints" / "wine" / "deployments" / "blue.yml",
        h.deployment_yaml("blue", "wine", tmp / "code", "azureml:wine-classifier:3"),
    )
    try:
        yield tmp
    finally:
        mlops(tmp, "down", "--env", "local")


def test_plan_registers_the_assets_first(tree: Path) -> None:
    r = mlops(tree, "plan", "--env", "local", "--format", "json")
    assert r.returncode == 0, r.stdout + r.stderr
    kinds = [a["kind"] for a in json.loads(r.stdout)["actions"]]
    assert kinds[:2] == ["register_environment", "register_model"]


def test_apply_registers_the_model_and_the_deployment_serves_it(tree: Path, h: Any) -> None:
    r = mlops(tree, "apply", "--env", "local", "--auto-approve")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "environment wine-sklearn:1 recorded only" in r.stderr
    assert (tree / "registry" / "wine-classifier" / "3" / "model").is_dir()
    r = mlops(tree, "get-credentials", "--env", "local", "--endpoint", "wine", "-o", "json")
    assert r.returncode == 0, r.stderr
    creds = json.loads(r.stdout)
    request = json.loads((h.sample / "sample-request.json").read_text())
    reply = h.score(creds["scoringUri"], request, key=creds["primaryKey"])
    assert reply.status == 200
    assert reply.json()["model_version"] == "v2"


def test_reapply_is_a_noop(tree: Path) -> None:
    r = mlops(tree, "apply", "--env", "local", "--auto-approve")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "No changes" in r.stdout + r.stderr


def test_changed_files_under_the_same_version_block_the_plan(tree: Path) -> None:
    weights = next(p for p in (tree / "environments/local/assets/wine/model").rglob("*") if p.is_file())
    original = weights.read_bytes()
    weights.write_bytes(original + b"\n")
    try:
        r = mlops(tree, "plan", "--env", "local")
    finally:
        weights.write_bytes(original)
    assert r.returncode == 1
    assert "model wine-classifier:3 is already registered with other content; bump the version" in r.stdout
