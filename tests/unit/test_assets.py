"""Model and environment assets (model.yml / environment.yml): loaded with their content hash,
registered before any endpoint, idempotent by content, blocked when a declared version already
holds other content, pinned in prod; planned and applied on the in-memory fake target."""

from __future__ import annotations

from pathlib import Path

import pytest
from fake_target import FakeTarget

from gitops.desired import DesiredState, load_desired
from gitops.errors import InputErrors
from gitops.model.tags import TAG_SPEC_HASH
from gitops.model.vocab import ActionKind, Phase
from gitops.plan import make_plan
from gitops.sync import Executor, ResultStatus
from gitops.targets.base import CAP_MIRROR_TRAFFIC, CAP_MONITORS

_MANIFEST = "target: azureml\nsubscription_id: 00000000-0000-0000-0000-000000000000\nresource_group: rg\nworkspace: ws-shop\n"
_MODEL = "$schema: https://azuremlschemas.azureedge.net/latest/model.schema.json\nname: iris\n{version}path: model\n"
_ENVIRONMENT = (
    "$schema: https://azuremlschemas.azureedge.net/latest/environment.schema.json\n"
    "name: iris-env\n{version}image: mcr.microsoft.com/azureml/minimal-py312-inference:latest\n"
    "conda_file: conda.yml\n"
)
_CONDA = "name: model-env\nchannels: [conda-forge]\ndependencies: [python=3.12]\n"
_DEPLOYMENT = (
    "name: blue\nendpoint_name: shop\nmodel: {model}\nenvironment: azureml:sklearn:1\n"
    "code_configuration:\n  code: azureml:score:1\n  scoring_script: score.py\n"
    "instance_type: Standard_DS3_v2\ninstance_count: 1\n"
)


def _env(
    tmp_path: Path, *, version: str | None = "3", manifest: str = _MANIFEST, model_ref: str = ""
) -> Path:
    env = tmp_path / "environments" / "dev"
    files = {
        "environment.yaml": manifest,
        "assets/iris/model.yml": _MODEL.format(version=f"version: {version}\n" if version else ""),
        "assets/iris/model/model.pkl": "weights-1",
        "assets/env/environment.yml": _ENVIRONMENT.format(version=f"version: {version}\n" if version else ""),
        "assets/env/conda.yml": _CONDA,
    }
    if model_ref:
        files["endpoints/shop/endpoint.yml"] = "name: shop\nauth_mode: key\ntraffic:\n  blue: 100\n"
        files["endpoints/shop/deployments/blue.yml"] = _DEPLOYMENT.format(model=model_ref)
    for rel, text in files.items():
        (env / rel).parent.mkdir(parents=True, exist_ok=True)
        (env / rel).write_text(text)
    return env


def _plan(desired: DesiredState, target: FakeTarget):  # type: ignore[no-untyped-def]
    actual = target.read_state()
    actual.assets = target.read_assets([(a.kind, a.name, a.version) for a in desired.assets.values()])
    return actual, make_plan(desired, actual, target.kind, target.capabilities)


def test_assets_are_found_by_schema_and_the_conda_file_is_not_one(tmp_path: Path) -> None:
    desired = load_desired(_env(tmp_path))
    assert sorted(desired.assets) == ["environment/iris-env:3", "model/iris:3"]


def test_first_plan_registers_both_in_the_assets_phase_and_apply_then_converges(tmp_path: Path) -> None:
    desired = load_desired(_env(tmp_path))
    target = FakeTarget()
    actual, plan = _plan(desired, target)
    kinds = [(a.kind, a.phase) for a in plan.actions]
    assert kinds == [
        (ActionKind.REGISTER_ENVIRONMENT, Phase.ASSETS),
        (ActionKind.REGISTER_MODEL, Phase.ASSETS),
    ]
    results = Executor(plan, desired, actual, target).run()
    assert [r.status for r in results] == [ResultStatus.OK, ResultStatus.OK]
    assert target.assets["model/iris:3"].tags[TAG_SPEC_HASH] == desired.assets["model/iris:3"].content_hash
    assert _plan(desired, target)[1].actions == []


def test_a_declared_version_registered_with_other_content_blocks_the_plan(tmp_path: Path) -> None:
    env = _env(tmp_path)
    desired = load_desired(env)
    target = FakeTarget()
    actual, plan = _plan(desired, target)
    Executor(plan, desired, actual, target).run()
    (env / "assets/iris/model/model.pkl").write_text("weights-2")
    plan = _plan(load_desired(env), target)[1]
    assert len(plan.blocked) == 1
    assert plan.blocked[0].endswith(
        "assets/iris/model.yml: model iris:3 is already registered with other content; bump the version"
    )
    assert plan.actions == []


def test_without_a_version_the_version_is_the_content_hash_so_a_change_is_a_new_version(
    tmp_path: Path,
) -> None:
    env = _env(tmp_path, version=None)
    desired = load_desired(env)
    model = desired.assets[next(k for k in desired.assets if k.startswith("model/"))]
    assert model.version == f"h{model.content_hash}"
    target = FakeTarget()
    actual, plan = _plan(desired, target)
    Executor(plan, desired, actual, target).run()
    assert _plan(desired, target)[1].actions == []
    (env / "assets/iris/model/model.pkl").write_text("weights-2")
    again = load_desired(env)
    plan = _plan(again, target)[1]
    assert [a.kind for a in plan.actions] == [ActionKind.REGISTER_MODEL]
    assert not plan.blocked


def test_prod_requires_a_declared_version(tmp_path: Path) -> None:
    env = _env(tmp_path, version=None, manifest=_MANIFEST + "require_pinned_versions: true\n")
    with pytest.raises(InputErrors, match=r"model\.yml:2: model iris declares no `version`; environment dev"):
        load_desired(env)


def test_a_missing_model_path_is_reported_at_validate(tmp_path: Path) -> None:
    env = _env(tmp_path)
    (env / "assets/iris/model/model.pkl").unlink()
    (env / "assets/iris/model").rmdir()
    with pytest.raises(
        InputErrors, match=r"model\.yml:4: path 'model' does not exist \(relative to this file\)"
    ):
        load_desired(env)


def test_a_deployment_naming_another_version_of_a_declared_model_is_refused(tmp_path: Path) -> None:
    with pytest.raises(
        InputErrors, match=r"blue\.yml:3: model azureml:iris:2 is not what .*model\.yml declares"
    ):
        load_desired(_env(tmp_path, model_ref="azureml:iris:2"))


def test_a_deployment_may_reference_the_declared_version_and_runs_after_it(tmp_path: Path) -> None:
    desired = load_desired(_env(tmp_path, model_ref="azureml:iris:3"))
    target = FakeTarget()
    actual, plan = _plan(desired, target)
    results = Executor(plan, desired, actual, target).run()
    assert all(r.ok for r in results)
    calls = [c[0] for c in target.calls if c[0] != "read_assets"]
    assert calls[:3] == ["register_asset", "register_asset", "create_or_update_endpoint"]


def test_an_undeclared_asset_name_is_left_to_the_service(tmp_path: Path) -> None:
    desired = load_desired(_env(tmp_path, model_ref="azureml:other:7"))
    assert "shop" in desired.endpoints


def test_a_failed_registration_skips_every_endpoint(tmp_path: Path) -> None:
    desired = load_desired(_env(tmp_path, model_ref="azureml:iris:3"))
    target = FakeTarget()
    actual, plan = _plan(desired, target)
    target.raise_on["register_asset"] = RuntimeError("storage account unreachable")
    results = Executor(plan, desired, actual, target).run()
    assert [r.status for r in results if r.action.phase is Phase.ASSETS] == [ResultStatus.FAILED] * 2
    others = [r for r in results if r.action.phase is not Phase.ASSETS]
    assert others
    assert {r.status for r in others} == {ResultStatus.SKIPPED}


def test_a_target_without_assets_blocks_with_the_files(tmp_path: Path) -> None:
    desired = load_desired(_env(tmp_path))
    target = FakeTarget(frozenset({CAP_MIRROR_TRAFFIC, CAP_MONITORS}))
    plan = make_plan(desired, target.read_state(), target.kind, target.capabilities)
    assert len(plan.blocked) == 1
    assert plan.blocked[0].startswith("target fake cannot register models or environments (")
