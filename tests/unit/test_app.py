"""The `mlops` app (command table, failure isolation) and the target registry (capabilities, once)."""

from __future__ import annotations

import subprocess
import sys
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import Any

import pytest

from gitops.errors import GitopsError
from gitops.manifest import load_manifest
from gitops.targets import PLUGINS, command_registrar, create_target
from gitops.targets.base import (
    ActualState,
    DataCollectionSource,
    MetricsSource,
    RolloutCapable,
    Target,
    TargetHandle,
)
from mlops import cli

REPO = Path(__file__).resolve().parents[2]


def _help(capsys: pytest.CaptureFixture[str]) -> str:
    with pytest.raises(SystemExit) as exit_:
        cli.main(["--help"])
    assert exit_.value.code == 0
    return capsys.readouterr().out


# ------------------------------------------------------------------------------ command table


def test_help_lists_every_command_of_the_table(capsys: pytest.CaptureFixture[str]) -> None:
    out = _help(capsys)
    names = [c.name for c in cli.COMMANDS]
    assert {"validate", "plan", "apply", "status", "monitor", "render", "scan", "demo"} <= set(names)
    for name in names:
        assert f"    {name} " in out, name
    assert "UNAVAILABLE" not in out


def test_table_names_exactly_what_each_module_registers() -> None:
    # build_parser raises when a module registers a command the table does not name, or the reverse.
    sub = next(a for a in cli.build_parser()._actions if a.dest == "command")
    assert {c.name for c in cli.COMMANDS} <= set(sub.choices)  # type: ignore[arg-type]
    local = [c.name for c in cli.COMMANDS if c.source == "target:local"]
    assert tuple(local) == PLUGINS["local"].commands


def test_a_command_registering_something_unlisted_is_refused() -> None:
    table = (cli.Command("validate", "gitops.commands"),)  # the module also adds plan, apply, status
    with pytest.raises(RuntimeError, match="not in the table"):
        cli.build_parser(table)


def test_console_script_help() -> None:
    script = Path(sys.executable).with_name("mlops")
    out = subprocess.run([str(script), "--help"], capture_output=True, text=True, check=True).stdout
    for command in cli.COMMANDS:
        assert command.name in out


def test_a_module_that_cannot_be_imported_fails_only_its_commands(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    real = cli.import_module

    def importer(name: str) -> Any:
        if name == "mlplatform.cli":
            raise ModuleNotFoundError("No module named 'pulumi'", name="pulumi")
        return real(name)

    monkeypatch.setattr(cli, "import_module", importer)
    out = _help(capsys)
    assert "render" in out
    assert "UNAVAILABLE: mlplatform.cli cannot be imported" in out
    assert "scan " in out  # mlops.scan is its own entry and still imports

    # Any arguments: the command cannot run, and says why instead of a usage error or a traceback.
    assert cli.main(["render", "--stack", "dev", "--out", "x.json"]) == 1
    err = capsys.readouterr().err
    assert "`mlops render` is unavailable" in err
    assert "No module named 'pulumi'" in err
    assert "Traceback" not in err

    assert cli.main(["validate", "--env", "dev", "--environments", str(REPO / "environments")]) == 0
    assert "ok  dev" in capsys.readouterr().out


def test_a_broken_target_plugin_fails_only_its_commands(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    real = cli.import_module

    def importer(name: str) -> Any:
        if name == "gitops.targets":
            raise ImportError("cannot import name 'LocalEngine'")
        return real(name)

    monkeypatch.setattr(cli, "import_module", importer)
    out = _help(capsys)
    for name in PLUGINS["local"].commands:
        assert f"    {name}" in out
    assert cli.main(["down", "--env", "local"]) == 1
    assert "`mlops down` is unavailable" in capsys.readouterr().err


def test_unknown_arguments_of_an_available_command_are_a_usage_error(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as exit_:
        cli.main(["validate", "--no-such-flag"])
    assert exit_.value.code == 2
    assert "unrecognized arguments: --no-such-flag" in capsys.readouterr().err


def _namespace(func: Any, **extra: Any) -> Any:
    import argparse

    return argparse.Namespace(command="render", func=func, **extra)


def test_a_missing_library_inside_a_command_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    def needs_pulumi(_args: Any) -> int:
        raise ModuleNotFoundError("No module named 'pulumi'", name="pulumi")

    assert cli.run(_namespace(needs_pulumi, output="json")) == 1
    captured = capsys.readouterr()
    assert "`mlops render` needs the Python module 'pulumi'" in captured.err
    assert '"error": "missing_dependency"' in captured.out


def test_a_missing_module_of_our_own_keeps_its_traceback() -> None:
    def bug(_args: Any) -> int:
        raise ModuleNotFoundError("No module named 'gitops.nope'", name="gitops.nope")

    with pytest.raises(ModuleNotFoundError):
        cli.run(_namespace(bug))


def test_refusals_and_interrupts(capsys: pytest.CaptureFixture[str]) -> None:
    def refuse(_args: Any) -> int:
        raise GitopsError("environment.yaml:3: set workspace")

    def interrupted(_args: Any) -> int:
        raise KeyboardInterrupt

    def bug(_args: Any) -> int:
        raise ValueError("a bug")

    assert cli.run(_namespace(refuse, output="json")) == 1
    captured = capsys.readouterr()
    assert "error: environment.yaml:3: set workspace" in captured.err
    assert '"ok": false' in captured.out
    assert cli.run(_namespace(interrupted)) == 1
    assert "re-run the same command" in capsys.readouterr().err
    with pytest.raises(ValueError, match="a bug"):
        cli.run(_namespace(bug))


def test_registry_import_is_cheap() -> None:
    code = (
        "import sys\nimport gitops.targets, gitops.targets.base\n"
        "print(sorted(m for m in ('jsonschema', 'azure', 'mlplatform') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO)
    assert out.stdout.strip() == "[]"


# --------------------------------------------------------------------------------- registry


class _PlainTarget:
    """A Target and nothing more: no rollouts, no metrics, no collected data."""

    kind = "plain"
    capabilities: frozenset[str] = frozenset()

    def describe(self) -> str:
        return "plain"

    def read_state(self) -> ActualState:
        return ActualState()

    def create_or_update_endpoint(self, endpoint: Any) -> None: ...

    def create_or_update_deployment(self, deployment: Any, timeout_s: float) -> None: ...

    def set_traffic(
        self, endpoint_name: str, traffic: dict[str, int], mirror_traffic: dict[str, int]
    ) -> None: ...

    def delete_deployment(self, endpoint_name: str, name: str) -> None: ...

    def delete_endpoint(self, name: str) -> None: ...

    def create_or_update_monitor(self, monitor: Any) -> None: ...

    def delete_monitor(self, name: str) -> None: ...

    def lock(self, env: str) -> AbstractContextManager[None]:
        return nullcontext()


def test_a_handle_reports_missing_capabilities_with_what_to_do() -> None:
    handle = TargetHandle.of(_PlainTarget())
    assert (handle.rollouts, handle.metrics, handle.data) == (None, None, None)
    assert handle.features == ()
    with pytest.raises(GitopsError, match="cannot run progressive rollouts"):
        handle.require_rollouts()
    with pytest.raises(GitopsError, match="--skip-analysis"):
        handle.require_metrics()
    with pytest.raises(GitopsError, match="pass --data-dir"):
        handle.require_data()
    # The handle is a Target itself, and is not inspected again.
    assert isinstance(handle, Target)
    assert TargetHandle.of(handle) is handle
    assert handle.kind == "plain"
    assert handle.describe() == "plain"


def test_something_that_is_not_a_target_is_refused() -> None:
    with pytest.raises(TypeError, match="does not implement"):
        TargetHandle.of(object())  # type: ignore[arg-type]


def test_unknown_target_kind_is_refused(tmp_path: Path) -> None:
    env = tmp_path / "environments" / "x"
    env.mkdir(parents=True)
    (env / "environment.yaml").write_text("target: local\n")
    with pytest.raises(GitopsError, match="unknown target 'nope'; choose one of: azureml, local"):
        create_target(load_manifest(env), "nope")


def test_local_target_has_every_capability(tmp_path: Path) -> None:
    from gitops.targets.local.settings import collected_data_dir

    env = tmp_path / "repo" / "environments" / "local"
    env.mkdir(parents=True)
    (env / "environment.yaml").write_text(f"target: local\nlocal:\n  state_dir: {tmp_path / 'state'}\n")
    manifest = load_manifest(env)
    handle = create_target(manifest)
    assert handle.features == ("rollouts", "metrics", "collected data", "assets")
    assert isinstance(handle.target, RolloutCapable)
    assert isinstance(handle.target, MetricsSource)
    assert isinstance(handle.target, DataCollectionSource)
    assert handle.require_metrics().metrics_provider(None).name == "local"
    assert handle.require_data().collected_data_dir() == collected_data_dir(manifest)
    with pytest.raises(GitopsError, match="is for Azure"):
        handle.require_metrics().metrics_provider("azureml")


def test_target_commands_come_from_the_registry() -> None:
    import argparse

    sub = argparse.ArgumentParser().add_subparsers()
    command_registrar("azureml")(sub)  # the workspace target brings no commands of its own
    assert not sub.choices
    command_registrar("local")(sub)
    assert set(PLUGINS["local"].commands) <= set(sub.choices)


def test_azureml_target_has_every_capability_and_names_where_its_data_is() -> None:
    manifest = load_manifest(REPO / "environments" / "dev")
    handle = create_target(manifest, credential=object())
    assert handle.kind == "azureml"
    assert handle.features == ("rollouts", "metrics", "collected data", "assets")
    assert handle.require_metrics().metrics_provider("azureml").name == "azureml"
    with pytest.raises(GitopsError, match=r"workspaceblobstore.*pass --data-dir"):
        handle.require_data().collected_data_dir()
