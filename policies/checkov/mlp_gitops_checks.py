"""Custom checkov checks for the GitOps environments' Azure ML YAML (endpoints, deployments, monitors).

checkov's yaml framework ships no checks and has no graph registry, so these are document-level
Python checks. The environment is the directory after `environments/` in the file's path; the
prod-only rules skip other environments (UNKNOWN is not reported).

The rules themselves (what is a secret, what is pinned, what a monitor needs, what prod must not
expose) are gitops/model/policy_rules.py, the module `mlops validate` runs too, so that a file
passes both gates or neither. checkov runs in its own tool venv without this project installed:
the repository root goes on sys.path (at the end, so nothing of checkov's is shadowed) and only
that dependency-free module is imported from it.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from checkov.common.bridgecrew.severities import get_severity
from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.common.util.consts import END_LINE, START_LINE
from checkov.yaml_doc.base_yaml_check import BaseYamlCheck
from checkov.yaml_doc.enums import BlockType

_REPOSITORY = str(Path(__file__).resolve().parents[2])
if _REPOSITORY not in sys.path:
    sys.path.append(_REPOSITORY)

from gitops.model import policy_rules  # noqa: E402 - importable only once the root is on sys.path


def _clean(value: Any) -> Any:
    """checkov decorates parsed YAML with line markers; drop them."""
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items() if k not in (START_LINE, END_LINE)}
    if isinstance(value, list):
        return [_clean(v) for v in value]
    return value


def _read_yaml(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return data if isinstance(data, dict) else {}


def _first_file(folder: Path, stem: str) -> Path | None:
    return next(
        (folder / f"{stem}{ext}" for ext in (".yml", ".yaml") if (folder / f"{stem}{ext}").is_file()), None
    )


class _DocCheck(BaseYamlCheck):
    kind = ""  # "endpoint", "deployment" or "monitor"
    prod_only = True

    def __init__(self, name: str, id: str, category: CheckCategories) -> None:
        super().__init__(
            name=name, id=id, categories=(category,), supported_entities=("*",), block_type=BlockType.DOCUMENT
        )
        self.severity = get_severity("HIGH")

    def file(self) -> Path:
        # BaseCheck.run sets entity_path to "<scanned file>:<type>:<name>" before scanning.
        return Path(self.entity_path.split(":", 1)[0])

    def environment_dir(self) -> Path | None:
        parts = self.file().parts
        for i, part in enumerate(parts[:-1]):
            if part == "environments":
                return Path(*parts[: i + 2])
        return None

    def document_kind(self, doc: dict[str, Any]) -> str:
        schema = str(doc.get("$schema", ""))
        if "managedOnlineEndpoint" in schema:
            return "endpoint"
        if "managedOnlineDeployment" in schema or "kubernetesOnlineDeployment" in schema:
            return "deployment"
        if "create_monitor" in doc:
            return "monitor"
        return ""

    def applies(self, env_dir: Path) -> bool:
        return not self.prod_only or policy_rules.is_production(env_dir.name)

    def scan_entity_conf(self, conf: dict[str, Any], entity_type: str) -> CheckResult:
        doc = _clean(conf)
        if not isinstance(doc, dict) or self.document_kind(doc) != self.kind:
            return CheckResult.UNKNOWN
        env_dir = self.environment_dir()
        if env_dir is None or not self.applies(env_dir):
            return CheckResult.UNKNOWN
        return CheckResult.PASSED if self.ok(doc) else CheckResult.FAILED

    def ok(self, doc: dict[str, Any]) -> bool:
        raise NotImplementedError


class ProdEndpointPrivate(_DocCheck):
    kind = "endpoint"

    def __init__(self) -> None:
        super().__init__(
            "Ensure prod online endpoints disable public network access and use token auth",
            "CKV_MLP_101",
            CheckCategories.NETWORKING,
        )

    def ok(self, doc: dict[str, Any]) -> bool:
        return not policy_rules.endpoint_exposure(doc)


class ProdDeploymentNoEgress(_DocCheck):
    kind = "deployment"

    def __init__(self) -> None:
        super().__init__(
            "Ensure prod online deployments disable egress public network access",
            "CKV_MLP_102",
            CheckCategories.NETWORKING,
        )

    def ok(self, doc: dict[str, Any]) -> bool:
        return not policy_rules.deployment_exposure(doc)


class ProdDeploymentRedundant(_DocCheck):
    kind = "deployment"

    def __init__(self) -> None:
        super().__init__(
            "Ensure prod online deployments run at least 2 instances",
            "CKV_MLP_103",
            CheckCategories.GENERAL_SECURITY,
        )

    def ok(self, doc: dict[str, Any]) -> bool:
        count = doc.get("instance_count")
        scale = doc.get("scale_settings")
        if isinstance(scale, dict) and scale.get("type") == "target_utilization":
            count = scale.get("min_instances")
        return isinstance(count, int) and count >= 2


class ProdDeploymentAppInsights(_DocCheck):
    kind = "deployment"

    def __init__(self) -> None:
        super().__init__(
            "Ensure prod online deployments send telemetry to Application Insights",
            "CKV_MLP_104",
            CheckCategories.LOGGING,
        )

    def ok(self, doc: dict[str, Any]) -> bool:
        return policy_rules.is_true(doc.get("app_insights_enabled"))


class ProdDeploymentPinned(_DocCheck):
    kind = "deployment"

    def __init__(self) -> None:
        super().__init__(
            "Ensure prod online deployments pin model and environment versions",
            "CKV_MLP_105",
            CheckCategories.SUPPLY_CHAIN,
        )

    def applies(self, env_dir: Path) -> bool:
        # As `mlops validate` decides: require_pinned_versions in environment.yaml, else prod pins.
        manifest = _first_file(env_dir, "environment")
        return policy_rules.pinning_required(env_dir.name, _read_yaml(manifest) if manifest else {})

    def ok(self, doc: dict[str, Any]) -> bool:
        return not policy_rules.unpinned_versions(doc)


class NoSecretsInEnvironmentVariables(_DocCheck):
    kind = "deployment"
    prod_only = False

    def __init__(self) -> None:
        super().__init__(
            "Ensure online deployments keep secrets and keys out of environment_variables",
            "CKV_MLP_106",
            CheckCategories.SECRETS,
        )

    def ok(self, doc: dict[str, Any]) -> bool:
        variables = doc.get("environment_variables")
        if variables is not None and not isinstance(variables, dict):
            return False
        return not policy_rules.committed_secrets(doc)


class MonitorHasDataCollection(_DocCheck):
    kind = "monitor"
    prod_only = False

    def __init__(self) -> None:
        super().__init__(
            "Ensure a monitored deployment collects model inputs and outputs",
            "CKV_MLP_107",
            CheckCategories.LOGGING,
        )

    def ok(self, doc: dict[str, Any]) -> bool:
        env_dir = self.environment_dir()
        if env_dir is None:
            return False
        _, findings = policy_rules.monitor_target(
            policy_rules.monitor_target_ref(doc), lambda endpoint: _declared_deployments(env_dir, endpoint)
        )
        return not findings


def _declared_deployments(
    env_dir: Path, endpoint: str
) -> Mapping[str, policy_rules.DeclaredDeployment] | None:
    """The deployments under environments/<env>/endpoints/<endpoint>/, by name, as validate loads them."""
    folder = env_dir / "endpoints" / endpoint
    if _first_file(folder, "endpoint") is None:
        return None
    found: dict[str, policy_rules.DeclaredDeployment] = {}
    for path in sorted((folder / "deployments").glob("*.y*ml")):
        data = _read_yaml(path)
        found[str(data.get("name") or path.stem)] = policy_rules.DeclaredDeployment(data, str(path))
    return found


check_endpoint_private = ProdEndpointPrivate()
check_deployment_egress = ProdDeploymentNoEgress()
check_deployment_redundant = ProdDeploymentRedundant()
check_deployment_app_insights = ProdDeploymentAppInsights()
check_deployment_pinned = ProdDeploymentPinned()
check_environment_variables = NoSecretsInEnvironmentVariables()
check_monitor_data_collection = MonitorHasDataCollection()
