"""Bad monitor YAML gives file:line errors; `mlops monitor run` exit codes."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from gitops.errors import InputErrors
from gitops.monitoring.spec import load_monitor
from mlops.cli import main

from .conftest import MONITOR_YAML, SAMPLE, Collect, monitor_text


def _copy_sample(tmp_path: Path, text: str | None = None) -> Path:
    shutil.copy(SAMPLE / "reference.csv", tmp_path / "reference.csv")
    path = tmp_path / "monitor.yml"
    path.write_text(text if text is not None else monitor_text())
    return path


def _errors(path: Path) -> list[str]:
    with pytest.raises(InputErrors) as exc:
        load_monitor(path)
    return [str(d) for d in exc.value.diagnostics]


def test_yaml_syntax_error_has_line(tmp_path: Path) -> None:
    path = _copy_sample(tmp_path, "name: x\ncreate_monitor:\n  compute: [unclosed\n")
    (msg,) = _errors(path)
    assert msg.startswith(f"{path}:")
    assert "invalid YAML" in msg


def test_unknown_field_reported_at_its_line(tmp_path: Path) -> None:
    text = monitor_text().replace(
        "          normalized_wasserstein_distance: 0.2", "          jensen_shanon: 0.2"
    )
    path = _copy_sample(tmp_path, text)
    line = next(i for i, t in enumerate(text.splitlines(), 1) if "jensen_shanon" in t)
    msgs = _errors(path)
    assert any(m.startswith(f"{path}:{line}:") and "Unknown field" in m for m in msgs), msgs


def test_missing_reference_file(tmp_path: Path) -> None:
    path = _copy_sample(tmp_path, monitor_text().replace("./reference.csv", "./nope.csv"))
    msgs = _errors(path)
    assert len(msgs) == 3  # one per signal, all reported at once
    assert all("reference_data './nope.csv' not found" in m for m in msgs)
    lines = [int(m.split(":")[1]) for m in msgs]
    text = path.read_text().splitlines()
    assert all("./nope.csv" in text[n - 1] for n in lines)


def test_workspace_asset_reference_is_not_local(tmp_path: Path) -> None:
    path = _copy_sample(tmp_path, monitor_text().replace("./reference.csv", "azureml:wine-ref:1"))
    assert all("workspace/cloud asset" in m for m in _errors(path))


def test_monitor_without_signals(tmp_path: Path) -> None:
    text = (
        "name: m\ntrigger: {type: recurrence, frequency: day, interval: 1}\ncreate_monitor:\n"
        "  compute: {instance_type: standard_e4s_v3, runtime_version: '3.4'}\n"
        "  monitoring_target: {ml_task: classification, endpoint_deployment_id: azureml:e:d}\n"
    )
    (msg,) = _errors(_copy_sample(tmp_path, text))
    assert ":3: no monitoring_signals" in msg


def test_unsupported_signal_is_reported_not_evaluated(tmp_path: Path, collect: Collect) -> None:
    from gitops.monitoring.run import run_monitor
    from gitops.monitoring.spec import NOT_EVALUATED_REASONS, SignalSpec

    spec = load_monitor(MONITOR_YAML)
    reason = NOT_EVALUATED_REASONS["model_performance"]
    spec.signals.append(SignalSpec("perf", "model_performance", 1, not_evaluated=reason))
    result = run_monitor(spec, collect(rows=100), tmp_path / "out")
    perf = result.signals[-1]
    assert perf.status == "not_evaluated"
    assert perf.reason == reason
    assert not result.breached
    assert "Not evaluated: needs ground-truth labels" in (tmp_path / "out" / "report.html").read_text()


def test_cli_exit_codes(tmp_path: Path, collect: Collect, capsys: pytest.CaptureFixture[str]) -> None:
    base = ["monitor", "run", "--env", "local", "--file", str(MONITOR_YAML), "--out", str(tmp_path / "out")]
    ok = collect(rows=300, shifted=False)
    assert main([*base, "--data-dir", str(ok)]) == 0
    assert "wine-classifier-blue-monitor (wine-classifier/blue): ok" in capsys.readouterr().out
    drifted = collect(rows=300, shifted=True)
    assert main([*base, "--data-dir", str(drifted), "--no-actions"]) == 3
    out = capsys.readouterr().out
    assert "alcohol: normalized_wasserstein_distance" in out
    assert "> 0.2" in out
    assert (tmp_path / "out" / "local" / "wine-classifier-blue-monitor" / "report.html").exists()
    # Errors: missing data, unknown monitor name, bad YAML.
    assert main([*base, "--data-dir", str(tmp_path / "none")]) == 1
    assert "no collected model_inputs" in capsys.readouterr().err
    assert main([*base, "--data-dir", str(ok), "--monitor", "other"]) == 1
    bad = _copy_sample(tmp_path, "name: x\ncreate_monitor: {compute: 3}\n")
    assert main(["monitor", "run", "--env", "local", "--file", str(bad), "--data-dir", str(ok)]) == 1
    assert f"{bad}:2:" in capsys.readouterr().err


def test_cli_relative_since(tmp_path: Path, collect: Collect, capsys: pytest.CaptureFixture[str]) -> None:
    root = collect(rows=100)
    base = ["monitor", "run", "--env", "local", "--file", str(MONITOR_YAML), "--data-dir", str(root)]
    assert main([*base, "--since", "1h", "--out", str(tmp_path / "o")]) == 0
    assert main([*base, "--until", "2020-01-01", "--out", str(tmp_path / "o")]) == 1
    assert "no collected data" in capsys.readouterr().err


def test_cli_default_data_root_is_the_local_targets(
    tmp_path: Path, collect: Collect, capsys: pytest.CaptureFixture[str]
) -> None:
    from gitops.manifest import load_manifest
    from gitops.targets.local.settings import collected_data_dir

    env = tmp_path / "repo" / "environments" / "local"
    env.mkdir(parents=True)
    (env / "environment.yaml").write_text(f"target: local\nlocal:\n  state_dir: {tmp_path / 'state'}\n")
    root = collected_data_dir(load_manifest(env))
    collect(rows=200, root=root)
    envs = str(env.parent)
    args = ["monitor", "run", "--env", "local", "--environments", envs, "--file", str(MONITOR_YAML)]
    assert main([*args, "--out", str(tmp_path / "out")]) == 0
    assert "(200 production rows vs 133 reference)" in capsys.readouterr().out


def test_cli_azure_env_needs_a_data_dir(capsys: pytest.CaptureFixture[str]) -> None:
    from .conftest import REPO

    args = [
        "monitor",
        "run",
        "--env",
        "dev",
        "--environments",
        str(REPO / "environments"),
        "--file",
        str(MONITOR_YAML),
    ]
    assert main(args) == 1
    err = capsys.readouterr().err
    assert "targets azureml" in err
    assert "pass --data-dir" in err


def test_cli_env_monitors_folder_select_and_json(
    tmp_path: Path, collect: Collect, capsys: pytest.CaptureFixture[str]
) -> None:
    import json

    monitors = tmp_path / "environments" / "local" / "monitors"
    monitors.mkdir(parents=True)
    shutil.copy(SAMPLE / "reference.csv", monitors / "reference.csv")
    text = monitor_text()
    (monitors / "a.yml").write_text(text)
    (monitors / "b.yml").write_text(
        text.replace("name: wine-classifier-blue-monitor", "name: second-monitor")
    )
    root = collect(rows=200)
    args = ["monitor", "run", "--env", "local", "--environments", str(tmp_path / "environments")]
    args += ["--data-dir", str(root), "--out", str(tmp_path / "out")]
    assert main([*args, "--output", "json"]) == 0
    both = json.loads(capsys.readouterr().out)
    assert sorted(r["monitor"] for r in both) == ["second-monitor", "wine-classifier-blue-monitor"]
    assert all(r["breached"] is False and r["actions"] == [] for r in both)
    assert main([*args, "--monitor", "second-monitor", "--output", "json"]) == 0
    (only,) = json.loads(capsys.readouterr().out)
    assert only["monitor"] == "second-monitor"
    assert len(only["signals"]) == 3


def test_cli_state_dir_on_an_azure_env_is_refused(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    from .conftest import REPO

    args = ["monitor", "run", "--env", "dev", "--environments", str(REPO / "environments")]
    assert main([*args, "--file", str(MONITOR_YAML), "--state-dir", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "--state-dir is a setting of the local target" in err
    assert "Traceback" not in err
