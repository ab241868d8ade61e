"""The ARM renderer: valid templates, API versions from the SDK, the rename table, suppressions."""

from __future__ import annotations

import datetime as dt
import importlib
import re
from pathlib import Path
from typing import Any

import pytest

from mlplatform import arm
from mlplatform.render import Capture
from mlplatform.resource_types import RESOURCE_TYPES

# An equivalent of the ARM template JSON Schema for what we emit (the full schema is remote).
RESOURCE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["type", "apiVersion", "name", "properties"],
    "properties": {
        "type": {"type": "string", "pattern": r"^[A-Za-z]+\.[A-Za-z.]+(/[A-Za-z]+)+$"},
        "apiVersion": {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}(-preview)?$"},
        "name": {"type": "string", "minLength": 1},
        "location": {"type": "string"},
        "scope": {"type": "string", "pattern": "^/subscriptions/"},
        "tags": {"type": "object", "additionalProperties": {"type": "string"}},
        "sku": {"type": "object"},
        "kind": {"type": "string"},
        "identity": {"type": "object", "required": ["type"]},
        "properties": {"type": "object"},
        "metadata": {"type": "object"},
        "subscriptionId": {"type": "string"},
        "zones": {"type": "array"},
    },
    "additionalProperties": False,
}
TEMPLATE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["$schema", "contentVersion", "resources"],
    "properties": {
        "$schema": {"enum": [arm.SCHEMA_RG, arm.SCHEMA_SUB]},
        "contentVersion": {"pattern": r"^\d+\.\d+\.\d+\.\d+$"},
        "resources": {"type": "array", "items": RESOURCE_SCHEMA},
        "metadata": {"type": "object"},
        "outputs": {"type": "object"},
        "parameters": {"type": "object"},
    },
    "additionalProperties": False,
}


@pytest.fixture(scope="module")
def templates(captures: dict[str, Capture]) -> dict[str, dict[str, Any]]:
    return {name: arm.to_template(capture) for name, capture in captures.items()}


@pytest.mark.parametrize("name", ["dev", "prod"])
def test_template_is_a_valid_deployment_template(name: str, templates: dict[str, dict[str, Any]]) -> None:
    import jsonschema

    template = templates[name]
    jsonschema.validate(template, TEMPLATE_SCHEMA)
    nested = [r for r in template["resources"] if r["type"] == "Microsoft.Resources/deployments"]
    assert len(nested) == 1
    jsonschema.validate(nested[0]["properties"]["template"], TEMPLATE_SCHEMA)
    ids = set()
    for resource in arm.iter_resources(template):
        # A child's name has one segment per type segment after the namespace.
        segments = resource["type"].split("/")[1:]
        assert len(resource["name"].split("/")) == len(segments), resource["name"]
        key = (resource["type"], resource["name"], resource.get("scope"))
        assert key not in ids, f"duplicate resource {key}"
        ids.add(key)


def test_every_captured_azure_resource_is_rendered(captures: dict[str, Capture]) -> None:
    for capture in captures.values():
        declared = [r for r in capture.resources if r["type"].startswith("azure-native:")]
        assert len(arm.iter_resources(arm.to_template(capture))) == len(declared) + 1  # + nested deployment


def test_every_resource_type_row_is_declared_by_a_stack(captures: dict[str, Capture]) -> None:
    declared = {r["type"] for capture in captures.values() for r in capture.resources}
    assert set(RESOURCE_TYPES) - declared == set(), "rows no stack uses; drop them or declare the type"


def test_api_versions_match_the_installed_sdk() -> None:
    for token, spec in RESOURCE_TYPES.items():
        _, module, cls = token.split(":")
        source = Path(importlib.import_module(f"pulumi_azure_native.{module}").__file__ or "").parent
        snake = re.sub(r"(?<!^)(?=[A-Z])", "_", cls).lower().replace("i_p_", "ip_")
        text = (source / f"{snake}.py").read_text(encoding="utf-8")
        found = re.search(r"Uses Azure REST API version ([0-9a-z-]+)", text)
        assert found, token
        assert found.group(1) == spec.api_version, token


def _one(template: dict[str, Any], arm_type: str, name: str | None = None) -> dict[str, Any]:
    found = [
        r
        for r in arm.iter_resources(template)
        if r["type"] == arm_type and (name is None or r["name"] == name)
    ]
    assert len(found) == 1, (arm_type, name, len(found))
    return found[0]


def test_renames_and_placement(templates: dict[str, dict[str, Any]]) -> None:
    prod = templates["prod"]
    st = _one(prod, "Microsoft.Storage/storageAccounts", "stmlopsprodp01")
    assert st["sku"] == {"name": "Standard_GZRS"}
    assert st["kind"] == "StorageV2"
    assert st["properties"]["supportsHttpsTrafficOnly"] is True
    assert st["properties"]["networkAcls"] == {"bypass": "AzureServices", "defaultAction": "Deny"}
    assert "enableHttpsTrafficOnly" not in st["properties"]
    assert "accountName" not in st["properties"]
    appi = _one(prod, "Microsoft.Insights/components")
    assert appi["kind"] == "web"
    assert {"Application_Type", "Flow_Type", "Request_Source", "WorkspaceResourceId"} <= set(
        appi["properties"]
    )
    law = _one(prod, "Microsoft.OperationalInsights/workspaces")
    assert "sku" not in law
    assert law["properties"]["sku"] == {"name": "PerGB2018"}
    kv = _one(prod, "Microsoft.KeyVault/vaults")
    assert kv["properties"]["enablePurgeProtection"] is True
    assert "properties" not in kv["properties"]
    pe = _one(prod, "Microsoft.Network/privateEndpoints", "pe-kv-mlops-prod")
    connection = pe["properties"]["privateLinkServiceConnections"][0]
    assert set(connection) == {"name", "properties"}
    assert connection["properties"]["groupIds"] == ["vault"]
    mlw = _one(prod, "Microsoft.MachineLearningServices/workspaces")
    assert isinstance(mlw["identity"]["userAssignedIdentities"], dict)
    compute = _one(
        prod, "Microsoft.MachineLearningServices/workspaces/computes", "mlw-mlops-prod/cpu-cluster"
    )
    assert compute["properties"]["properties"]["scaleSettings"]["minNodeCount"] == 0  # int, not 0.0
    container = _one(prod, "Microsoft.Storage/storageAccounts/blobServices/containers")
    assert container["name"] == "stmlopsprodp01/default/modeldata"


def test_extension_resources_carry_their_scope(templates: dict[str, dict[str, Any]]) -> None:
    prod = templates["prod"]
    for resource in arm.iter_resources(prod):
        if resource["type"] in ("Microsoft.Insights/diagnosticSettings", "Microsoft.Authorization/locks"):
            assert resource["scope"].startswith("/subscriptions/"), resource["name"]
    budget = _one(prod, "Microsoft.Consumption/budgets")
    assert "scope" not in budget  # the deployment's own resource group
    policy = _one(prod, "Microsoft.Authorization/policyAssignments")
    assert "scope" not in policy
    assert policy["identity"] == {"type": "SystemAssigned"}
    assert policy["location"] == "westeurope"
    sub = next(r for r in prod["resources"] if r["type"] == "Microsoft.Resources/deployments")
    inner = {r["type"] for r in sub["properties"]["template"]["resources"]}
    assert inner == {
        "Microsoft.Resources/resourceGroups",
        "Microsoft.Authorization/policyDefinitions",
        "Microsoft.Authorization/policySetDefinitions",
    }


def test_suppressions_become_checkov_skip_comments(templates: dict[str, dict[str, Any]]) -> None:
    acr = _one(templates["dev"], "Microsoft.ContainerRegistry/registries")
    comments = acr["metadata"]["checkov"]
    assert any(c.startswith("checkov:skip=CKV_AZURE_139:") and "expires" in c for c in comments)
    prod_acr = _one(templates["prod"], "Microsoft.ContainerRegistry/registries")
    assert [c.split(":")[1] for c in prod_acr["metadata"]["checkov"]] == ["skip=CKV_AZURE_166"]


def test_expired_and_stale_suppressions_fail(captures: dict[str, Capture], tmp_path: Path) -> None:
    rules = arm.load_suppressions()
    assert rules
    assert all(s.expires > dt.date.today() for s in rules)
    with pytest.raises(arm.SuppressionError, match="expired"):
        arm.to_template(captures["prod"], rules, today=dt.date(2030, 1, 1))
    stale = arm.Suppression(
        "CKV_AZURE_1", "Microsoft.Nothing/here.*", "a reason long enough to pass", dt.date(2099, 1, 1)
    )
    with pytest.raises(arm.SuppressionError, match="match no resource"):
        arm.to_template(captures["prod"], [stale])
    bad = tmp_path / "s.yaml"
    bad.write_text(
        "suppressions:\n  - check: CKV_AZURE_1\n    resource: x\n    reason: short\n    expires: 2030-01-01\n"
    )
    with pytest.raises(arm.SuppressionError, match="20\\+ characters"):
        arm.load_suppressions(bad)
