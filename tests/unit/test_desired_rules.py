"""Each rule family of gitops.desired on small YAML files: the finding, its line, its exact text."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from gitops.desired.discover import discover
from gitops.desired.load import parse_mapping
from gitops.desired.rules.managed import managed_deployment, managed_endpoint
from gitops.desired.rules.monitors import is_monitor_schedule, monitor_target, schedule_ranges
from gitops.desired.rules.names import (
    deployment_declared_once,
    deployment_in_its_endpoint,
    deployment_name_matches_file,
    endpoint_declared_once,
    endpoint_name_matches_folder,
    monitor_declared_once,
    valid_name,
)
from gitops.desired.rules.paths import monitor_paths, referenced_paths
from gitops.desired.rules.pinning import pinned_versions
from gitops.desired.rules.rollout import rollout_spec
from gitops.desired.rules.secrets import committed_secrets
from gitops.desired.rules.tags import reserved_tags
from gitops.desired.rules.traffic import MAX_DEPLOYMENTS_PER_ENDPOINT, endpoint_traffic
from gitops.desired.rules.values import deployment_values, model_present
from gitops.desired.sdk_errors import sdk_error_diagnostics
from gitops.desired.spec_hash import local_paths, spec_hash
from gitops.desired.types import DesiredDeployment, DesiredEndpoint, DesiredState
from gitops.errors import Diagnostic, rel
from gitops.manifest import load_manifest_lenient
from gitops.rollout.spec import load_rollout_doc
from gitops.yamlmarks import YamlDoc, load_yaml


def yaml_doc(tmp_path: Path, text: str, name: str = "doc.yml") -> YamlDoc:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return load_yaml(path)


def found(diags: list[Diagnostic]) -> list[tuple[int, str]]:
    return [(d.line, d.message) for d in diags]


# ---------------------------------------------------------------------------------------- names
@pytest.mark.parametrize(
    ("name", "ok"),
    [
        ("shop", True),
        ("a-b-c", True),
        ("ab", False),
        ("9bad", False),
        ("bad-", False),
        (None, False),
        ("x" * 33, False),
    ],
)
def test_valid_name(tmp_path: Path, name: object, ok: bool) -> None:
    doc = yaml_doc(tmp_path, "auth_mode: key\nname: whatever\n")
    diags = valid_name(doc, name, "endpoint")
    assert found(diags) == (
        []
        if ok
        else [
            (
                2,
                f"endpoint name {name!r} is invalid: Azure requires 3-32 letters, digits or '-', starting "
                "with a letter and not ending with '-'",
            )
        ]
    )


def test_names_agree_with_their_files(tmp_path: Path) -> None:
    doc = yaml_doc(tmp_path, "name: shop\nendpoint_name: shopp\n", "endpoints/store/deployments/blue.yml")
    assert found(endpoint_name_matches_folder(doc, "shop", tmp_path / "store")) == [
        (1, "endpoint name 'shop' differs from its folder 'store'; make them equal")
    ]
    assert endpoint_name_matches_folder(doc, "store", tmp_path / "store") == []
    assert found(deployment_name_matches_file(doc, "green", doc.path)) == [
        (1, "deployment name 'green' differs from its file name 'blue.yml'; make them equal")
    ]
    assert found(deployment_in_its_endpoint(doc, "shop")) == [
        (
            2,
            "endpoint_name 'shopp' does not match the endpoint folder it is in ('shop'); set `endpoint_name: shop`",
        )
    ]


def test_declared_once(tmp_path: Path) -> None:
    first = yaml_doc(tmp_path, "auth_mode: key\nname: shop\n", "a/endpoint.yml")
    second = yaml_doc(tmp_path, "name: shop\n", "b/endpoint.yml")
    assert found(endpoint_declared_once(second, "shop", {"shop": first})) == [
        (1, f"endpoint name 'shop' is already declared in {first.file}:2")
    ]
    assert endpoint_declared_once(second, "other", {"shop": first}) == []
    assert found(deployment_declared_once(second, "Blue", "shop", ["blue"])) == [
        (
            1,
            "deployment 'Blue' is declared twice for endpoint 'shop' (as 'blue': Azure names are case-insensitive)",
        )
    ]
    assert found(monitor_declared_once(second, "m", {"m": first})) == [
        (1, f"monitor 'm' is declared twice (also in {first.file})")
    ]


# ----------------------------------------------------------------------------------------- tags
def test_reserved_tags(tmp_path: Path) -> None:
    doc = yaml_doc(tmp_path, "name: shop\ntags:\n  owner: me\n  mlops-managed-by: me\n  git-revision: abc\n")
    assert found(reserved_tags(doc)) == [
        (4, "tag `mlops-managed-by` is set by mlops (ownership tracking); remove it from the YAML"),
        (5, "tag `git-revision` is set by mlops (ownership tracking); remove it from the YAML"),
    ]
    assert reserved_tags(yaml_doc(tmp_path, "name: shop\ntags: none\n")) == []


# -------------------------------------------------------------------------------------- managed
def test_only_managed_resources(tmp_path: Path) -> None:
    assert found(managed_endpoint(yaml_doc(tmp_path, "name: e\ncompute: azureml:k8s\n"))) == [
        (2, "only managed online endpoints are supported; remove `compute`")
    ]
    assert managed_endpoint(yaml_doc(tmp_path, "name: e\n")) == []
    assert found(managed_deployment(yaml_doc(tmp_path, "name: d\ntype: kubernetes\n"))) == [
        (2, "only managed online deployments are supported; remove `type` or set `type: managed`")
    ]
    assert managed_deployment(yaml_doc(tmp_path, "name: d\ntype: managed\n")) == []


# -------------------------------------------------------------------------------------- secrets
def test_committed_secrets(tmp_path: Path) -> None:
    doc = yaml_doc(
        tmp_path,
        "environment_variables:\n  DB_PASSWORD: hunter2\n  LOG_LEVEL: info\n  API_KEY: ''\n  MY_SAS: x\n"
        "  SASQUATCH: y\n",
    )
    hint = "looks like a secret committed to git; read it at runtime with the deployment's managed identity (e.g. from Key Vault) instead"
    assert found(committed_secrets(doc)) == [
        (2, f"environment variable DB_PASSWORD {hint}"),
        (5, f"environment variable MY_SAS {hint}"),
    ]


# -------------------------------------------------------------------------------------- pinning
@pytest.mark.parametrize(
    ("yaml_text", "expected"),
    [
        ("model: azureml:m:3\nenvironment: azureml:env:1\n", []),
        (
            "model: azureml:m@latest\n",
            [(1, "model 'azureml:m@latest' floats (latest); pin a version: azureml:<name>:<version>")],
        ),
        ("model: azureml:m\n", [(1, "model 'azureml:m' has no version; pin one: azureml:<name>:<version>")]),
        ("model: azureml://registries/r/models/m/versions/2\n", []),
        (
            "model:\n  path: ./model\n",
            [
                (
                    1,
                    "inline model './model' has no version (it is registered at apply time; the commit names no "
                    "version to serve); register it with a `version:` and reference azureml:<name>:<version>, or "
                    "give the inline model a `name:` and `version:`",
                )
            ],
        ),
        ("model:\n  name: m\n  version: 4\n  path: ./model\n", []),
        (
            "model: azureml://registries/r/models/m/labels/latest\n",
            [
                (
                    1,
                    "model 'azureml://registries/r/models/m/labels/latest' floats (label latest); pin a version: "
                    "azureml:<name>:<version> (or .../versions/<version>)",
                )
            ],
        ),
        (
            "environment: azureml:env@latest\n",
            [
                (
                    1,
                    "environment 'azureml:env@latest' floats (latest); pin a version: azureml:<name>:<version>",
                )
            ],
        ),
        (
            "model: azureml://registries/r/models/m\n",
            [
                (
                    1,
                    "model 'azureml://registries/r/models/m' has no version; pin a version: "
                    "azureml:<name>:<version> (or .../versions/<version>)",
                )
            ],
        ),
        (
            "environment:\n  image: mcr.microsoft.com/azureml/base:latest\n",
            [
                (
                    2,
                    "environment image 'mcr.microsoft.com/azureml/base:latest' is not pinned; use an explicit tag "
                    "or @sha256 digest",
                )
            ],
        ),
        (
            "environment:\n  image: mcr.microsoft.com/azureml/base\n",
            [
                (
                    2,
                    "environment image 'mcr.microsoft.com/azureml/base' is not pinned; use an explicit tag or @sha256 digest",
                )
            ],
        ),
        ("environment:\n  image: base@sha256:abc\n", []),
        ("environment:\n  image: base:20240101\n", []),
        (
            "code_configuration:\n  code: azureml:score@latest\n",
            [(2, "code 'azureml:score@latest' floats (latest); pin a version: azureml:<name>:<version>")],
        ),
        ("code_configuration:\n  code: ./src\n", []),
    ],
)
def test_pinned_versions(tmp_path: Path, yaml_text: str, expected: list[tuple[int, str]]) -> None:
    assert found(pinned_versions(yaml_doc(tmp_path, "name: d\n" + yaml_text))) == [
        (line + 1, m) for line, m in expected
    ]


# -------------------------------------------------------------------------------------- traffic
def endpoint(tmp_path: Path, text: str, deployments: list[str]) -> DesiredEndpoint:
    doc = yaml_doc(tmp_path, text, "endpoints/shop/endpoint.yml")
    data = doc.data
    ep = DesiredEndpoint(
        "shop", None, doc, dict(data.get("traffic") or {}), dict(data.get("mirror_traffic") or {})
    )
    for d in deployments:
        ep.deployments[d] = DesiredDeployment(d, "shop", None, doc, "h")
    return ep


def test_endpoint_traffic_lines(tmp_path: Path) -> None:
    ep = endpoint(
        tmp_path, "name: shop\ntraffic:\n  blue: 60\n  ghost: 30\nmirror_traffic:\n  blue: 70\n", ["blue"]
    )
    assert sorted(found(endpoint_traffic(ep))) == [
        (2, "live traffic sums to 90%; Azure requires a total of 0 or 100"),
        (
            4,
            "traffic names deployment 'ghost', which is not declared under endpoints/shop/deployments/ (declared: blue)",
        ),
        (
            6,
            "deployment 'blue' receives live traffic (60%) and mirror traffic; a deployment can be live or mirrored, not both",
        ),
        (6, "mirror_traffic to 'blue' is 70%; Azure allows 0-50%"),
    ]


def test_endpoint_traffic_ok_and_deployment_cap(tmp_path: Path) -> None:
    ok = endpoint(tmp_path, "name: shop\ntraffic:\n  blue: 90\n  green: 10\n", ["blue", "green"])
    assert endpoint_traffic(ok) == []
    many = [f"d{i}" for i in range(MAX_DEPLOYMENTS_PER_ENDPOINT + 1)]
    crowded = endpoint(tmp_path, "name: shop\ntraffic:\n  d0: 100\n", many)
    assert found(endpoint_traffic(crowded)) == [
        (
            1,
            f"endpoint 'shop' declares {len(many)} deployments; Azure allows at most {MAX_DEPLOYMENTS_PER_ENDPOINT} per endpoint",
        )
    ]


# ------------------------------------------------------------------------------------- monitors
def monitor(ref: str | None) -> SimpleNamespace:
    return SimpleNamespace(
        create_monitor=SimpleNamespace(monitoring_target=SimpleNamespace(endpoint_deployment_id=ref))
    )


MONITOR_YAML = (
    "name: m\ncreate_monitor:\n  monitoring_target:\n    endpoint_deployment_id: azureml:shop:blue\n"
)
COLLECTING = "name: blue\ndata_collector:\n  collections:\n    model_inputs: {enabled: 'true'}\n    model_outputs: {enabled: 'True'}\n"


def state_with(tmp_path: Path, deployment_yaml: str) -> DesiredState:
    (tmp_path / "environment.yaml").write_text("target: local\n")
    manifest, _ = load_manifest_lenient(tmp_path)
    state = DesiredState(manifest=manifest)
    ep = endpoint(tmp_path, "name: shop\ntraffic: {blue: 100}\n", [])
    dep_doc = yaml_doc(tmp_path, deployment_yaml, "endpoints/shop/deployments/blue.yml")
    ep.deployments["blue"] = DesiredDeployment("blue", "shop", None, dep_doc, "h")
    state.endpoints["shop"] = ep
    return state


def test_monitor_targets(tmp_path: Path) -> None:
    doc = yaml_doc(tmp_path, MONITOR_YAML, "monitors/m.yml")
    state = state_with(tmp_path, COLLECTING)
    assert monitor_target(doc, monitor("azureml:shop:blue"), state) == ("shop", "blue", [])
    assert monitor_target(doc, monitor(None), state) == (None, None, [])
    assert found(monitor_target(doc, monitor("shop/blue"), state)[2]) == [
        (
            4,
            "endpoint_deployment_id 'shop/blue' must be azureml:<endpoint>:<deployment> of a declared deployment",
        )
    ]
    assert found(monitor_target(doc, monitor("azureml:cart:blue"), state)[2]) == [
        (4, "monitor targets endpoint 'cart', which is not declared in this environment")
    ]
    assert found(monitor_target(doc, monitor("azureml:shop:red"), state)[2]) == [
        (4, "monitor targets deployment 'red', which is not declared under endpoint 'shop'")
    ]


def test_monitor_needs_collection(tmp_path: Path) -> None:
    doc = yaml_doc(tmp_path, MONITOR_YAML, "monitors/m.yml")
    state = state_with(
        tmp_path, "name: blue\ndata_collector:\n  collections:\n    model_inputs: {enabled: 'true'}\n"
    )
    dep_file = state.endpoints["shop"].deployments["blue"].doc.file
    assert found(monitor_target(doc, monitor("azureml:shop:blue"), state)[2]) == [
        (
            4,
            "monitor needs deployment shop/blue to collect model_outputs; add "
            f"data_collector.collections.<name>.enabled: 'true' in {dep_file}",
        )
    ]
    assert found(is_monitor_schedule(yaml_doc(tmp_path, "name: m\ntrigger: {}\n"))) == [
        (1, "a monitor file must be a schedule with `create_monitor:` (Azure ML model monitor YAML)")
    ]


# -------------------------------------------------------------------------------------- rollout
def rollout_env(tmp_path: Path, manifest_text: str) -> tuple[Path, object]:
    (tmp_path / "environment.yaml").write_text(manifest_text)
    manifest, diags = load_manifest_lenient(tmp_path)
    assert diags == []
    folder = tmp_path / "endpoints" / "shop"
    folder.mkdir(parents=True, exist_ok=True)
    return folder, manifest


def test_rollout_merges_endpoint_over_environment(tmp_path: Path) -> None:
    folder, manifest = rollout_env(
        tmp_path,
        "target: local\nrollout:\n  steps:\n    - {weight: 10, duration: 1m}\n  analysis:\n    min_requests: 5\n",
    )
    (folder / "req.json").write_text('{"x": 1}')
    doc, diags = load_rollout_doc(
        _write(folder / "rollout.yml", "analysis:\n  failure_limit: 3\nsmoke_test:\n  request: req.json\n")
    )
    spec, problems = rollout_spec(doc, diags, folder, manifest)
    assert problems == []
    assert spec is not None
    assert spec.steps == (("weight", 10, 60.0),)
    assert (spec.analysis.min_requests, spec.analysis.failure_limit, spec.analysis.interval_s) == (5, 3, 1.0)
    assert spec.smoke_test is not None
    assert spec.smoke_test.request_body == '{"x": 1}'
    assert spec.source == f"{manifest.path} + {folder / 'rollout.yml'}"


def test_rollout_absent_or_broken(tmp_path: Path) -> None:
    folder, manifest = rollout_env(tmp_path, "target: local\n")
    assert rollout_spec(None, [], folder, manifest) == (None, [])
    doc, diags = load_rollout_doc(_write(folder / "rollout.yml", "analysis:\n  min_requests: 5\n"))
    assert found(rollout_spec(doc, diags, folder, manifest)[1]) == [
        (1, "a rollout needs `steps` (here or in environment.yaml `rollout:`)")
    ]
    doc, diags = load_rollout_doc(
        _write(
            folder / "rollout.yml", "steps:\n  - {weight: 50, duration: 1m}\n  - {weight: 10, duration: 1m}\n"
        )
    )
    assert found(rollout_spec(doc, diags, folder, manifest)[1]) == [
        (1, "steps: weights must not decrease (got [50, 10])")
    ]


def _write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


# ------------------------------------------------------------------- parsing, SDK errors, hashing
def test_parse_mapping(tmp_path: Path) -> None:
    doc, diags = parse_mapping(_write(tmp_path / "a.yml", "name: x\n"))
    assert doc is not None
    assert diags == []
    assert found(parse_mapping(_write(tmp_path / "b.yml", "- 1\n- 2\n"))[1]) == [
        (1, "expected a YAML mapping")
    ]
    bad = parse_mapping(_write(tmp_path / "c.yml", "name: x\n  bad: [\n"))[1]
    assert [d.line for d in bad] == [2]
    assert bad[0].message.startswith("invalid YAML: ")


def test_sdk_error_diagnostics(tmp_path: Path) -> None:
    doc = yaml_doc(tmp_path, "name: d\ninstance_count: two\nfoo: 1\n")
    exc = ValueError(
        'Validation failed: {"instance_count": ["Not a valid integer."], "foo": ["Unknown field."]}'
    )
    assert found(sdk_error_diagnostics(doc, exc, "managed online deployment")) == [
        (2, "`instance_count`: Not a valid integer."),
        (
            3,
            "`foo`: Unknown field. (not part of the Azure ML managed online deployment YAML schema; remove it or fix its spelling)",
        ),
    ]
    chained = NotImplementedError()
    chained.__cause__ = exc
    assert len(sdk_error_diagnostics(doc, chained, "monitor schedule")) == 2
    assert found(sdk_error_diagnostics(doc, RuntimeError("no details here\nmore"), "online endpoint")) == [
        (1, "invalid online endpoint: no details here")
    ]


def test_spec_hash_follows_local_files(tmp_path: Path) -> None:
    (tmp_path / "model").mkdir()
    (tmp_path / "model" / "w.bin").write_bytes(b"1")
    doc = yaml_doc(tmp_path, "name: d\nmodel:\n  path: model\ncode_configuration:\n  code: missing\n")
    assert local_paths(doc) == [tmp_path / "model"]
    before = spec_hash(doc, local_paths(doc))
    (tmp_path / "model" / "w.bin").write_bytes(b"2")
    assert spec_hash(doc, local_paths(doc)) != before
    assert spec_hash(doc, []) == spec_hash(
        yaml_doc(tmp_path, "model: {path: model}\nname: d\ncode_configuration: {code: missing}\n", "o.yml"),
        [],
    )


# ------------------------------------------------------------------------------------ discovery
def test_discover_today_layout(tmp_path: Path) -> None:
    _write_tree(
        tmp_path,
        {
            "endpoints/shop/endpoint.yml": "",
            "endpoints/shop/rollout.yaml": "",
            "endpoints/shop/deployments/blue.yml": "",
            "endpoints/shop/deployments/green.yaml": "",
            "endpoints/shop/deployments/notes.txt": "",
            "endpoints/empty/README.md": "",
            "monitors/m.yml": "",
            "monitors/skip.json": "",
        },
    )
    files = discover(tmp_path)
    by_name = {e.folder.name: e for e in files.endpoints}
    # A folder under endpoints/ without an endpoint file (a model folder) is not an endpoint.
    assert sorted(by_name) == ["shop"]
    shop = by_name["shop"]
    assert shop.endpoint == tmp_path / "endpoints/shop/endpoint.yml"
    assert shop.rollout == tmp_path / "endpoints/shop/rollout.yaml"
    assert [p.name for p in shop.deployments] == ["blue.yml", "green.yaml"]
    assert [p.name for p in files.monitors] == ["m.yml"]
    assert discover(tmp_path / "nowhere").endpoints == ()


def _write_tree(root: Path, files: dict[str, str]) -> None:
    for rel_path, text in files.items():
        path = root / rel_path
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


# ------------------------------------------------------------------------- load_desired composed
ENDPOINT = "name: shop\nauth_mode: key\ntraffic:\n  blue: 100\n"
DEPLOYMENT = (
    "name: {name}\nendpoint_name: shop\nmodel: azureml:m:1\nenvironment: azureml:env:1\n"
    "instance_type: Standard_DS3_v2\ninstance_count: 1\n"
)


def test_load_desired_composes_discovery_loading_and_rules(tmp_path: Path) -> None:
    from gitops.desired import load_desired

    _write_tree(
        tmp_path,
        {
            "environment.yaml": "target: local\n",
            "endpoints/shop/endpoint.yml": ENDPOINT,
            "endpoints/shop/deployments/blue.yml": DEPLOYMENT.format(name="blue"),
        },
    )
    state = load_desired(tmp_path)
    shop = state.endpoints["shop"]
    assert (state.env, list(state.endpoints), list(shop.deployments)) == (tmp_path.name, ["shop"], ["blue"])
    assert shop.traffic == {"blue": 100}
    assert shop.rollout is None
    assert len(shop.deployments["blue"].spec_hash) == 16


def test_load_desired_reports_every_file_problem(tmp_path: Path) -> None:
    from gitops.desired import load_desired
    from gitops.errors import InputErrors

    _write_tree(
        tmp_path,
        {
            "environment.yaml": "target: local\n",
            "endpoints/shop/endpoint.yml": ENDPOINT,
            "endpoints/shop/deployments/blue.yml": DEPLOYMENT.format(name="blue"),
            "endpoints/shop/deployments/blue2.yml": DEPLOYMENT.format(name="Blue"),
            "endpoints/lost/deployments/x.yml": DEPLOYMENT.format(name="x").replace("shop", "gone"),
            "monitors/m.yml": "name: m\n",
        },
    )
    with pytest.raises(InputErrors) as err:
        load_desired(tmp_path)
    messages = [d.message for d in err.value.diagnostics]
    assert (
        "endpoint_name 'gone' names no endpoint declared in this environment (declared: shop); "
        "add its endpoint file or fix the name"
    ) in messages
    assert (
        "deployment 'Blue' is declared twice for endpoint 'shop' (as 'blue': Azure names are case-insensitive) "
        f"in {rel(tmp_path / 'endpoints/shop/deployments/blue.yml')}:1"
    ) in messages
    # The file stem need not equal the deployment's name (official examples: blue-deployment.yml).
    assert (
        "a monitor file must be a schedule with `create_monitor:` (Azure ML model monitor YAML)" in messages
    )
    assert len(messages) == 3


# ------------------------------------------------------------------------------- value rules
_BASE = "name: blue\nendpoint_name: shop\nmodel: azureml:m:1\nenvironment: azureml:env:1\n"


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ("instance_count: 1\n", []),
        ("instance_count: 3\n", []),
        (
            "instance_count: 0\n",
            [(5, "instance_count is 0; Azure requires an integer >= 1 (instances of the deployment)")],
        ),
        (
            "instance_count: -1\n",
            [(5, "instance_count is -1; Azure requires an integer >= 1 (instances of the deployment)")],
        ),
        (
            "instance_count: 2.5\n",
            [(5, "instance_count is 2.5; Azure requires an integer >= 1 (instances of the deployment)")],
        ),
        (
            "instance_count: true\n",
            [(5, "instance_count is True; Azure requires an integer >= 1 (instances of the deployment)")],
        ),
        ("", [(1, "instance_count is missing; Azure requires it for a managed deployment (1 or more)")]),
        (
            "instance_count: 1\nrequest_settings:\n  request_timeout_ms: 180001\n",
            [
                (
                    7,
                    "request_settings.request_timeout_ms is 180001; Azure requires an integer from 1 to 180000 "
                    "(reference-yaml-deployment-managed-online)",
                )
            ],
        ),
        ("instance_count: 1\nrequest_settings:\n  request_timeout_ms: 180000\n", []),
        (
            "instance_count: 1\nrequest_settings:\n  max_concurrent_requests_per_instance: 0\n",
            [
                (
                    7,
                    "request_settings.max_concurrent_requests_per_instance is 0; Azure requires an integer >= 1 "
                    "(reference-yaml-deployment-managed-online)",
                )
            ],
        ),
        (
            "instance_count: 1\nreadiness_probe:\n  initial_delay: 0\n  period: 5\n",
            [
                (
                    7,
                    "readiness_probe.initial_delay is 0; Azure requires an integer >= 1 "
                    "(reference-yaml-deployment-managed-online)",
                )
            ],
        ),
        (
            "instance_count: 1\nliveness_probe:\n  success_threshold: 2\n",
            [
                (
                    7,
                    "liveness_probe.success_threshold is 2; Azure fixes it at 1 for a liveness probe (remove it "
                    "or set 1)",
                )
            ],
        ),
    ],
)
def test_deployment_values(tmp_path: Path, extra: str, expected: list[tuple[int, str]]) -> None:
    assert found(deployment_values(yaml_doc(tmp_path, _BASE + extra))) == expected


_NO_MODEL = (
    "the deployment has no `model`; add `model: azureml:<name>:<version>` (Azure allows no model only "
)
_NO_MODEL += "for a custom container: an environment with `inference_config`)"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("model: azureml:m:1\nenvironment: azureml:e:1\n", []),
        ("environment: azureml:e:1\ncode_configuration:\n  code: src\n", [(2, _NO_MODEL)]),
        ("environment:\n  image: mcr.microsoft.com/azureml/base:1\n", [(1, _NO_MODEL)]),
        # a custom container serves without a model, as Azure's docs allow
        ("environment:\n  image: acr.io/tfs:1\n  inference_config:\n    scoring_route: {port: 8501}\n", []),
        # a model package (azureml-examples deploy-with-packages) carries its model
        ("environment: azureml:pkg:3\n", []),
        (
            "instance_type: x\n",
            [
                (
                    1,
                    "the deployment has neither `model` nor `environment`; Azure requires an environment, and a "
                    "model unless the environment is a custom container",
                )
            ],
        ),
    ],
)
def test_model_present(tmp_path: Path, text: str, expected: list[tuple[int, str]]) -> None:
    assert found(model_present(yaml_doc(tmp_path, text))) == expected


_MONITOR = "name: m\ncreate_monitor: {}\ntrigger:\n"


@pytest.mark.parametrize(
    ("trigger", "expected"),
    [
        ("  type: cron\n  expression: '15 3 * * *'\n", []),
        ("  type: cron\n  expression: '*/15 0-6,22 1 JAN-MAR mon-fri'\n", []),
        ("  type: cron\n  expression: '0 0 * * 7'\n", []),
        (
            "  type: cron\n  expression: '15 25 * * *'\n",
            [
                (
                    5,
                    "trigger.expression '15 25 * * *' field 2 (hour) '25' is out of range: Azure's cron takes 0-23",
                )
            ],
        ),
        (
            "  type: cron\n  expression: '60 1 * * *'\n",
            [
                (
                    5,
                    "trigger.expression '60 1 * * *' field 1 (minute) '60' is out of range: Azure's cron takes 0-59",
                )
            ],
        ),
        (
            "  type: cron\n  expression: '0 1 0 * *'\n",
            [
                (
                    5,
                    "trigger.expression '0 1 0 * *' field 3 (day of month) '0' is out of range: Azure's cron "
                    "takes 1-31",
                )
            ],
        ),
        (
            "  type: cron\n  expression: '0 1 * * * *'\n",
            [
                (
                    5,
                    "trigger.expression '0 1 * * * *' has 6 fields; Azure takes five: minute hour day-of-month "
                    "month day-of-week",
                )
            ],
        ),
        ("  type: recurrence\n  frequency: day\n  interval: 1\n  schedule: {hours: 3, minutes: 15}\n", []),
        (
            "  type: recurrence\n  frequency: day\n  interval: 1\n  schedule:\n    hours: 27\n    minutes: 15\n",
            [(8, "trigger.schedule.hours 27 is out of range: Azure takes integers 0-23")],
        ),
        (
            "  type: recurrence\n  frequency: day\n  interval: 1\n  schedule:\n    hours: [1, 2]\n    minutes: [0, 60]\n",
            [(9, "trigger.schedule.minutes 60 is out of range: Azure takes integers 0-59")],
        ),
        (
            "  type: recurrence\n  frequency: week\n  interval: 1\n  schedule:\n    hours: 1\n    minutes: 0\n"
            "    week_days: [monday, funday]\n",
            [
                (
                    10,
                    "trigger.schedule.week_days 'funday' is not a day: Azure takes monday, tuesday, wednesday, "
                    "thursday, friday, saturday, sunday",
                )
            ],
        ),
        (
            "  type: recurrence\n  frequency: day\n  interval: 0\n",
            [(6, "trigger.interval 0 must be an integer >= 1 (Azure's recurrence interval)")],
        ),
    ],
)
def test_schedule_ranges(tmp_path: Path, trigger: str, expected: list[tuple[int, str]]) -> None:
    assert found(schedule_ranges(yaml_doc(tmp_path, _MONITOR + trigger))) == expected


def test_names_are_case_insensitive(tmp_path: Path) -> None:
    first = yaml_doc(tmp_path, "auth_mode: key\nname: Shop\n", "a/endpoint.yml")
    second = yaml_doc(tmp_path, "name: shop\n", "b/endpoint.yml")
    assert found(endpoint_declared_once(second, "shop", {"Shop": first})) == [
        (
            1,
            f"endpoint name 'shop' is endpoint 'Shop' already declared in {first.file}:2: Azure names are "
            "case-insensitive; rename one",
        )
    ]
    assert found(monitor_declared_once(second, "M", {"m": first})) == [
        (1, f"monitor 'M' is declared twice (as 'm': Azure names are case-insensitive, also in {first.file})")
    ]


def test_case_twins_are_reported_against_the_second_file(tmp_path: Path) -> None:
    from gitops.desired import load_desired
    from gitops.errors import InputErrors

    _write_tree(
        tmp_path,
        {
            "environment.yaml": "target: local\n",
            "endpoints/shop/endpoint.yml": ENDPOINT,
            "endpoints/shop/deployments/Blue.yml": DEPLOYMENT.format(name="Blue"),
            "endpoints/shop/deployments/blue.yml": DEPLOYMENT.format(name="blue"),
        },
    )
    with pytest.raises(InputErrors) as err:
        load_desired(tmp_path)
    twice = [d for d in err.value.diagnostics if "declared twice" in d.message]
    assert [(d.file, d.line) for d in twice] == [(rel(tmp_path / "endpoints/shop/deployments/blue.yml"), 1)]
    assert twice[0].message.endswith(f"in {rel(tmp_path / 'endpoints/shop/deployments/Blue.yml')}:1")


# ------------------------------------------------------------------------------------- paths
def repo_with_deployment(tmp_path: Path, body: str) -> YamlDoc:
    """A repository (a .git folder marks it) with one deployment file five levels down."""
    (tmp_path / ".git").mkdir(parents=True, exist_ok=True)
    (tmp_path / "samples" / "code").mkdir(parents=True, exist_ok=True)
    (tmp_path / "samples" / "code" / "score.py").write_text("def run(x): return x\n")
    return yaml_doc(tmp_path, "name: blue\n" + body, "environments/dev/endpoints/shop/deployments/blue.yml")


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("code_configuration:\n  code: ../../../../../samples/code\n", []),
        (
            "code_configuration:\n  code: ../../../../../samples/nothing\n",
            [
                "code_configuration.code '../../../../../samples/nothing' does not exist; fix the path (relative "
                "to this file) or add it"
            ],
        ),
        (
            "code_configuration:\n  code: ../../../../../samples/code/score.py\n",
            [
                "code_configuration.code '../../../../../samples/code/score.py' is not a folder; it must name "
                "a folder"
            ],
        ),
        (
            "environment:\n  conda_file: ../../../../../samples/code\n",
            ["environment.conda_file '../../../../../samples/code' is not a file; it must name a file"],
        ),
        ("model: {path: azureml://datastores/x/paths/m}\ncode_configuration: {code: azureml:c:1}\n", []),
    ],
)
def test_referenced_paths(tmp_path: Path, body: str, expected: list[str]) -> None:
    doc = repo_with_deployment(tmp_path, body)
    assert [(d.line, d.message) for d in referenced_paths(doc)] == [(3, m) for m in expected]


def test_path_outside_the_repository(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    doc = repo_with_deployment(repo, "code_configuration:\n  code: ../../../../../../elsewhere\n")
    assert found(referenced_paths(doc)) == [
        (
            3,
            f"code_configuration.code '../../../../../../elsewhere' resolves to {outside.resolve()}, outside the "
            f"repository ({repo.resolve()}); apply would upload it: keep models, code and conda files inside "
            "the repository",
        )
    ]


def test_symlinks_followed_to_their_target(tmp_path: Path) -> None:
    repo, outside = tmp_path / "repo", tmp_path / "secrets"
    outside.mkdir()
    (outside / "id_rsa").write_text("key")
    doc = repo_with_deployment(
        repo, "code_configuration:\n  code: ../../../../../samples/code\nmodel:\n  path: m\n"
    )
    folder = doc.path.parent
    (folder / "m").symlink_to(outside)  # the path itself is a link out
    (repo / "samples" / "code" / "keys").symlink_to(outside)  # a link inside an uploaded folder
    (folder / "loop").symlink_to(folder / "loop")
    assert found(referenced_paths(doc)) == [
        (
            5,
            f"model.path 'm' resolves to {outside.resolve()}, outside the repository ({repo.resolve()}); apply "
            "would upload it: keep models, code and conda files inside the repository",
        ),
        (
            3,
            "code_configuration.code '../../../../../samples/code': "
            f"{repo.resolve() / 'samples/code/keys'} links outside the repository, to {outside.resolve()}",
        ),
    ]
    loop = yaml_doc(folder, "name: x\nmodel:\n  path: loop\n", "loop.yml")
    assert found(referenced_paths(loop)) == [
        (3, "model.path 'loop' is a symlink loop (a link that points back at itself); fix or remove the link")
    ]
    # spec_hash hashes what is uploaded and never reads the file outside the repository
    before = spec_hash(doc, local_paths(doc))
    assert local_paths(doc) == [(repo / "samples" / "code").resolve()]
    (outside / "id_rsa").write_text("changed")
    assert spec_hash(doc, local_paths(doc)) == before


def test_monitor_reference_data_paths(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    doc = yaml_doc(
        tmp_path,
        "name: m\ncreate_monitor:\n  monitoring_signals:\n    drift:\n      reference_data:\n        input_data:\n"
        "          path: ./missing.csv\n    quality:\n      reference_data:\n        input_data:\n"
        "          path: azureml:ref:1\n",
        "environments/dev/monitors/m.yml",
    )
    assert found(monitor_paths(doc)) == [
        (
            7,
            "create_monitor.monitoring_signals.drift.reference_data.input_data.path './missing.csv' does not "
            "exist; fix the path (relative to this file) or add it",
        )
    ]
