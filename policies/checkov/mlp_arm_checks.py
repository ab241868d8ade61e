"""Custom checkov checks for the platform's rendered ARM templates (what the built-in ARM checks miss).

Loaded by `mlops scan` with `--external-checks-dir policies/checkov`; each check's test is in
tests/policies/test_checks.py. Cross-resource checks (compute vs its workspace, budget) read the
scanned template once, because checkov hands a Python check only the resource itself.

What "prod" is and what counts as public access disabled are shared with the GitOps checks and
`mlops validate` (gitops/model/policy_rules.py, imported from the repository root as in
mlp_gitops_checks.py).
"""

from __future__ import annotations

import json
import sys
from functools import lru_cache
from pathlib import Path
from typing import Any

from checkov.arm.base_resource_check import BaseResourceCheck
from checkov.common.bridgecrew.severities import get_severity
from checkov.common.models.enums import CheckCategories, CheckResult

_REPOSITORY = str(Path(__file__).resolve().parents[2])
if _REPOSITORY not in sys.path:
    sys.path.append(_REPOSITORY)

from gitops.model import policy_rules  # noqa: E402 - importable only once the root is on sys.path

COMPUTES = ("Microsoft.MachineLearningServices/workspaces/computes",)
WORKSPACES = ("Microsoft.MachineLearningServices/workspaces",)
PNA_TYPES = (
    "Microsoft.MachineLearningServices/workspaces",
    "Microsoft.KeyVault/vaults",
    "Microsoft.ContainerRegistry/registries",
    "Microsoft.Storage/storageAccounts",
)
# Tracked (taggable) resource types the platform deploys; extension and most child resources
# (role assignments, diagnostic settings, subnets, blob services) cannot carry tags.
TAGGABLE = (
    "Microsoft.Resources/resourceGroups",
    "Microsoft.OperationalInsights/workspaces",
    "Microsoft.Insights/components",
    "Microsoft.Insights/actionGroups",
    "Microsoft.Network/networkSecurityGroups",
    "Microsoft.Network/virtualNetworks",
    "Microsoft.Network/natGateways",
    "Microsoft.Network/publicIPAddresses",
    "Microsoft.Network/privateEndpoints",
    "Microsoft.Network/privateDnsZones",
    "Microsoft.Network/privateDnsZones/virtualNetworkLinks",
    "Microsoft.ManagedIdentity/userAssignedIdentities",
    "Microsoft.KeyVault/vaults",
    "Microsoft.Storage/storageAccounts",
    "Microsoft.ContainerRegistry/registries",
    "Microsoft.MachineLearningServices/workspaces",
    "Microsoft.MachineLearningServices/workspaces/computes",
)
REQUIRED_TAGS = ("environment", "owner", "cost-center", "project")


def _props(conf: dict[str, Any]) -> dict[str, Any]:
    props = conf.get("properties")
    return props if isinstance(props, dict) else {}


def _environment(conf: dict[str, Any]) -> str:
    tags = conf.get("tags")
    return str(tags.get("environment", "")) if isinstance(tags, dict) else ""


def _all_resources(resources: list[Any]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for resource in resources:
        if not isinstance(resource, dict):
            continue
        found.append(resource)
        inner = _props(resource).get("template")
        if isinstance(inner, dict):
            found.extend(_all_resources(inner.get("resources") or []))
    return found


@lru_cache(maxsize=32)
def _template(path: str) -> tuple[dict[str, Any], ...]:
    with open(path, encoding="utf-8") as handle:
        return tuple(_all_resources(json.load(handle).get("resources") or []))


class _Check(BaseResourceCheck):
    def __init__(self, name: str, id: str, category: CheckCategories, resources: tuple[str, ...]) -> None:
        super().__init__(name=name, id=id, categories=(category,), supported_resources=resources)
        self.severity = get_severity("HIGH")

    def template(self) -> tuple[dict[str, Any], ...]:
        # BaseCheck.run sets entity_path to "<scanned file>:<type>:<name>" before scanning.
        return _template(self.entity_path.split(":", 1)[0])


def _aml_cluster(conf: dict[str, Any]) -> dict[str, Any] | None:
    props = _props(conf)
    if props.get("computeType") != "AmlCompute":
        return None
    inner = props.get("properties")
    return inner if isinstance(inner, dict) else {}


class ComputeLocalAuthDisabled(_Check):
    def __init__(self) -> None:
        super().__init__(
            "Ensure Azure ML computes disable local (key/SSH) authentication",
            "CKV_MLP_1",
            CheckCategories.IAM,
            COMPUTES,
        )

    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        return CheckResult.PASSED if _props(conf).get("disableLocalAuth") is True else CheckResult.FAILED


class ComputeNoNodePublicIp(_Check):
    def __init__(self) -> None:
        super().__init__(
            "Ensure Azure ML compute clusters give their nodes no public IP",
            "CKV_MLP_2",
            CheckCategories.NETWORKING,
            COMPUTES,
        )

    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        cluster = _aml_cluster(conf)
        if cluster is None:
            return CheckResult.UNKNOWN
        # Azure's default is a public IP per node, so the setting must be explicit.
        return CheckResult.PASSED if cluster.get("enableNodePublicIp") is False else CheckResult.FAILED


class ComputeScalesToZero(_Check):
    def __init__(self) -> None:
        super().__init__(
            "Ensure Azure ML compute clusters scale to zero nodes when idle",
            "CKV_MLP_3",
            CheckCategories.GENERAL_SECURITY,
            COMPUTES,
        )

    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        cluster = _aml_cluster(conf)
        if cluster is None:
            return CheckResult.UNKNOWN
        scale = cluster.get("scaleSettings")
        minimum = scale.get("minNodeCount", 0) if isinstance(scale, dict) else 0
        return CheckResult.PASSED if minimum == 0 else CheckResult.FAILED


class ComputeIsolated(_Check):
    def __init__(self) -> None:
        super().__init__(
            "Ensure Azure ML compute clusters run in a subnet or in the workspace's managed network",
            "CKV_MLP_4",
            CheckCategories.NETWORKING,
            COMPUTES,
        )

    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        cluster = _aml_cluster(conf)
        if cluster is None:
            return CheckResult.UNKNOWN
        subnet = cluster.get("subnet")
        if isinstance(subnet, dict) and subnet.get("id"):
            return CheckResult.PASSED
        workspace_name = str(conf.get("name", "")).split("/", 1)[0]
        for resource in self.template():
            if resource.get("type") == WORKSPACES[0] and resource.get("name") == workspace_name:
                network = _props(resource).get("managedNetwork")
                mode = network.get("isolationMode") if isinstance(network, dict) else None
                if mode in ("AllowInternetOutbound", "AllowOnlyApprovedOutbound"):
                    return CheckResult.PASSED
        return CheckResult.FAILED


class WorkspaceManagedNetworkInProd(_Check):
    def __init__(self) -> None:
        super().__init__(
            "Ensure prod Azure ML workspaces use managed network isolation with approved outbound only",
            "CKV_MLP_5",
            CheckCategories.NETWORKING,
            WORKSPACES,
        )

    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        if not policy_rules.is_production(_environment(conf)):
            return CheckResult.UNKNOWN
        network = _props(conf).get("managedNetwork")
        mode = network.get("isolationMode") if isinstance(network, dict) else None
        return CheckResult.PASSED if mode == "AllowOnlyApprovedOutbound" else CheckResult.FAILED


class ExplicitPublicNetworkAccess(_Check):
    def __init__(self) -> None:
        super().__init__(
            "Ensure public network access is set explicitly (and Disabled in prod)",
            "CKV_MLP_6",
            CheckCategories.NETWORKING,
            PNA_TYPES,
        )

    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        # Azure Policy 438c38d2 treats a missing value as public, so "unset" is a failure too.
        value = _props(conf).get("publicNetworkAccess")
        if value not in ("Enabled", "Disabled"):
            return CheckResult.FAILED
        if policy_rules.is_production(_environment(conf)) and not policy_rules.public_access_disabled(value):
            return CheckResult.FAILED
        return CheckResult.PASSED


class StorageSharedKeyDisabled(_Check):
    def __init__(self) -> None:
        super().__init__(
            "Ensure storage accounts disable shared key access",
            "CKV_MLP_7",
            CheckCategories.IAM,
            ("Microsoft.Storage/storageAccounts",),
        )

    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        return CheckResult.PASSED if _props(conf).get("allowSharedKeyAccess") is False else CheckResult.FAILED


class IdentityDatastores(_Check):
    def __init__(self) -> None:
        super().__init__(
            "Ensure Azure ML workspaces authenticate their datastores with identities, not keys",
            "CKV_MLP_8",
            CheckCategories.IAM,
            WORKSPACES,
        )

    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        mode = _props(conf).get("systemDatastoresAuthMode")
        return CheckResult.PASSED if mode == "Identity" else CheckResult.FAILED


class ResourceTagged(_Check):
    def __init__(self) -> None:
        super().__init__(
            "Ensure every taggable resource carries the environment, owner, cost-center and project tags",
            "CKV_MLP_9",
            CheckCategories.CONVENTION,
            TAGGABLE,
        )

    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        tags = conf.get("tags")
        if not isinstance(tags, dict):
            return CheckResult.FAILED
        return CheckResult.PASSED if all(tags.get(t) for t in REQUIRED_TAGS) else CheckResult.FAILED


class BudgetExists(_Check):
    def __init__(self) -> None:
        super().__init__(
            "Ensure the environment of an Azure ML workspace has a cost budget with notifications",
            "CKV_MLP_10",
            CheckCategories.GENERAL_SECURITY,
            WORKSPACES,
        )

    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        for resource in self.template():
            if resource.get("type") == "Microsoft.Consumption/budgets":
                props = _props(resource)
                if props.get("amount") and props.get("notifications"):
                    return CheckResult.PASSED
        return CheckResult.FAILED


check_compute_local_auth = ComputeLocalAuthDisabled()
check_compute_public_ip = ComputeNoNodePublicIp()
check_compute_scale_to_zero = ComputeScalesToZero()
check_compute_isolated = ComputeIsolated()
check_workspace_managed_network = WorkspaceManagedNetworkInProd()
check_public_network_access = ExplicitPublicNetworkAccess()
check_storage_shared_key = StorageSharedKeyDisabled()
check_identity_datastores = IdentityDatastores()
check_tagged = ResourceTagged()
check_budget = BudgetExists()
