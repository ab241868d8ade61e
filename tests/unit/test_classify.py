"""Classification by content over real Azure ML files (tests/unit/testdata/classify/, see NOTICE):
each file by its `$schema`, and the same file without `$schema` by its shape alone."""

from __future__ import annotations

from pathlib import Path

import pytest

from gitops.desired.classify import Hint, Kind, classify, placeholder
from gitops.yamlmarks import YamlDoc, load_yaml

DATA = Path(__file__).parent / "testdata" / "classify"

# file -> (kind by $schema, kind by shape once $schema is removed)
CASES = {
    "managed-endpoint.yml": (Kind.ENDPOINT, Kind.ENDPOINT),
    "managed-endpoint-uai.yml": (Kind.ENDPOINT, Kind.ENDPOINT),
    "managed-deployment.yml": (Kind.DEPLOYMENT, Kind.DEPLOYMENT),
    "managed-deployment-keyvault.yml": (Kind.DEPLOYMENT, Kind.DEPLOYMENT),
    "kubernetes-endpoint.yml": (Kind.NOT_MANAGED, Kind.NOT_MANAGED),
    "kubernetes-deployment.yml": (Kind.NOT_MANAGED, Kind.NOT_MANAGED),
    "monitor-schedule.yaml": (Kind.MONITOR, Kind.MONITOR),
    "model-asset.yml": (Kind.MODEL, Kind.MODEL),
    "environment-asset.yml": (Kind.ENVIRONMENT, Kind.ENVIRONMENT),
    "command-job.yml": (Kind.NOT_MANAGED, Kind.NOT_MANAGED),
    "pipeline-job.yml": (Kind.NOT_MANAGED, Kind.NOT_MANAGED),
    "pipeline-job-e2e.yaml": (Kind.NOT_MANAGED, Kind.NOT_MANAGED),  # has no $schema in the examples
    "command-component.yml": (Kind.NOT_MANAGED, Kind.NOT_MANAGED),
    # Without $schema a batch endpoint (name, auth_mode) has the shape of an online endpoint: only
    # its $schema tells them apart, which every official file carries.
    "batch-endpoint.yml": (Kind.NOT_MANAGED, Kind.ENDPOINT),
    "batch-deployment.yaml": (Kind.NOT_MANAGED, Kind.NOT_MANAGED),
    "compute.yml": (Kind.NOT_MANAGED, Kind.NOT_MANAGED),
    "data-asset.yaml": (Kind.NOT_MANAGED, Kind.NOT_MANAGED),
    "conda-env.yml": (Kind.IGNORED, Kind.IGNORED),
    "conda-score.yaml": (Kind.IGNORED, Kind.IGNORED),
    "mlmodel.yml": (Kind.IGNORED, Kind.IGNORED),
}


def _doc(path: Path, without_schema: bool = False) -> YamlDoc:
    doc = load_yaml(path)
    if without_schema:
        doc.data.pop("$schema", None)
    return doc


def test_every_testdata_file_has_a_case() -> None:
    assert sorted(p.name for p in DATA.glob("*.y*ml")) == sorted(CASES)


@pytest.mark.parametrize(("name", "kinds"), CASES.items(), ids=list(CASES))
def test_classified_by_schema_then_by_shape(name: str, kinds: tuple[Kind, Kind]) -> None:
    by_schema, by_shape = kinds
    assert classify(_doc(DATA / name)).kind is by_schema
    assert classify(_doc(DATA / name, without_schema=True)).kind is by_shape


def test_not_managed_says_what_it_is() -> None:
    assert classify(_doc(DATA / "kubernetes-deployment.yml")).why == (
        "Kubernetes online deployment: not managed by this tool"
    )
    assert classify(_doc(DATA / "conda-env.yml")).why == "conda environment file (not an Azure ML resource)"
    assert classify(_doc(DATA / "compute.yml")).why == "compute: not managed by this tool"


def _write(tmp_path: Path, text: str, name: str = "f.yml") -> YamlDoc:
    path = tmp_path / name
    path.write_text(text)
    return load_yaml(path)


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("steps:\n  - {weight: 10, duration: 5m}\n", Kind.ROLLOUT),
        ("actions:\n  - {type: webhook, url: https://x}\n", Kind.MONITOR_ACTIONS),
        ("$schema: https://example.com/other.json\nname: x\n", Kind.IGNORED),
        ("$schema: https://azuremlschemas.azureedge.net/latest/somethingNew.schema.json\n", Kind.NOT_MANAGED),
        ("$schema: http://azureml/sdk-2-0/Schedule.json\nname: s\ncreate_job: j.yml\n", Kind.NOT_MANAGED),
        ("- 1\n- 2\n", Kind.IGNORED),
        ("title: a docs page\n", Kind.IGNORED),
    ],
)
def test_our_files_and_the_rest(tmp_path: Path, text: str, kind: Kind) -> None:
    assert classify(_write(tmp_path, text)).kind is kind


def test_hint_of_todays_layout_wins_only_over_unknown_shapes(tmp_path: Path) -> None:
    # A shapeless file in deployments/ is loaded as a deployment (its errors say what is missing) ...
    assert classify(_write(tmp_path, "name: x\n"), Hint.DEPLOYMENT).kind is Kind.DEPLOYMENT
    assert classify(_write(tmp_path, "- 1\n"), Hint.MONITOR).kind is Kind.MONITOR
    # ... but a conda file there is still a conda file (issue 13, item 3).
    assert classify(_doc(DATA / "conda-env.yml"), Hint.DEPLOYMENT).kind is Kind.IGNORED
    # A Kubernetes deployment in deployments/ is loaded, so the managed-only rule refuses it.
    assert classify(_doc(DATA / "kubernetes-deployment.yml"), Hint.DEPLOYMENT).kind is Kind.DEPLOYMENT


def test_2021_preview_dialect_is_named_with_todays_form(tmp_path: Path) -> None:
    legacy = _write(
        tmp_path,
        "name: my-endpoint\ntype: online\nauth_mode: key\ntraffic:\n  blue: 100\ndeployments:\n"
        "  - name: blue\n    model:\n      local_path: ./model\n",
    )
    found = classify(legacy)
    assert found.kind is Kind.REFUSED
    (diag,) = found.diagnostics
    assert diag.line == 2
    assert diag.message.startswith("this is the 2021 preview CLI dialect (`type: online` endpoint")
    assert "managedOnlineDeployment.schema.json" in diag.message
    local = classify(_write(tmp_path, "name: blue\nendpoint_name: e\nmodel:\n  local_path: m\n", "d.yml"))
    assert [(d.line, d.message) for d in local.diagnostics] == [
        (4, "`local_path` is the 2021 preview CLI spelling; today's Azure ML CLI v2 YAML says `path:`")
    ]


def test_placeholder() -> None:
    doc = _doc(DATA / "managed-deployment-keyvault.yml")
    assert [(d.line, d.message) for d in placeholder(doc, "endpoint_name")] == [
        (
            3,
            "`endpoint_name: <ENDPOINT_NAME>` looks like a template placeholder; put the real value in the "
            "file (this tool applies files as committed, it does not substitute variables)",
        )
    ]
    assert placeholder(doc, "name") == []
