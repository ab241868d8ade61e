"""Discovery by content: today's layout gives exactly the DesiredState it gave before, the
examples' side-by-side layout works, endpoints are inferred or the candidates named, and every
filesystem accident gets its own message at its own file."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import pytest

from gitops.desired import load_desired
from gitops.desired.classify import Kind
from gitops.desired.discover import discover
from gitops.errors import InputErrors, rel

REPO = Path(__file__).resolve().parents[2]
EP = "$schema: https://azuremlschemas.azureedge.net/latest/managedOnlineEndpoint.schema.json\nname: {name}\nauth_mode: key\n"
DEP = (
    "$schema: https://azuremlschemas.azureedge.net/latest/managedOnlineDeployment.schema.json\n"
    "name: {name}\n{endpoint}model: azureml:m:1\nenvironment: azureml:env:1\n"
    "instance_type: Standard_DS3_v2\ninstance_count: 1\n"
)
CONDA = "name: model-env\nchannels: [conda-forge]\ndependencies:\n  - python=3.11\n"


def dep(name: str, endpoint: str | None = None) -> str:
    return DEP.format(name=name, endpoint=f"endpoint_name: {endpoint}\n" if endpoint else "")


def tree(root: Path, files: dict[str, str]) -> Path:
    for rel_path, text in {"environment.yaml": "target: local\n", **files}.items():
        path = root / rel_path
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def messages(env: Path) -> list[str]:
    with pytest.raises(InputErrors) as err:
        load_desired(env)
    return [str(d) for d in err.value.diagnostics]


# ------------------------------------------------------------------- the shipped environments
# Counts and spec hashes of environments/<env> as they were before discovery by content.
SHIPPED = {
    "dev": {
        "churn-score/main": "52054ba20f5d8dd5",
        "credit-default/blue": "22e5b9927266fa36",
        "credit-default/green": "540d4b3ef2cc357f",
        "monitor/credit-default-blue-monitor": "7a81b92547151106",
    },
    "local": {
        "wine-classifier/blue": "bb2a2fbf57d80515",
        "wine-classifier/green": "55de54d1a2039244",
        "monitor/wine-classifier-blue-monitor": "d1f891db9dff8125",
    },
    "prod": {
        "churn-score/main": "65393593b31297be",
        "credit-default/blue": "33ecbaff07ee1c2d",
        "credit-default/green": "e116fe1f16f37300",
        "monitor/credit-default-blue-monitor": "ec095c03b4d8ddd8",
    },
}


@pytest.mark.parametrize("env", sorted(SHIPPED))
def test_shipped_environments_load_exactly_as_before(env: str) -> None:
    state = load_desired(REPO / "environments" / env)
    hashes = {
        f"{e.name}/{d.name}": d.spec_hash for e in state.endpoints.values() for d in e.deployments.values()
    }
    hashes |= {f"monitor/{m.name}": m.spec_hash for m in state.monitors.values()}
    assert hashes == SHIPPED[env]
    assert all(d.endpoint_name == e.name for e in state.endpoints.values() for d in e.deployments.values())
    assert state.assets == {}
    assert state.files is not None
    assert [
        f for f in state.files.files if f.kind not in (Kind.ENDPOINT, Kind.DEPLOYMENT, Kind.MONITOR)
    ] == []


# ------------------------------------------------------------------------- the examples' layout
def test_examples_layout_side_by_side(tmp_path: Path) -> None:
    env = tree(
        tmp_path / "ex",
        {
            "online/sample/endpoint.yml": EP.format(name="my-endpoint"),
            "online/sample/blue-deployment.yml": dep("blue", "my-endpoint"),
            "online/sample/green-deployment.yml": dep("green"),  # inferred: one endpoint beside it
            "online/sample/env.yml": CONDA,
            "online/model-1/environment/conda.yaml": CONDA,
            "endpoints/model-folder/MLmodel.yaml": "flavors: {python_function: {}}\n",
            "jobs/train.yml": "$schema: https://azuremlschemas.azureedge.net/latest/commandJob.schema.json\n"
            "command: python train.py\n",
        },
    )
    state = load_desired(env)
    assert list(state.endpoints) == ["my-endpoint"]
    ep = state.endpoints["my-endpoint"]
    assert sorted(ep.deployments) == ["blue", "green"]
    assert ep.deployments["green"].entity.endpoint_name == "my-endpoint"
    assert state.files is not None
    skipped = {rel(f.path.relative_to(env)): f.why for f in state.files.skipped}
    assert skipped == {
        "endpoints/model-folder/MLmodel.yaml": "MLflow model metadata (not an Azure ML resource)",
        "jobs/train.yml": "command job: not managed by this tool",
        "online/model-1/environment/conda.yaml": "conda environment file (not an Azure ML resource)",
        "online/sample/env.yml": "conda environment file (not an Azure ML resource)",
    }


def test_todays_layout_infers_the_folders_endpoint_and_keeps_its_rules(tmp_path: Path) -> None:
    env = tree(
        tmp_path / "t",
        {
            "endpoints/shop/endpoint.yml": EP.format(name="shop"),
            "endpoints/shop/deployments/blue.yml": dep("blue"),  # no endpoint_name: the folder's
            "endpoints/shop/deployments/green.yml": dep("green", "shopp"),
            "endpoints/shop/deployments/env.yml": CONDA,  # issue 13 item 3: ignored, not 5 errors
        },
    )
    assert [m.split(": ", 1)[1] for m in messages(env)] == [
        "endpoint_name 'shopp' does not match the endpoint folder it is in ('shop'); set `endpoint_name: shop`"
    ]


def test_endpoint_cannot_be_inferred_names_the_candidates(tmp_path: Path) -> None:
    env = tree(
        tmp_path / "ids",
        {
            "ids/1-sai-create-endpoint.yml": EP.format(name="my-sai-endpoint"),
            "ids/1-uai-create-endpoint.yml": EP.format(name="my-uai-endpoint"),
            "ids/2-sai-deployment.yml": dep("blue"),
            "elsewhere/lost.yml": dep("lost"),
            "elsewhere/typo.yml": dep("typo", "my-sai-endpont"),
        },
    )
    got = messages(env)
    assert got == [
        f"{rel(env / 'elsewhere/lost.yml')}:2: deployment 'lost' has no endpoint_name and its endpoint cannot be "
        "inferred (no endpoint file beside it); set `endpoint_name:` to one of: my-sai-endpoint, my-uai-endpoint",
        f"{rel(env / 'elsewhere/typo.yml')}:3: endpoint_name 'my-sai-endpont' names no endpoint declared in this "
        "environment (declared: my-sai-endpoint, my-uai-endpoint); add its endpoint file or fix the name",
        f"{rel(env / 'ids/2-sai-deployment.yml')}:2: deployment 'blue' has no endpoint_name and its endpoint "
        "cannot be inferred (2 endpoint files beside it: 1-sai-create-endpoint.yml, 1-uai-create-endpoint.yml); "
        "set `endpoint_name:` to one of: my-sai-endpoint, my-uai-endpoint",
    ]


def test_two_files_declaring_one_endpoint_name_both(tmp_path: Path) -> None:
    env = tree(
        tmp_path / "d", {"a/endpoint.yml": EP.format(name="shop"), "b/endpoint.yml": EP.format(name="Shop")}
    )
    (line,) = messages(env)
    assert line.startswith(f"{rel(env / 'b/endpoint.yml')}:2: endpoint name 'Shop' ")
    assert f"{rel(env / 'a/endpoint.yml')}:2" in line


def test_placeholder_names_are_named(tmp_path: Path) -> None:
    env = tree(tmp_path / "p", {"e/endpoint.yml": EP.format(name="<ENDPOINT_NAME>")})
    (line,) = messages(env)
    assert line.endswith(
        "`name: <ENDPOINT_NAME>` looks like a template placeholder; put the real value in the "
        "file (this tool applies files as committed, it does not substitute variables)"
    )


def test_kubernetes_beside_managed_is_refused(tmp_path: Path) -> None:
    env = tree(
        tmp_path / "k",
        {
            "e/endpoint.yml": EP.format(name="shop"),
            "e/k8s.yml": "$schema: https://azuremlschemas.azureedge.net/latest/kubernetesOnlineDeployment.schema.json\n"
            "name: k\ntype: kubernetes\nendpoint_name: shop\n",
        },
    )
    (line,) = messages(env)
    assert line.startswith(f"{rel(env / 'e/k8s.yml')}:1: Kubernetes online deployment: this tool reconciles")


# ---------------------------------------------------------------------------------- what is found
def test_yaml_but_no_resources_is_an_error(tmp_path: Path) -> None:
    env = tree(tmp_path / "n", {"a/env.yml": CONDA, "b/notes.yml": "title: x\n"})
    assert messages(env) == [
        f"{rel(env)}:0: no Azure ML resources found in {rel(env)}: 2 YAML file(s), none is an endpoint, "
        "deployment, monitor, model or environment (run `mlops validate -v` to see what each one was taken for)"
    ]
    assert load_desired(tree(tmp_path / "empty", {})).endpoints == {}


def test_exclude_patterns(tmp_path: Path) -> None:
    env = tree(
        tmp_path / "x",
        {
            "environment.yaml": "target: local\nexclude: [drafts, '*/old-*.yml']\n",
            "e/endpoint.yml": EP.format(name="shop"),
            "e/old-blue.yml": dep("blue"),
            "e/blue.yml": dep("blue"),
            "drafts/broken.yml": "name: [\n",
        },
    )
    state = load_desired(env)
    assert list(state.endpoints["shop"].deployments) == ["blue"]
    assert state.files is not None
    assert {f.path.name: f.why for f in state.files.skipped} == {
        "drafts": "excluded by `exclude: drafts`",
        "old-blue.yml": "excluded by `exclude: */old-*.yml`",
    }


def test_rollout_needs_one_endpoint_beside_it(tmp_path: Path) -> None:
    env = tree(
        tmp_path / "r",
        {
            "e/endpoint.yml": EP.format(name="shop"),
            "lonely/rollout.yml": "steps:\n  - {weight: 10, duration: 1m}\n",
        },
    )
    assert messages(env) == [
        f"{rel(env / 'lonely/rollout.yml')}:1: rollout strategy with no endpoint file beside it: it would apply "
        "to nothing; move it beside its endpoint's file"
    ]


# ---------------------------------------------------------------------------------- the filesystem
def test_symlink_outside_the_environment_is_refused(tmp_path: Path) -> None:
    outside = tmp_path / "outside.yml"
    outside.write_text(dep("blue", "shop"))
    env = tree(tmp_path / "s", {"e/endpoint.yml": EP.format(name="shop")})
    os.symlink(outside, env / "e/blue.yml")
    assert messages(env) == [
        f"{rel(env / 'e/blue.yml')}:1: symlink points outside the environment, to {outside.resolve()}; an "
        "environment's YAML must live in its own folder (copy the file in, or list the link under `exclude:`)"
    ]


def test_symlink_loops_and_dangling_links(tmp_path: Path) -> None:
    env = tree(tmp_path / "l", {"e/endpoint.yml": EP.format(name="shop")})
    os.symlink(env / "e", env / "e/again")  # a folder containing itself
    os.symlink(env / "e/b.yml", env / "e/a.yml")
    os.symlink(env / "e/a.yml", env / "e/b.yml")
    os.symlink(env / "e/missing.yml", env / "e/gone.yml")
    got = messages(env)
    assert got == [
        f"{rel(env / 'e/a.yml')}:1: symlink loop: following it never reaches a file; remove the link",
        f"{rel(env / 'e/again')}:1: symlink loop: this folder is {rel((env / 'e').resolve())} again; remove the link",
        f"{rel(env / 'e/b.yml')}:1: symlink loop: following it never reaches a file; remove the link",
        f"{rel(env / 'e/gone.yml')}:1: symlink to {env / 'e/missing.yml'}, which does not exist; fix or remove it",
    ]


def test_a_regular_file_where_a_folder_is_expected(tmp_path: Path) -> None:
    env = tree(
        tmp_path / "f",
        {"endpoints/shop/endpoint.yml": EP.format(name="shop"), "endpoints/shop/deployments": ""},
    )
    assert messages(env) == [
        f"{rel(env / 'endpoints/shop/deployments')}:1: `deployments` is a regular file where a folder "
        "`deployments/` is expected (one YAML file per resource inside it); make it a folder or remove it"
    ]


def test_discover_classifies_each_file_once(tmp_path: Path) -> None:
    env = tree(tmp_path / "c", {"e/endpoint.yml": EP.format(name="shop"), "e/d.yml": dep("d")})
    files = discover(env)
    assert [(f.path.name, f.kind) for f in files.files] == [
        ("d.yml", Kind.DEPLOYMENT),
        ("endpoint.yml", Kind.ENDPOINT),
    ]
    (ep,) = files.endpoints
    assert ep.deployment_docs == (files.doc(env / "e/d.yml"),)


# ---------------------------------------------------------------------------------- validate's output
def test_validate_says_what_it_found_and_with_v_what_it_skipped(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from gitops.commands import cmd_validate

    root = tmp_path / "environments"
    tree(
        root / "ex", {"s/endpoint.yml": EP.format(name="shop"), "s/blue.yml": dep("blue"), "s/env.yml": CONDA}
    )
    args = argparse.Namespace(environments=str(root), env="ex", verbose=True)
    assert cmd_validate(args) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "ex: 3 YAML file(s)"
    assert out[1].split() == ["deployment", rel(root / "ex/s/blue.yml")]
    assert out[3].split(None, 1) == [
        "skipped",
        f"{rel(root / 'ex/s/env.yml')}: conda environment file (not an Azure ML resource)",
    ]
    assert out[-1] == "ok  ex: 1 endpoint(s), 1 deployment(s), 0 monitor(s), 0 model(s)"
