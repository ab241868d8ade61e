"""What a target cannot run is named at plan time (gitops.plan.planners.capabilities).

The no-code MLflow deployment is the official file (tests/local/fixtures/azureml-examples/NOTICE);
the custom container and the GPU size change one field of it each, in the test.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from gitops.desired.types import DesiredDeployment, DesiredEndpoint
from gitops.plan.pairing import DeploymentPair, EndpointPair, Pairing
from gitops.plan.planners import PlanContext
from gitops.plan.planners.capabilities import plan_capabilities
from gitops.plan.types import Decisions
from gitops.targets.azureml.target import AzureMLTarget
from gitops.targets.local.target import LocalTarget
from gitops.yamlmarks import load_yaml

NCD = (
    Path(__file__).parents[1]
    / "local/fixtures/azureml-examples/cli/endpoints/online/ncd/lightgbm-deployment.yaml"
)
SCRIPT = "code_configuration:\n  code: .\n  scoring_script: score.py\n"
CONTAINER = (
    "environment:\n  image: docker.io/tensorflow/serving:latest\n  inference_config:\n"
    "    liveness_route: {port: 8501, path: /v1/models/m}\n"
    "    readiness_route: {port: 8501, path: /v1/models/m}\n"
    "    scoring_route: {port: 8501, path: '/v1/models/m:predict'}\n"
)


def _decide(path: Path, capabilities: frozenset[str], kind: str) -> Decisions:
    from azure.ai.ml import load_online_deployment

    entity = load_online_deployment(str(path))
    doc = load_yaml(path)
    dep = DesiredDeployment(entity.name, "my-endpoint", entity, doc, "hash")
    endpoint: Any = DesiredEndpoint("my-endpoint", None, doc, None, None, {entity.name: dep})
    pairing = Pairing(
        "byo",
        (EndpointPair(endpoint, None, (DeploymentPair("my-endpoint", dep, None),), ()),),
        (),
        (),
        (),
        0,
    )
    ctx = PlanContext(env="byo", target_kind=kind, capabilities=capabilities, owner_tags={})
    return plan_capabilities(pairing, ctx)


LOCAL = LocalTarget.capabilities
AZUREML = AzureMLTarget.capabilities


@pytest.fixture
def variant(tmp_path: Path) -> Any:
    """The official file with one change, in a copy of its folder (its model path resolves there)."""
    folder = tmp_path / "ncd"
    shutil.copytree(NCD.parent, folder)

    def make(replace: tuple[str, str] = ("", ""), append: str = "") -> Path:
        text = NCD.read_text()
        text = text.replace(*replace) if replace[0] else text
        path = folder / "variant-deployment.yaml"
        path.write_text(text.rstrip("\n") + "\n" + append)
        return path

    return make


def test_no_code_mlflow_is_blocked_locally() -> None:
    out = _decide(NCD, LOCAL, "local")
    assert out.blocked == [
        f"{load_yaml(NCD).file}: deployment my-endpoint/lightgbm-deployment: target local cannot run a no-code "
        "MLflow deployment (Azure builds its scoring server; here the inference server needs "
        "code_configuration with a scoring script)"
    ]
    assert out.notes == []
    assert _decide(NCD, AZUREML, "azureml").blocked == []


def test_mlflow_model_with_a_scoring_script_runs_locally(variant: Any) -> None:
    path = variant(append=SCRIPT)
    assert _decide(path, LOCAL, "local").blocked == []


def test_custom_container_is_blocked_locally(variant: Any) -> None:
    path = variant(append=SCRIPT + CONTAINER)
    out = _decide(path, LOCAL, "local")
    assert len(out.blocked) == 1
    assert "cannot run a custom container (environment.inference_config" in out.blocked[0]
    assert _decide(path, AZUREML, "azureml").blocked == []


def test_gpu_size_is_a_note_locally(variant: Any) -> None:
    path = variant(replace=("Standard_DS3_v2", "Standard_NC4as_T4_v3"), append=SCRIPT)
    out = _decide(path, LOCAL, "local")
    assert out.blocked == []
    assert out.notes == [
        f"{load_yaml(path).file}: deployment my-endpoint/lightgbm-deployment: instance_type Standard_NC4as_T4_v3 "
        "is a GPU size; target local runs it on this machine's CPU (a model that needs CUDA fails "
        "at start-up)"
    ]
    assert _decide(path, AZUREML, "azureml").notes == []
