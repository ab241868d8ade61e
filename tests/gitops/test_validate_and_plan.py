"""validate error reporting, plan formats, saved plans, immutable fields and drift."""

from __future__ import annotations

import json
import re
from pathlib import Path

import yaml
from fake_arm import FakeArm
from test_reconcile import dep_file, edit, ep_file


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def test_validate_reports_every_error_with_file_and_line(mlops, envs: Path):
    env = envs / "broken"
    write(
        env / "environment.yaml",
        "target: azureml\nsubscription_id: 00000000-0000-0000-0000-000000000000\nresource_group: rg\nworkspace: ws1\nrequire_pinned_versions: true\nprunee: true\n",
    )
    write(
        env / "endpoints" / "shop" / "endpoint.yml",
        "name: shop\nauth_mode: key\ntraffic:\n  blue: 60\n  ghost: 30\nmirror_traffic:\n  blue: 70\nfoo: 1\n",
    )
    write(
        env / "endpoints" / "shop" / "deployments" / "blue.yml",
        "name: blue\nendpoint_name: shopp\nmodel: azureml:m@latest\nenvironment: azureml:env:1\n"
        "instance_type: Standard_DS3_v2\ninstance_count: two\nenvironment_variables:\n  DB_PASSWORD: hunter2\n",
    )
    write(env / "endpoints" / "9bad" / "endpoint.yml", "name: 9bad\nauth_mode: key\n")
    write(
        env / "monitors" / "m.yml",
        "name: m\ntrigger:\n  type: recurrence\n  frequency: day\n  interval: 1\ncreate_monitor:\n"
        "  compute: {instance_type: standard_e4s_v3, runtime_version: '3.4'}\n  monitoring_target:\n"
        "    ml_task: classification\n    endpoint_deployment_id: azureml:shop:blue\n",
    )
    r = mlops("validate", "--env", "broken")
    assert r.code == 1
    assert "Traceback" not in r.err
    lines = [ln for ln in r.err.splitlines() if re.match(r"^\S+:\d+: ", ln)]
    by_msg = "\n".join(lines)
    expected = [
        ("environment.yaml:6:", "unknown key `prunee`"),
        ("9bad/endpoint.yml:1:", "endpoint name '9bad' is invalid"),
        ("shop/endpoint.yml:5:", "traffic names deployment 'ghost'"),
        ("shop/endpoint.yml:3:", "live traffic sums to 90%"),
        ("shop/endpoint.yml:7:", "Azure allows 0-50%"),
        ("shop/endpoint.yml:7:", "live traffic (60%) and mirror traffic"),
        ("shop/endpoint.yml:8:", "`foo`: Unknown field."),
        ("blue.yml:2:", "endpoint_name 'shopp' does not match"),
        ("blue.yml:3:", "floats (latest)"),
        ("blue.yml:6:", "`instance_count`: Not a valid integer."),
        ("blue.yml:8:", "DB_PASSWORD looks like a secret"),
        ("monitors/m.yml:10:", "to collect model_inputs and model_outputs"),
    ]
    for where, what in expected:
        assert any(where in ln and what in ln for ln in lines), f"missing {where} {what} in:\n{by_msg}"
    assert f"{len(lines)} error(s)" in r.err


def test_monitor_needs_data_collection(mlops, envs: Path):
    blue = dep_file(envs, "credit-default", "blue")
    edit(blue, data_collector=None)
    r = mlops("validate", "--env", "dev")
    assert r.code == 1
    assert re.search(
        r"monitors/credit-default-blue\.yml:\d+: monitor needs deployment credit-default/blue to collect model_inputs and model_outputs",
        r.err,
    )


def test_shipped_environments_validate(mlops):
    r = mlops("validate")
    assert r.code == 0, r.err
    assert "dev: 2 endpoint(s), 3 deployment(s), 1 monitor(s)" in r.out


def test_plan_formats_and_saved_plan(mlops, fake: FakeArm, tmp_path: Path):
    out = tmp_path / "plan.json"
    r = mlops("plan", "--env", "dev", "--format", "markdown", "--out", str(out), "--detailed-exitcode")
    assert r.code == 2
    assert r.out.startswith("### mlops plan: `dev` (azureml)")
    assert "| 1 | `create_endpoint` | `endpoint/churn-score` |" in r.out
    saved = json.loads(out.read_text())
    kinds = [a["kind"] for a in saved["actions"]]
    assert kinds == sorted(kinds, key=lambda k: next(a["phase"] for a in saved["actions"] if a["kind"] == k))
    assert saved["summary"]["create"] == 6
    assert saved["fingerprint"]
    r = mlops("plan", "--env", "dev", "--format", "json")
    assert json.loads(r.out)["fingerprint"] == saved["fingerprint"]

    assert mlops("apply", "--env", "dev", "--plan", str(out)).code == 0
    assert fake.traffic("credit-default") == {"blue": 90, "green": 10}
    # The same plan again is stale: the environment changed since it was made.
    r = mlops("apply", "--env", "dev", "--plan", str(out))
    assert r.code == 1
    assert "stale" in r.err


def test_stale_plan_refused_when_someone_changed_azure(mlops, fake: FakeArm, envs: Path, tmp_path: Path):
    assert mlops("apply", "--env", "dev", "--auto-approve").code == 0
    edit(ep_file(envs, "credit-default"), traffic={"blue": 50, "green": 50})
    out = tmp_path / "plan.json"
    assert mlops("plan", "--env", "dev", "--out", str(out)).code == 0
    fake.endpoints["credit-default"]["properties"]["traffic"] = {"blue": 100}
    mark = len(fake.log)
    r = mlops("apply", "--env", "dev", "--plan", str(out))
    assert r.code == 1
    assert "stale" in r.err
    assert fake.writes(mark) == []


def test_immutable_field_on_live_deployment_is_refused_with_guidance(mlops, fake: FakeArm, envs: Path):
    assert mlops("apply", "--env", "dev", "--auto-approve").code == 0
    edit(dep_file(envs, "credit-default", "blue"), instance_type="Standard_F4s_v2")
    r = mlops("plan", "--env", "dev")
    assert r.code == 1
    assert "BLOCKED" in r.out
    assert "instance_type" in r.out
    assert "move traffic to it" in r.out
    mark = len(fake.log)
    assert mlops("apply", "--env", "dev", "--auto-approve").code == 1
    assert fake.writes(mark) == []


def test_immutable_field_on_idle_deployment_is_replaced(mlops, fake: FakeArm, envs: Path):
    edit(ep_file(envs, "credit-default"), traffic={"blue": 100})
    assert mlops("apply", "--env", "dev", "--auto-approve").code == 0
    edit(dep_file(envs, "credit-default", "green"), instance_type="Standard_F4s_v2")
    r = mlops("plan", "--env", "dev")
    assert "replace_deployment" in r.out
    assert "instance_type: standard_ds3_v2 -> standard_f4s_v2" in r.out
    assert mlops("apply", "--env", "dev", "--auto-approve").code == 0
    assert fake.deployments[("credit-default", "green")]["properties"]["instanceType"] == "Standard_F4s_v2"
    assert fake.traffic("credit-default") == {"blue": 100}


def test_status_reports_drift(mlops, fake: FakeArm):
    assert mlops("apply", "--env", "dev", "--auto-approve").code == 0
    r = mlops("status", "--env", "dev", "--detailed-exitcode")
    assert r.code == 0
    assert "dev: in sync" in r.out
    fake.endpoints["churn-score"]["tags"]["owner"] = "portal-user"
    fake.deployments[("churn-score", "main")]["sku"]["capacity"] = 5
    r = mlops("status", "--env", "dev", "--output", "json", "--detailed-exitcode")
    assert r.code == 2
    body = r.json()
    assert body["status"] == "drifted"
    fields = {(d["resource"], f["field"]) for d in body["drift"] for f in d["diff"]}
    assert ("deployment/churn-score/main", "instance_count") in fields
    assert ("endpoint/churn-score", "tags") in fields


def test_prod_is_applied_with_hardening(mlops, fake: FakeArm):
    r = mlops("apply", "--env", "prod", "--auto-approve")
    assert r.code == 0, r.err
    ep = fake.endpoints["credit-default"]
    assert ep["properties"]["authMode"] == "AADToken"
    assert ep["properties"]["publicNetworkAccess"] == "Disabled"
    assert fake.endpoints["credit-default"]["properties"]["mirrorTraffic"] == {"green": 10}
    dep = fake.deployments[("credit-default", "blue")]
    assert dep["properties"]["egressPublicNetworkAccess"] == "Disabled"
    assert dep["sku"]["capacity"] == 2
    assert mlops("plan", "--env", "prod", "--detailed-exitcode").code == 0


def test_unknown_environment_and_missing_confirmation(mlops, envs: Path):
    r = mlops("plan", "--env", "nope")
    assert r.code == 1
    assert "environment 'nope' not found" in r.err
    assert "Traceback" not in r.err
    data = yaml.safe_load((envs / "dev" / "environment.yaml").read_text())
    assert data["target"] == "azureml"
    r = mlops("apply", "--env", "dev")  # stdin is not a terminal under pytest
    assert r.code == 1
    assert "--auto-approve" in r.err
    # Machines asking for JSON get the refusal as JSON on stdout as well.
    r = mlops("apply", "--env", "nope", "--auto-approve", "--output", "json")
    assert r.code == 1
    refusal = r.json()
    assert refusal["ok"] is False
    assert "environment 'nope' not found" in refusal["message"]


def test_cli_help_does_not_import_azure_ai_ml():
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from mlops.cli import build_parser\n"
        "try:\n    build_parser().parse_args(['validate', '--help'])\n"
        "except SystemExit:\n    pass\n"
        "print('azure.ai.ml' in sys.modules)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).parents[2],
    )
    assert out.stdout.strip().splitlines()[-1] == "False"


def test_saved_plan_for_another_environment_is_refused(mlops, tmp_path: Path):
    out = tmp_path / "plan.json"
    assert mlops("plan", "--env", "prod", "--out", str(out)).code == 0
    r = mlops("apply", "--env", "dev", "--plan", str(out))
    assert r.code == 1
    assert "is a plan for environment 'prod'" in r.err


def test_azure_permission_error_is_one_line_not_a_traceback(mlops, fake: FakeArm):
    fake.inject(403, count=1000)
    r = mlops("plan", "--env", "dev")
    assert r.code == 1
    assert "Traceback" not in r.err
    assert r.err.startswith("error: Azure request failed: HttpResponseError")
