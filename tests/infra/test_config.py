"""A wrong stack value fails early with the key, the file, the line and what is expected."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from mlplatform import config, render

ROOT = Path(__file__).resolve().parents[2]


def stack_copy(tmp_path: Path, stack: str, edit: dict[str, object]) -> Path:
    """A copy of a real stack file with some `mlplatform:` values replaced (dotted keys)."""
    doc = yaml.safe_load((ROOT / f"Pulumi.{stack}.yaml").read_text())
    for dotted, value in edit.items():
        top, *rest = dotted.split(".")
        key = top if ":" in top else f"mlplatform:{top}"
        if not rest:
            if value is None:
                doc["config"].pop(key)
            else:
                doc["config"][key] = value
            continue
        node = doc["config"][key]
        for part in rest[:-1]:
            node = node[int(part)] if isinstance(node, list) else node[part]
        if value is None:
            node.pop(rest[-1])
        else:
            node[rest[-1]] = value
    path = tmp_path / f"Pulumi.{stack}.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


def error_for(tmp_path: Path, stack: str, edit: dict[str, object]) -> str:
    path = stack_copy(tmp_path, stack, edit)
    with pytest.raises(config.ConfigError) as err:
        render.render(stack, path)
    return str(err.value)


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (
            {"network.addressSpace": "10.41.0/16"},
            "mlplatform:network.addressSpace is '10.41.0/16', not a valid CIDR",
        ),
        ({"network.trainingSubnet": "10.99.2.0/24"}, "lies outside network.addressSpace"),
        (
            {"network.trainingSubnet": "10.41.1.0/25"},
            "mlplatform:network.trainingSubnet 10.41.1.0/25 overlaps",
        ),
        ({"network.addressSpace": "10.40.0.0/15"}, "overlaps reservedAddressSpaces[0]"),
        ({"network.addressSpace": "8.8.0.0/16"}, "expected a private IPv4 range"),
        ({"owner": "ml-platform"}, "mlplatform:owner is 'ml-platform'; expected an e-mail address"),
        ({"budget.contactEmails": ["finops@"]}, "mlplatform:budget.contactEmails.0 is 'finops@'"),
        (
            {"workspace.isolationMode": "Open"},
            "expected one of Disabled, AllowInternetOutbound, AllowOnlyApprovedOutbound",
        ),
        ({"publicNetworkAccess": "Enabled"}, "prod must be private"),
        ({"compute.maxNodes": 0}, "mlplatform:compute.maxNodes is 0"),
        ({"costCenter": None}, "mlplatform:costCenter is required but missing"),
        ({"logRetentionDay": 30}, "mlplatform:logRetentionDay is not a known setting"),
        ({"azure-native:location": None}, "azure-native:location is required"),
    ],
)
def test_bad_prod_value_names_the_key(tmp_path: Path, edit: dict[str, object], expected: str) -> None:
    message = error_for(tmp_path, "prod", edit)
    assert expected in message
    assert "Pulumi.prod.yaml" in message


def test_error_points_at_the_line(tmp_path: Path) -> None:
    path = stack_copy(tmp_path, "prod", {"network.addressSpace": "10.41.0/16"})
    line = next(i for i, text in enumerate(path.read_text().splitlines(), 1) if "10.41.0/16" in text)
    assert f"Pulumi.prod.yaml:{line}: mlplatform:network.addressSpace" in error_for(
        tmp_path, "prod", {"network.addressSpace": "10.41.0/16"}
    )


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    message = error_for(
        tmp_path, "dev", {"owner": "nobody", "network.addressSpace": "10.40.0.0/33", "compute.vmSize": "big"}
    )
    assert len(message.splitlines()) == 3


def test_outbound_rules_need_approved_outbound_mode(tmp_path: Path) -> None:
    rules = [{"name": "pkgs", "type": "FQDN", "fqdn": "example.org"}]
    assert "only apply with isolationMode AllowOnlyApprovedOutbound" in error_for(
        tmp_path, "dev", {"workspace.outboundRules": rules}
    )


def test_cli_gives_one_clear_error_and_exit_1(tmp_path: Path) -> None:
    path = stack_copy(tmp_path, "prod", {"network.trainingSubnet": "10.41.2.0/99"})
    out = tmp_path / "out.json"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "mlops.cli",
            "render",
            "--stack",
            "prod",
            "--stack-file",
            str(path),
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if "mlplatform:" in line]
    assert len(errors) == 1, result.stderr
    assert "mlplatform:network.trainingSubnet" in errors[0], result.stderr
    assert not out.exists(), "nothing is written on bad input"


def test_pulumi_program_reports_config_errors_without_traceback(monkeypatch: pytest.MonkeyPatch) -> None:
    """Under `pulumi up` the same validation runs and surfaces as a RunError (shown without a trace)."""
    import runpy

    import pulumi
    from pulumi.runtime.config import set_all_config

    flat = render._flatten_config(config.load_stack_file(ROOT / "Pulumi.dev.yaml"))
    flat["mlplatform:environment"] = "qa"
    set_all_config(flat)

    class NoResources(pulumi.runtime.Mocks):
        def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, object]]:
            raise AssertionError(f"{args.name} was declared although the configuration is invalid")

        def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, object], list[tuple[str, str]]]:
            raise AssertionError(f"{args.token} was invoked although the configuration is invalid")

    pulumi.runtime.set_mocks(NoResources(), project="mlplatform", stack="dev")
    monkeypatch.setattr(sys, "path", list(sys.path))
    with pytest.raises(pulumi.RunError) as err:
        runpy.run_path(str(ROOT / "platform"), run_name="__main__")
    assert "mlplatform:environment is 'qa'" in str(err.value)
    assert "Pulumi.dev.yaml:" in str(err.value)


def test_stdlib_platform_module_is_not_shadowed() -> None:
    import platform

    assert platform.system()
    assert Path(platform.__file__).name == "platform.py"
    result = subprocess.run(
        [sys.executable, "-c", "import platform; print(platform.system())"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0
    assert result.stdout.strip()


def test_defaults_are_written_once_in_the_schema() -> None:
    import dataclasses

    for cls in (
        config.PlatformConfig,
        config.NetworkConfig,
        config.WorkspaceConfig,
        config.OutboundRule,
        config.ComputeConfig,
        config.BudgetConfig,
        config.PolicyConfig,
    ):
        for f in dataclasses.fields(cls):
            assert f.default is dataclasses.MISSING, f"{cls.__name__}.{f.name} repeats a SCHEMA default"
            assert f.default_factory is dataclasses.MISSING, f"{cls.__name__}.{f.name}"


def test_a_stack_without_optional_settings_gets_the_schema_defaults(tmp_path: Path) -> None:
    optional = [
        "deleteLocks",
        "logRetentionDays",
        "keyVaultSoftDeleteDays",
        "storage",
        "network.reservedAddressSpaces",
        "workspace.hbiWorkspace",
        "compute.idleSecondsBeforeScaleDown",
        "compute.lowPriority",
        "budget.actualThresholds",
        "budget.forecastThresholds",
    ]
    path = stack_copy(tmp_path, "dev", dict.fromkeys(optional))
    raw, location = config.raw_from_stack_config(render._flatten_config(config.load_stack_file(path)))
    cfg = config.validate(raw, stack="dev", location=location, source=path)
    assert cfg.delete_locks is False
    assert cfg.log_retention_days == 90
    assert cfg.key_vault_soft_delete_days == 90
    assert (cfg.storage_sku, cfg.storage_soft_delete_days) == ("Standard_ZRS", 14)
    assert cfg.network.reserved_address_spaces == ()
    assert cfg.workspace.firewall_sku == "Standard"
    assert cfg.workspace.hbi_workspace is False
    assert cfg.compute.idle_seconds_before_scale_down == 900
    assert cfg.compute.low_priority is False
    assert cfg.budget.actual_thresholds == (80.0, 100.0)
    assert cfg.budget.forecast_thresholds == (100.0,)
    assert cfg.policy.exemptions == ()
    assert config.SCHEMA["properties"]["logRetentionDays"]["default"] == cfg.log_retention_days


def test_outbound_rule_defaults_come_from_the_schema(tmp_path: Path) -> None:
    rules = [{"name": "pkgs", "type": "ServiceTag", "serviceTag": "AzureFrontDoor.FrontEnd"}]
    path = stack_copy(tmp_path, "prod", {"workspace.outboundRules": rules})
    raw, location = config.raw_from_stack_config(render._flatten_config(config.load_stack_file(path)))
    (rule,) = config.validate(raw, stack="prod", location=location, source=path).workspace.outbound_rules
    assert (rule.protocol, rule.port_ranges) == ("TCP", "443")
