"""Custom checkov checks for the GitOps environments' Azure ML YAML (endpoints, deployments, monitors).

checkov's yaml framework ships no checks and has no graph registry, so these are document-level
Python checks. The environment is the directory after `environments/` in the file's path; the
prod-only rules skip other environments (UNKNOWN is not reported).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from checkov.common.bridgecrew.severities import get_severity
from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.common.util.consts import END_LINE, START_LINE
from checkov.yaml_doc.base_yaml_check import BaseYamlCheck
from checkov.yaml_doc.enums import BlockType

SENSITIVE_NAME = re.compile(
    r"(secret|password|passwd|token|api[_-]?key|access[_-]?key|_key$|connection[_-]?string|sas)", re.I
)
SECRET_VALUE = re.compile(
    r"(AccountKey=|SharedAccessSignature=|sig=[A-Za-z0-9%]{20,}|-----BEGIN [A-Z ]*PRIVATE KEY|Password=)",
    re.I,
)
PINNED = re.compile(r"^azureml:[A-Za-z0-9_.-]+:(?!latest$)[A-Za-z0-9_.-]+$")


def _clean(value: Any) -> Any:
    """checkov decorates parsed YAML with line markers; drop them."""
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items() if k not in (START_LINE, END_LINE)}
    if isinstance(value, list):
        return [_clean(v) for v in value]
    return value


def _truthy(value: Any) -> bool:
    return value is True or str(value).strip().lower() == "true"


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

    def environment(self) -> str | None:
        parts = self.file().parts
        for i, part in enumerate(parts[:-1]):
            if part == "environments":
                return parts[i + 1]
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

    def scan_entity_conf(self, conf: dict[str, Any], entity_type: str) -> CheckResult:
        doc = _clean(conf)
        if not isinstance(doc, dict) or self.document_kind(doc) != self.kind:
            return CheckResult.UNKNOWN
        env = self.environment()
        if env is None or (self.prod_only and env != "prod"):
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
        return str(doc.get("public_network_access", "")).lower() == "disabled" and doc.get("auth_mode") in (
            "aad_token",
            "aml_token",
        )


class ProdDeploymentNoEgress(_DocCheck):
    kind = "deployment"

    def __init__(self) -> None:
        super().__init__(
            "Ensure prod online deployments disable egress public network access",
            "CKV_MLP_102",
            CheckCategories.NETWORKING,
        )

    def ok(self, doc: dict[str, Any]) -> bool:
        return str(doc.get("egress_public_network_access", "")).lower() == "disabled"


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
        return _truthy(doc.get("app_insights_enabled"))


class ProdDeploymentPinned(_DocCheck):
    kind = "deployment"

    def __init__(self) -> None:
        super().__init__(
            "Ensure prod online deployments pin model and environment versions",
            "CKV_MLP_105",
            CheckCategories.SUPPLY_CHAIN,
        )

    def ok(self, doc: dict[str, Any]) -> bool:
        return all(isinstance(doc.get(k), str) and PINNED.match(doc[k]) for k in ("model", "environment"))


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
        variables = doc.get("environment_variables") or {}
        if not isinstance(variables, dict):
            return False
        return not any(
            SENSITIVE_NAME.search(str(name)) or SECRET_VALUE.search(str(value))
            for name, value in variables.items()
        )


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
        target = (doc.get("create_monitor") or {}).get("monitoring_target") or {}
        ref = str(target.get("endpoint_deployment_id", ""))
        match = re.fullmatch(r"azureml:([A-Za-z0-9_-]+):([A-Za-z0-9_-]+)", ref)
        if not match:
            return False
        endpoint, deployment = match.groups()
        env_dir = self.file().parent.parent
        candidates = [
            env_dir / "endpoints" / endpoint / "deployments" / f"{deployment}{ext}"
            for ext in (".yml", ".yaml")
        ]
        for path in candidates:
            if path.is_file():
                spec = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
                collections = (spec.get("data_collector") or {}).get("collections") or {}
                return all(
                    _truthy((collections.get(name) or {}).get("enabled"))
                    for name in ("model_inputs", "model_outputs")
                )
        # A monitor on a deployment that is not declared in this environment watches nothing.
        return False


check_endpoint_private = ProdEndpointPrivate()
check_deployment_egress = ProdDeploymentNoEgress()
check_deployment_redundant = ProdDeploymentRedundant()
check_deployment_app_insights = ProdDeploymentAppInsights()
check_deployment_pinned = ProdDeploymentPinned()
check_environment_variables = NoSecretsInEnvironmentVariables()
check_monitor_data_collection = MonitorHasDataCollection()
