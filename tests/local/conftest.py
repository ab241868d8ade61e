"""Shared fixtures for the local target's tests: trained sample models and a model registry.

Processes started by a test module are always stopped by that module's fixture (engine.down()).
"""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from gitops.targets.local import ModelRegistry

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "samples" / "wine-classifier"
FIXTURES = Path(__file__).resolve().parent / "fixtures"


@pytest.fixture(scope="session")
def trained_models(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wine-models")
    subprocess.run(
        [sys.executable, str(SAMPLE / "train.py"), "--out", str(out)], check=True, capture_output=True
    )
    return out


@pytest.fixture(scope="session")
def registry(trained_models: Path, tmp_path_factory: pytest.TempPathFactory) -> ModelRegistry:
    reg = ModelRegistry(tmp_path_factory.mktemp("registry"))
    reg.register("wine-classifier", trained_models / "v1" / "model")
    reg.register("wine-classifier", trained_models / "v2" / "model")
    return reg


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def score(
    url: str, payload: Any, *, key: str | None = None, deployment: str | None = None, timeout: float = 30
) -> Reply:
    data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    headers = {"Content-Type": "application/json"}
    if key is not None:
        headers["Authorization"] = f"Bearer {key}"
    if deployment is not None:
        headers["azureml-model-deployment"] = deployment
    req = urllib.request.Request(url, data=data, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return Reply(resp.status, {k.lower(): v for k, v in resp.headers.items()}, resp.read())
    except urllib.error.HTTPError as err:
        return Reply(err.code, {k.lower(): v for k, v in err.headers.items()}, err.read())


def write_yaml(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def deployment_yaml(name: str, endpoint: str, code: Path, model: str | None, extra: str = "") -> str:
    model_line = f"model: {model}\n" if model else ""
    return (
        f"name: {name}\nendpoint_name: {endpoint}\n{model_line}"
        f"code_configuration:\n  code: {code}\n  scoring_script: score.py\n"
        "environment: azureml:wine-sklearn:1\ninstance_type: Standard_DS3_v2\ninstance_count: 1\n"
        "readiness_probe:\n  initial_delay: 1\n  period: 2\n  timeout: 2\n  failure_threshold: 30\n" + extra
    )


class Helpers:
    """Handed to tests as a fixture: with --import-mode=importlib test modules cannot import conftest."""

    score = staticmethod(score)
    write_yaml = staticmethod(write_yaml)
    deployment_yaml = staticmethod(deployment_yaml)
    repo = REPO
    sample = SAMPLE
    fixtures = FIXTURES


@pytest.fixture(scope="session")
def h() -> type[Helpers]:
    return Helpers
