"""Azure Policy in the platform: definitions, initiative, assignment per stack, exemptions, remediation."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from mlplatform.common import FORBIDDEN_ROLES, ROLES
from mlplatform.render import Capture

ROOT = Path(__file__).resolve().parents[2]
BUILTIN = "/providers/Microsoft.Authorization/policyDefinitions/"
# infra-anchors.md §5: the built-ins the initiative must contain.
REQUIRED_BUILTINS = {
    "438c38d2-3772-465a-a9cc-7a6666a275ce",  # ML workspace public network access
    "45e05259-1eb5-4f70-9574-baf73e9d219b",  # ML workspace private link
    "6ddb1705-c8cf-450e-aa4b-19ad6703c440",  # ML managed network approved outbound
    "e96a9a5f-07ca-471b-9bc5-6a0f33cbd68f",  # ML compute local auth
    "0b60c0b2-2dc2-4e1c-b5c9-abbed971de53",  # Key Vault deletion protection
    "405c5871-3e91-4644-8a63-58e19d68ff5b",  # Key Vault public network access
    "8c6a50c6-9ffd-4ae7-986f-5fa6111f9a54",  # storage shared key
    "b2982f36-99f2-4db5-8eff-283140c09693",  # storage public network access
    "0fdf0491-d080-4575-b627-ad0e843cba0f",  # ACR public network access
    "dc921057-6b28-4fbe-9b83-f7bec05db6c2",  # ACR admin account
    "1bc02227-0cb6-4e11-8f53-eb0b22eab7e8",  # App Insights public ingestion/query
    "e56962a6-4747-49cd-b67b-bf8b01975c4c",  # allowed locations
    "871b6d14-10aa-478d-b590-94f262ecfa99",  # required tag
}


def _inputs(capture: Capture, token: str) -> list[dict[str, Any]]:
    return [r["inputs"] for r in capture.of_type(token)]


def test_definition_files_are_azure_policy_json() -> None:
    files = sorted((ROOT / "policies" / "azure" / "definitions").glob("*.json"))
    assert files
    for path in files:
        doc = json.loads(path.read_text())
        props = doc["properties"]
        assert doc["name"] == path.stem
        assert props["policyType"] == "Custom"
        assert props["mode"] in ("All", "Indexed")
        assert set(props["policyRule"]) == {"if", "then"}
        assert props["policyRule"]["then"]["effect"] == "[parameters('effect')]"
        assert set(props["parameters"]["effect"]["allowedValues"]) >= {"Audit", "Deny"}


def test_initiative_has_the_built_ins_and_every_custom_definition() -> None:
    doc = json.loads((ROOT / "policies" / "azure" / "initiative.json").read_text())["properties"]
    members = doc["policyDefinitions"]
    refs = [m["policyDefinitionReferenceId"] for m in members]
    assert len(refs) == len(set(refs))
    builtins = {
        m["policyDefinitionId"].removeprefix(BUILTIN)
        for m in members
        if m["policyDefinitionId"].startswith(BUILTIN)
    }
    assert builtins >= REQUIRED_BUILTINS
    customs = {m["policyDefinitionId"] for m in members if not m["policyDefinitionId"].startswith("/")}
    assert customs == {p.stem for p in (ROOT / "policies" / "azure" / "definitions").glob("*.json")}
    groups = {g["name"] for g in doc["policyDefinitionGroups"]}
    assert all(set(m["groupNames"]) <= groups for m in members)


def test_definitions_and_initiative_are_created(stack: Capture) -> None:
    defs = _inputs(stack, "azure-native:authorization:PolicyDefinition")
    assert {d["policyDefinitionName"] for d in defs} == {
        f"{p.stem}-{stack.stack}" for p in (ROOT / "policies" / "azure" / "definitions").glob("*.json")
    }
    (initiative,) = _inputs(stack, "azure-native:authorization:PolicySetDefinition")
    custom_ids = [
        m["policyDefinitionId"]
        for m in initiative["policyDefinitions"]
        if "/subscriptions/" in m["policyDefinitionId"]
    ]
    assert len(custom_ids) == len(defs)
    assert all(f"-{stack.stack}" in i for i in custom_ids)


@pytest.mark.parametrize(
    ("name", "effect", "mode"), [("dev", "Audit", "DoNotEnforce"), ("prod", "Deny", "Default")]
)
def test_assignment_audits_in_dev_and_denies_in_prod(
    name: str, effect: str, mode: str, captures: dict[str, Capture]
) -> None:
    (assignment,) = _inputs(captures[name], "azure-native:authorization:PolicyAssignment")
    assert assignment["scope"].endswith(f"/resourceGroups/rg-mlops-{name}")
    assert assignment["parameters"]["effect"]["value"] == effect
    assert assignment["enforcementMode"] == mode
    assert "westeurope" in assignment["parameters"]["allowedLocations"]["value"]
    assert "policySetDefinitions/mlplatform-baseline-" in assignment["policyDefinitionId"]


def test_remediation_identity_has_a_least_privilege_role(stack: Capture) -> None:
    (assignment,) = _inputs(stack, "azure-native:authorization:PolicyAssignment")
    assert assignment["identity"] == {"type": "SystemAssigned"}
    assert assignment["location"] == "westeurope"
    grants = [
        r["inputs"]
        for r in stack.of_type("azure-native:authorization:RoleAssignment")
        if r["name"].startswith("policy-remediation")
    ]
    assert len(grants) == 1
    role = grants[0]["roleDefinitionId"].rsplit("/", 1)[-1]
    assert role == ROLES["Tag Contributor"]
    assert role not in FORBIDDEN_ROLES
    assert grants[0]["principalId"]
    assert grants[0]["scope"] == assignment["scope"]


def test_exemptions_come_from_stack_config_and_expire(captures: dict[str, Capture]) -> None:
    assert _inputs(captures["dev"], "azure-native:authorization:PolicyExemption") == []
    (exemption,) = _inputs(captures["prod"], "azure-native:authorization:PolicyExemption")
    assert exemption["policyDefinitionReferenceIds"] == ["aml-compute-in-vnet"]
    assert exemption["expiresOn"] == "2027-06-30T00:00:00Z"
    assert exemption["exemptionCategory"] == "Mitigated"
    assert "policyAssignments/mlplatform-baseline-prod" in exemption["policyAssignmentId"]


def test_policy_config_is_validated(tmp_path: Path) -> None:
    from mlplatform import config

    base = (ROOT / "Pulumi.prod.yaml").read_text()
    cases = {
        "effect: Deny": ("effect: Audit", "prod must enforce its policies"),
        "policyReferenceId: aml-compute-in-vnet": (
            "policyReferenceId: no-such-policy",
            "not in policies/azure/initiative.json",
        ),
        'expiresOn: "2027-06-30"': ('expiresOn: "2020-01-01"', "has passed"),
        "allowedLocations: [westeurope, northeurope]": (
            "allowedLocations: [northeurope]",
            "must include the stack's location",
        ),
    }
    for old, (new, message) in cases.items():
        path = tmp_path / "Pulumi.prod.yaml"
        path.write_text(base.replace(old, new))
        from mlplatform.render import _flatten_config

        flat = _flatten_config(config.load_stack_file(path))
        raw, location = config.raw_from_stack_config(flat)
        with pytest.raises(config.ConfigError, match=message):
            config.validate(raw, stack="prod", location=location, source=path)


def test_managed_network_built_in_gets_the_required_mode() -> None:
    # Its isolationMode parameter defaults to Disabled: without it, compliant workspaces would be flagged.
    doc = json.loads((ROOT / "policies" / "azure" / "initiative.json").read_text())["properties"]
    (member,) = [
        m
        for m in doc["policyDefinitions"]
        if m["policyDefinitionReferenceId"].endswith("managed-network-approved-outbound")
    ]
    assert member["parameters"]["isolationMode"] == {"value": "AllowOnlyApprovedOutbound"}
