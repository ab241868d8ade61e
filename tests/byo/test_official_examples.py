"""Bring your own YAML: the official Azure/azureml-examples files, unchanged, as a user keeps them.

Why: a team adopting this tool already has CLI v2 YAML copied from Azure/azureml-examples (issue 13).
The fixtures in ``azureml-examples/`` are those files byte for byte (``azureml-examples/NOTICE``
names repository, commit, paths and license). Each *set* is what a user would copy into one
environment: ``environments/<set>/`` holds the examples' own ``cli/...`` tree, so every relative path
in the files (``../../model-1/model/``) resolves exactly as in the examples repository.

Valid sets must validate, plan, apply on the local target, answer the sample's own
``sample-request.json`` through the router and re-plan to no changes. Sets that must be refused
must say so with one clear line per cause.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from localkit import score

HERE = Path(__file__).resolve().parent
EXAMPLES = HERE / "azureml-examples"
LEGACY = HERE / "azureml-examples-2021"
ONLINE = "cli/endpoints/online"
SAMPLE = f"{ONLINE}/managed/sample"
IDENTITIES = f"{ONLINE}/managed/managed-identities"
E2E = "cli/monitoring/azureml-e2e-model-monitoring"
MODELS = (f"{ONLINE}/model-1", f"{ONLINE}/model-2")

pytestmark = pytest.mark.e2e


@dataclass(frozen=True)
class ExampleSet:
    """What a user copies into one environment: files or folders, at their examples-repo paths."""

    paths: tuple[str, ...]
    source: Path = EXAMPLES
    manifest: str = ""  # extra environment.yaml lines


SETS: dict[str, ExampleSet] = {
    # The managed sample as its README deploys it: endpoint.yml, blue and green (model-1, model-2).
    "sample": ExampleSet(
        (
            f"{SAMPLE}/endpoint.yml",
            f"{SAMPLE}/blue-deployment.yml",
            f"{SAMPLE}/green-deployment.yml",
            f"{SAMPLE}/sample-request.json",
            *MODELS,
        )
    ),
    # The whole sample folder: three alternative blue files and three green ones, same names.
    "sample-folder": ExampleSet((SAMPLE, *MODELS)),
    # The whole folder, the alternatives left out by environment.yaml (what a user would do).
    "sample-folder-excluded": ExampleSet(
        (SAMPLE, *MODELS), manifest=f"exclude:\n  - '{SAMPLE}/*-with-*.yml'\n"
    ),
    # System-assigned identity: endpoint and deployment side by side, no endpoint_name.
    "identity-sai": ExampleSet(
        (
            f"{IDENTITIES}/1-sai-create-endpoint.yml",
            f"{IDENTITIES}/2-sai-deployment.yml",
            f"{IDENTITIES}/hello.txt",
            MODELS[0],
        )
    ),
    # User-assigned identity (its resource ID is a placeholder the README says to replace).
    "identity-uai": ExampleSet(
        (f"{IDENTITIES}/1-uai-create-endpoint.yml", f"{IDENTITIES}/2-uai-deployment.yml", MODELS[0])
    ),
    # The whole folder: two endpoints, two deployments named blue, none says its endpoint.
    "identity-folder": ExampleSet((IDENTITIES, MODELS[0])),
    "minimal": ExampleSet((f"{ONLINE}/managed/minimal", MODELS[0])),
    "keyvault": ExampleSet((f"{ONLINE}/managed/keyvault",)),
    "e2e-monitoring": ExampleSet((E2E, "cli/monitoring/out-of-box-monitoring.yaml")),
    "custom-monitor": ExampleSet(("cli/monitoring/custom-monitoring.yaml",)),
    # A generation safety and quality monitor: fields the installed azure-ai-ml does not know.
    "gsq-monitor": ExampleSet(("cli/monitoring/generation-safety-quality-monitoring.yaml",)),
    "kubernetes": ExampleSet((f"{ONLINE}/kubernetes", MODELS[0])),
    "legacy-2021": ExampleSet((f"{ONLINE}/managed/simple-flow",), LEGACY),
}


def build(root: Path, name: str) -> Path:
    """A throw-away repository with environments/<name>/ holding the set as the examples keep it."""
    env = root / "environments" / name
    env.mkdir(parents=True)
    (env / "environment.yaml").write_text(
        f"target: local\nlocal:\n  state_dir: {root / 'state'}\n  model_registry: {root / 'registry'}\n"
        + SETS[name].manifest
    )
    spec = SETS[name]
    for rel in spec.paths:
        src, dst = spec.source / rel, env / rel
        dst.parent.mkdir(parents=True, exist_ok=True)
        if src.is_dir():
            shutil.copytree(src, dst)
        else:
            shutil.copy2(src, dst)
    return root


def mlops(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, MLOPS_LOCK_DIR=str(root / "locks"))
    return subprocess.run(
        [sys.executable, "-m", "mlops.cli", *args, "--environments", str(root / "environments")],
        capture_output=True,
        text=True,
        env=env,
        cwd=root,
        timeout=300,
    )


def output(r: subprocess.CompletedProcess[str]) -> str:
    return r.stdout + r.stderr


def lines_naming(text: str, needle: str) -> list[str]:
    return [line for line in text.splitlines() if needle in line]


def wait_for(condition: Callable[[], bool], *, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.5)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def assert_one_line_per_cause(text: str) -> None:
    """No SDK union-schema paragraphs, no Python source excerpts, no traceback (issue 13, item 10)."""
    assert "Traceback" not in text, text
    assert "^^^" not in text, text
    assert "In order to specify" not in text, text


# ---------------------------------------------------------------------------------------- valid sets
@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    root = build(tmp_path_factory.mktemp("byo-sample"), "sample")
    try:
        yield root
    finally:
        mlops(root, "down", "--env", "sample")


def test_sample_validates(sample: Path) -> None:
    r = mlops(sample, "validate", "--env", "sample")
    assert r.returncode == 0, output(r)
    assert re.search(r"1 endpoint\(s\), 2 deployment\(s\)", output(r)), output(r)


def test_sample_plans_endpoint_and_both_deployments(sample: Path) -> None:
    r = mlops(sample, "plan", "--env", "sample")
    assert r.returncode == 0, output(r)
    text = output(r)
    assert "my-endpoint" in text, text
    assert "blue" in text, text
    assert "green" in text, text


def test_sample_applies_serves_and_replans_clean(sample: Path) -> None:
    r = mlops(sample, "apply", "--env", "sample", "--target", "local", "--auto-approve")
    assert r.returncode == 0, output(r)
    r = mlops(sample, "get-credentials", "--env", "sample", "--endpoint", "my-endpoint", "-o", "json")
    assert r.returncode == 0, output(r)
    creds = json.loads(r.stdout)
    request = (sample / "environments" / "sample" / SAMPLE / "sample-request.json").read_bytes()
    # The file omits traffic, so git does not manage the split and both start at 0 %: the request
    # names its deployment, as `az ml online-endpoint invoke --deployment-name` does.
    for deployment in ("blue", "green"):
        holder: dict[str, object] = {}

        def answered(d: str = deployment, box: dict[str, object] = holder) -> bool:
            reply = score(creds["scoringUri"], request, key=creds["primaryKey"], deployment=d)
            box["reply"] = reply
            return reply.status == 200

        wait_for(answered, timeout=60, what=f"{deployment} to answer 200")
        predictions = holder["reply"].json()  # type: ignore[attr-defined]
        # The official pickles are scikit-learn 0.24.2 LinearRegressions; two rows in, two numbers out.
        assert len(predictions) == 2, predictions
    r = mlops(sample, "plan", "--env", "sample", "--detailed-exitcode")
    assert r.returncode == 0, output(r)
    assert "No changes" in output(r), output(r)


def test_whole_sample_folder_with_alternatives_excluded_validates_and_plans(tmp_path: Path) -> None:
    root = build(tmp_path, "sample-folder-excluded")
    r = mlops(root, "validate", "--env", "sample-folder-excluded")
    assert r.returncode == 0, output(r)
    assert re.search(r"1 endpoint\(s\), 2 deployment\(s\)", output(r)), output(r)
    r = mlops(root, "plan", "--env", "sample-folder-excluded")
    assert r.returncode == 0, output(r)
    assert "deployment/my-endpoint/blue" in output(r), output(r)


def test_system_assigned_identity_set_validates_and_plans(tmp_path: Path) -> None:
    root = build(tmp_path, "identity-sai")
    r = mlops(root, "validate", "--env", "identity-sai")
    assert r.returncode == 0, output(r)
    r = mlops(root, "plan", "--env", "identity-sai")
    assert r.returncode == 0, output(r)
    assert "my-sai-endpoint" in output(r), output(r)


def test_e2e_monitoring_set_validates_and_plans(tmp_path: Path) -> None:
    root = build(tmp_path, "e2e-monitoring")
    r = mlops(root, "validate", "--env", "e2e-monitoring")
    assert r.returncode == 0, output(r)
    assert re.search(r"1 endpoint\(s\), 1 deployment\(s\), 1 monitor\(s\)", output(r)), output(r)
    # The monitor and the deployment are the examples' own pair: the target resolves.
    assert "not declared in this environment" not in output(r), output(r)
    r = mlops(root, "plan", "--env", "e2e-monitoring")
    assert r.returncode == 0, output(r)
    assert "credit-default" in output(r), output(r)


def test_custom_monitor_validates_applies_and_replans_clean(tmp_path: Path) -> None:
    root = build(tmp_path, "custom-monitor")
    r = mlops(root, "validate", "--env", "custom-monitor")
    assert r.returncode == 0, output(r)
    assert "1 monitor(s)" in output(r), output(r)
    r = mlops(root, "apply", "--env", "custom-monitor", "--target", "local", "--auto-approve")
    assert r.returncode == 0, output(r)
    assert "monitor/my-custom-signal" in output(r), output(r)
    r = mlops(root, "plan", "--env", "custom-monitor", "--detailed-exitcode")
    assert r.returncode == 0, output(r)
    assert "No changes" in output(r), output(r)


def test_e2e_monitoring_apply_locally_names_the_unregistered_model(tmp_path: Path) -> None:
    # The model is registered by the examples' training pipeline, which does not run here.
    root = build(tmp_path, "e2e-monitoring")
    try:
        r = mlops(root, "apply", "--env", "e2e-monitoring", "--target", "local", "--auto-approve")
        assert r.returncode == 1, output(r)
        failed = [line for line in output(r).splitlines() if line.startswith("FAILED")]
        assert len(failed) == 1, output(r)
        assert "credit-default-model is not in the local model registry" in failed[0], output(r)
        assert "mlops models register" in failed[0], output(r)
    finally:
        mlops(root, "down", "--env", "e2e-monitoring")


def test_user_assigned_identity_failure_names_its_cause_and_plan_still_reads(tmp_path: Path) -> None:
    # score_managedidentity.py asks MSI_ENDPOINT for a token at start-up: no managed identity exists
    # on this machine, so the deployment fails -- and must say why, and not break later commands.
    root = build(tmp_path, "identity-uai")
    try:
        r = mlops(root, "apply", "--env", "identity-uai", "--target", "local", "--auto-approve")
        assert r.returncode == 1, output(r)
        failed = [line for line in output(r).splitlines() if line.startswith("FAILED")]
        assert len(failed) == 1, output(r)
        assert "TypeError" in failed[0], output(r)
        assert "(log: " in failed[0], output(r)
        for command in ("plan", "status"):
            r = mlops(root, command, "--env", "identity-uai")
            assert r.returncode == 0, output(r)
            assert "Traceback" not in output(r), output(r)
        assert "scoring URI http://127.0.0.1:" in r.stdout, output(r)
        assert "TypeError" in r.stdout, output(r)
    finally:
        mlops(root, "down", "--env", "identity-uai")


# ---------------------------------------------------------------------------------------- refused sets
def refused(tmp_path: Path, name: str) -> str:
    root = build(tmp_path, name)
    r = mlops(root, "validate", "--env", name)
    assert r.returncode == 1, output(r)
    text = output(r)
    assert_one_line_per_cause(text)
    return text


def test_whole_sample_folder_names_each_duplicate_once(tmp_path: Path) -> None:
    text = refused(tmp_path, "sample-folder")
    # Three files declare blue and three green: the later two of each are named, with the first.
    assert len(lines_naming(text, "deployment 'blue' is declared twice")) == 2, text
    assert len(lines_naming(text, "deployment 'green' is declared twice")) == 2, text


def test_whole_identity_folder_names_the_candidate_endpoints(tmp_path: Path) -> None:
    text = refused(tmp_path, "identity-folder")
    ambiguous = [line for line in lines_naming(text, "my-sai-endpoint") if "my-uai-endpoint" in line]
    assert ambiguous, text


def test_minimal_templates_are_named_as_placeholders(tmp_path: Path) -> None:
    text = refused(tmp_path, "minimal")
    assert "found unhashable key" not in text, text
    placeholder = lines_naming(text, "{{ENDPOINT_NAME}}")
    assert placeholder, text
    assert len(placeholder) == 1, text


def test_keyvault_placeholders_are_named(tmp_path: Path) -> None:
    text = refused(tmp_path, "keyvault")
    assert lines_naming(text, "<ENDPOINT_NAME>"), text
    assert not [line for line in text.splitlines() if "secret" in line.lower() and "KV_SECRET" in line], text


def test_generation_safety_monitor_is_one_line_per_cause(tmp_path: Path) -> None:
    text = refused(tmp_path, "gsq-monitor")
    causes = lines_naming(text, "generation-safety-quality-monitoring.yaml")
    # Three fields the installed SDK does not know (two data_window_size, workspace_connection_id);
    # on main before issue 13 this was 44 lines, one per monitor-signal union branch.
    assert len(causes) == 3, text
    assert len(set(causes)) == len(causes), text


def test_kubernetes_set_is_refused_one_line_per_file(tmp_path: Path) -> None:
    text = refused(tmp_path, "kubernetes")
    for name in (
        "kubernetes-endpoint.yml",
        "kubernetes-blue-deployment.yml",
        "kubernetes-green-deployment.yml",
    ):
        lines = lines_naming(text, name)
        assert len(lines) == 1, text
        assert "Kubernetes online" in lines[0], text
        assert "managed online endpoints and deployments only" in lines[0], text
    # The conda files beside the model are not resources: ignored, not refused.
    assert "conda" not in text, text


def test_legacy_2021_file_gets_todays_form(tmp_path: Path) -> None:
    text = refused(tmp_path, "legacy-2021")
    lines = lines_naming(text, "1-create-endpoint-with-blue.yml")
    assert lines, text
    assert any("deployments" in line for line in lines), text


# ---------------------------------------------------------------------------------------- the fixtures
# A clone (or bare git directory) of Azure/azureml-examples to compare the fixtures with, when a
# maintainer refreshes them: AZUREML_EXAMPLES_GIT=/path/to/azureml-examples/.git
MIRROR = Path(os.environ.get("AZUREML_EXAMPLES_GIT", "/nonexistent"))


def notice_paths(folder: Path) -> tuple[str, list[str]]:
    text = (folder / "NOTICE").read_text()
    commit = re.search(r"^Commit:\s+([0-9a-f]{40})", text, re.MULTILINE)
    assert commit, "NOTICE names no commit"
    return commit.group(1), re.findall(r"^  (cli/\S+)$", text, re.MULTILINE)


@pytest.mark.parametrize("folder", [EXAMPLES, LEGACY], ids=["head", "2021"])
def test_notice_lists_every_fixture_file(folder: Path) -> None:
    _, listed = notice_paths(folder)
    on_disk = sorted(str(p.relative_to(folder)) for p in (folder / "cli").rglob("*") if p.is_file())
    assert sorted(listed) == on_disk


@pytest.mark.parametrize("folder", [EXAMPLES, LEGACY], ids=["head", "2021"])
def test_fixtures_are_byte_identical_to_the_examples_repository(folder: Path) -> None:
    if not MIRROR.is_dir():
        pytest.skip("set AZUREML_EXAMPLES_GIT to a git directory of Azure/azureml-examples to compare with")
    commit, listed = notice_paths(folder)
    for rel in listed:
        blob = subprocess.run(
            ["git", "-C", str(MIRROR), "show", f"{commit}:{rel}"], capture_output=True, check=True
        ).stdout
        assert (folder / rel).read_bytes() == blob, rel


def test_official_sample_pickles_predict_with_the_installed_scikit_learn() -> None:
    """The pickles are scikit-learn 0.24.2 LinearRegressions: loading warns, predict still works.

    (Their repr fails on a current scikit-learn -- 'LinearRegression' has no attribute 'tol' -- so a
    scoring script that logs the model would fail; the official score.py does not.)
    """
    joblib = pytest.importorskip("joblib")
    numpy = pytest.importorskip("numpy")
    rows = json.loads((EXAMPLES / SAMPLE / "sample-request.json").read_text())["data"]
    for model in MODELS:
        with pytest.warns(UserWarning, match="0.24.2"):
            estimator = joblib.load(EXAMPLES / model / "model" / "sklearn_regression_model.pkl")
        predictions = estimator.predict(numpy.array(rows))
        assert predictions.shape == (2,)
