"""Assets on the azureml target with the real MLClient against the fake ARM: an environment
registered by create_or_update, a model version found already registered with the same content
(no write), a re-plan with one GET per declared version and no list, and a declared version that
holds other content blocking the plan."""

from __future__ import annotations

from pathlib import Path

from fake_arm import FakeArm

from gitops.desired import load_desired
from gitops.model.tags import TAG_SPEC_HASH

_MODEL = (
    "$schema: https://azuremlschemas.azureedge.net/latest/model.schema.json\n"
    "name: credit-model\nversion: 3\npath: model\n"
)
_ENVIRONMENT = (
    "$schema: https://azuremlschemas.azureedge.net/latest/environment.schema.json\n"
    "name: credit-env\nversion: 2\nimage: mcr.microsoft.com/azureml/minimal-py312-inference:latest\n"
)


def _assets(envs: Path) -> Path:
    folder = envs / "dev" / "assets" / "credit"
    (folder / "model").mkdir(parents=True)
    (folder / "model" / "model.pkl").write_bytes(b"weights")
    (folder / "model.yml").write_text(_MODEL)
    (folder / "environment.yml").write_text(_ENVIRONMENT)
    return folder


def _seed_model(fake: FakeArm, content_hash: str) -> None:
    base = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-mlops-dev"
    fake.assets[("models", "credit-model", "3")] = {
        "id": f"{base}/providers/Microsoft.MachineLearningServices/workspaces/mlw-mlops-dev/models/credit-model/versions/3",
        "name": "3",
        "type": "Microsoft.MachineLearningServices/workspaces/models/versions",
        "properties": {
            "modelType": "custom_model",
            "modelUri": "azureml://x",
            "flavors": {},
            "tags": {TAG_SPEC_HASH: content_hash},
        },
    }


def test_environment_registered_model_found_then_converged(mlops, fake: FakeArm, envs: Path) -> None:
    _assets(envs)
    desired = load_desired(envs / "dev")
    _seed_model(fake, desired.assets["model/credit-model:3"].content_hash)
    r = mlops("apply", "--env", "dev", "--auto-approve", "--output", "json")
    assert r.code == 0, r.out + r.err
    kinds = [x["kind"] for x in r.json()["results"]]
    assert kinds[0] == "register_environment"
    assert "register_model" not in kinds
    env = fake.assets[("environments", "credit-env", "2")]["properties"]
    assert env["tags"][TAG_SPEC_HASH] == desired.assets["environment/credit-env:2"].content_hash
    assert env["image"] == "mcr.microsoft.com/azureml/minimal-py312-inference:latest"

    mark = len(fake.log)
    r = mlops("plan", "--env", "dev", "--detailed-exitcode")
    assert r.code == 0, r.out + r.err
    assert "No changes" in r.out
    asset_reads = [e.path for e in fake.log[mark:] if "/versions/" in e.path]
    assert len(asset_reads) == 2
    assert fake.writes(mark) == []


def test_a_declared_version_with_other_content_blocks(mlops, fake: FakeArm, envs: Path) -> None:
    _assets(envs)
    _seed_model(fake, "0000000000000000")
    r = mlops("plan", "--env", "dev")
    assert r.code == 1
    assert "model credit-model:3 is already registered with other content; bump the version" in r.out
