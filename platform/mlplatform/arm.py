"""Offline capture -> ARM deployment template, so checkov's Azure ARM checks can scan what Pulumi deploys.

checkov cannot read Pulumi programs. azure-native is generated from the same REST specs as ARM, so
the captured wire inputs are nearly ARM already; what differs is undone here with small reviewed
tables per type (`TYPE_SPECS`): the API version the SDK uses, fields azure-native lifts out of
`properties` ("flattening"), fields it renames, and list items it flattens. Every table entry is
covered by tests/infra/test_arm.py.

Subscription-scope resources (the resource group, policy definitions and initiatives) cannot sit in
a resource-group template, so they go into one nested deployment at subscription scope; checkov
scans nested resources too.

Suppressions come from one reviewed file, `policies/suppressions.yaml`, and become checkov skip
comments in each resource's `metadata.checkov`. Expired or unmatched suppressions are errors.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .config import PROJECT_ROOT
from .render import FAKE_SUBSCRIPTION, Capture
from .resource_types import RESOURCE_TYPES

SCHEMA_RG = "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#"
SCHEMA_SUB = "https://schema.management.azure.com/schemas/2018-05-01/subscriptionDeploymentTemplate.json#"
SUPPRESSIONS_FILE = PROJECT_ROOT / "policies" / "suppressions.yaml"

# Top-level keys of an ARM resource (everything else a flattened type declares goes to `properties`).
TOP_LEVEL = ("location", "tags", "sku", "kind", "identity", "zones", "plan", "etag", "managedBy")


@dataclass(frozen=True)
class TypeSpec:
    api_version: str
    # azure-native lifts these types' ARM `properties` to the top level; put them back.
    flattened: bool = True
    # azure-native name -> ARM name, for keys inside `properties`.
    renames: dict[str, str] = field(default_factory=dict)
    # Keys that ARM keeps in `properties` although they are top-level in other types.
    in_properties: tuple[str, ...] = ()
    # List-valued properties whose items azure-native flattens ({name, ...} -> {name, properties}).
    flattened_items: tuple[str, ...] = ()
    subscription_scope: bool = False


# API versions are the ones the installed pulumi-azure-native uses ("Uses Azure REST API version"
# in each resource's docstring); tests/infra/test_arm.py checks them against the SDK source.
TYPE_SPECS: dict[str, TypeSpec] = {
    "azure-native:resources:ResourceGroup": TypeSpec("2024-03-01", subscription_scope=True),
    "azure-native:operationalinsights:Workspace": TypeSpec("2023-09-01", in_properties=("sku",)),
    "azure-native:applicationinsights:Component": TypeSpec(
        "2020-02-02",
        # ARM keeps the legacy Application Insights casing; azure-native camel-cases it.
        renames={
            "applicationType": "Application_Type",
            "flowType": "Flow_Type",
            "requestSource": "Request_Source",
            "workspaceResourceId": "WorkspaceResourceId",
            "ingestionMode": "IngestionMode",
            "disableLocalAuth": "DisableLocalAuth",
            "retentionInDays": "RetentionInDays",
            "samplingPercentage": "SamplingPercentage",
            "disableIpMasking": "DisableIpMasking",
        },
    ),
    "azure-native:monitor:ActionGroup": TypeSpec("2024-10-01-preview"),
    "azure-native:monitor:DiagnosticSetting": TypeSpec("2021-05-01-preview"),
    "azure-native:network:NetworkSecurityGroup": TypeSpec("2024-05-01", flattened_items=("securityRules",)),
    "azure-native:network:VirtualNetwork": TypeSpec("2024-05-01"),
    "azure-native:network:NatGateway": TypeSpec("2024-05-01"),
    "azure-native:network:PublicIPAddress": TypeSpec("2024-05-01"),
    "azure-native:network:Subnet": TypeSpec("2024-05-01"),
    "azure-native:network:PrivateEndpoint": TypeSpec(
        "2024-05-01", flattened_items=("privateLinkServiceConnections", "manualPrivateLinkServiceConnections")
    ),
    "azure-native:network:PrivateDnsZoneGroup": TypeSpec(
        "2024-05-01", flattened_items=("privateDnsZoneConfigs",)
    ),
    "azure-native:privatedns:PrivateZone": TypeSpec("2024-06-01"),
    "azure-native:privatedns:VirtualNetworkLink": TypeSpec("2024-06-01"),
    "azure-native:managedidentity:UserAssignedIdentity": TypeSpec("2023-01-31"),
    "azure-native:managedidentity:FederatedIdentityCredential": TypeSpec("2023-01-31"),
    "azure-native:keyvault:Vault": TypeSpec("2024-11-01", flattened=False),
    "azure-native:storage:StorageAccount": TypeSpec(
        "2024-01-01",
        renames={"enableHttpsTrafficOnly": "supportsHttpsTrafficOnly", "networkRuleSet": "networkAcls"},
    ),
    "azure-native:storage:BlobServiceProperties": TypeSpec("2024-01-01"),
    "azure-native:storage:BlobContainer": TypeSpec("2024-01-01"),
    "azure-native:containerregistry:Registry": TypeSpec("2023-01-01-preview"),
    "azure-native:machinelearningservices:Workspace": TypeSpec("2025-12-01"),
    "azure-native:machinelearningservices:Compute": TypeSpec("2025-12-01", flattened=False),
    "azure-native:authorization:RoleAssignment": TypeSpec("2022-04-01"),
    "azure-native:authorization:ManagementLockByScope": TypeSpec("2020-05-01"),
    "azure-native:consumption:Budget": TypeSpec("2024-08-01"),
    "azure-native:authorization:PolicyDefinition": TypeSpec("2025-01-01", subscription_scope=True),
    "azure-native:authorization:PolicySetDefinition": TypeSpec("2025-01-01", subscription_scope=True),
    "azure-native:authorization:PolicyAssignment": TypeSpec("2025-01-01"),
    "azure-native:authorization:PolicyExemption": TypeSpec("2022-07-01-preview"),
}


class SuppressionError(Exception):
    """policies/suppressions.yaml is malformed, has an expired entry or one that matches nothing."""


@dataclass(frozen=True)
class Suppression:
    check: str
    resource: str  # "<ARM type>.<ARM name>", fnmatch pattern (checkov's resource ID form)
    reason: str
    expires: dt.date
    stacks: tuple[str, ...] = ()

    def applies(self, stack: str, resource_id: str) -> bool:
        return (not self.stacks or stack in self.stacks) and fnmatch.fnmatchcase(resource_id, self.resource)


def load_suppressions(path: Path = SUPPRESSIONS_FILE) -> list[Suppression]:
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except FileNotFoundError:
        return []
    entries = doc.get("suppressions") if isinstance(doc, dict) else None
    if not isinstance(entries, list):
        raise SuppressionError(f"{path}: expected a top-level 'suppressions:' list")
    found: list[Suppression] = []
    for i, entry in enumerate(entries):
        where = f"{path.name}: suppressions[{i}]"
        if not isinstance(entry, dict):
            raise SuppressionError(f"{where}: expected a mapping")
        missing = [k for k in ("check", "resource", "reason", "expires") if not entry.get(k)]
        if missing:
            raise SuppressionError(f"{where}: missing {', '.join(missing)}")
        expires = entry["expires"]
        if isinstance(expires, str):
            try:
                expires = dt.date.fromisoformat(expires)
            except ValueError as exc:
                raise SuppressionError(f"{where}: expires must be a date YYYY-MM-DD") from exc
        if not isinstance(expires, dt.date):
            raise SuppressionError(f"{where}: expires must be a date YYYY-MM-DD")
        if len(str(entry["reason"]).strip()) < 20:
            raise SuppressionError(f"{where}: the reason must explain the exception (20+ characters)")
        stacks = entry.get("stacks") or []
        found.append(
            Suppression(
                check=str(entry["check"]),
                resource=str(entry["resource"]),
                reason=" ".join(str(entry["reason"]).split()),
                expires=expires,
                stacks=tuple(str(s) for s in stacks),
            )
        )
    return found


def expired(suppressions: list[Suppression], today: dt.date | None = None) -> list[Suppression]:
    day = today or dt.date.today()
    return [s for s in suppressions if s.expires < day]


def _flatten_items(items: Any) -> Any:
    if not isinstance(items, list):
        return items
    out = []
    for item in items:
        if isinstance(item, dict) and "properties" not in item:
            rest = {k: v for k, v in item.items() if k not in ("name", "id")}
            out.append({**{k: item[k] for k in ("name", "id") if k in item}, "properties": rest})
        else:
            out.append(item)
    return out


def _identity(identity: Any) -> Any:
    # azure-native takes user-assigned identities as a list of IDs; ARM wants a map ID -> {}.
    if isinstance(identity, dict) and isinstance(identity.get("userAssignedIdentities"), list):
        return {**identity, "userAssignedIdentities": {i: {} for i in identity["userAssignedIdentities"]}}
    return identity


def _numbers(value: Any) -> Any:
    # The mocks hand numbers over as floats (0.0); ARM and checkov compare integers.
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {k: _numbers(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_numbers(v) for v in value]
    return value


def arm_name(token: str, inputs: dict[str, Any], logical: str) -> str:
    spec = RESOURCE_TYPES[token]
    names = [k[1:] if k.startswith("=") else str(inputs.get(k) or logical) for k in spec.name_keys]
    return "/".join(names)


def to_resource(resource: dict[str, Any], rg_id: str | None) -> tuple[dict[str, Any], bool]:
    """One captured azure-native resource as an ARM resource; the flag says subscription scope."""
    token = resource["type"]
    if token not in TYPE_SPECS or token not in RESOURCE_TYPES:
        raise KeyError(f"no ARM rendering for {token}; add it to arm.TYPE_SPECS and resource_types")
    spec, names = TYPE_SPECS[token], RESOURCE_TYPES[token]
    inputs: dict[str, Any] = _numbers(dict(resource["inputs"]))
    consumed = {k for k in names.name_keys if not k.startswith("=")} | {"resourceGroupName"}
    out: dict[str, Any] = {
        "type": names.arm_type,
        "apiVersion": spec.api_version,
        "name": arm_name(token, inputs, resource["name"]),
    }
    if names.scope_key:
        consumed.add(names.scope_key)
        scope = inputs.get(names.scope_key)
        # Extension resources on the deployment's own resource group need no scope.
        if scope and scope != rg_id:
            out["scope"] = scope
    properties: dict[str, Any] = dict(inputs.get("properties") or {}) if not spec.flattened else {}
    for key, value in inputs.items():
        if key in consumed or (key == "properties" and not spec.flattened):
            continue
        if key in TOP_LEVEL and key not in spec.in_properties:
            out[key] = _identity(value) if key == "identity" else value
        elif spec.flattened:
            properties[spec.renames.get(key, key)] = value
        else:
            raise KeyError(f"{token}: unexpected top-level input {key!r}; extend arm.TYPE_SPECS")
    for key in spec.flattened_items:
        if key in properties:
            properties[key] = _flatten_items(properties[key])
    out["properties"] = properties
    out["metadata"] = {"pulumi": {"type": token, "name": resource["name"]}}
    return out, spec.subscription_scope


def checkov_id(resource: dict[str, Any]) -> str:
    """How checkov names an ARM resource in its results."""
    return f"{resource['type']}.{resource['name']}"


def to_template(
    capture: Capture, suppressions: list[Suppression] | None = None, today: dt.date | None = None
) -> dict[str, Any]:
    """The ARM deployment template for a capture, with active suppressions as checkov skip comments."""
    rules = load_suppressions() if suppressions is None else suppressions
    stale = expired(rules, today)
    if stale:
        listed = "; ".join(f"{s.check} on {s.resource} (expired {s.expires})" for s in stale)
        raise SuppressionError(f"expired suppressions in policies/suppressions.yaml: {listed}")
    groups = capture.of_type("azure-native:resources:ResourceGroup")
    rg_id = None
    rg_name = None
    if len(groups) == 1:
        rg_name = groups[0]["inputs"]["resourceGroupName"]
        rg_id = f"/subscriptions/{FAKE_SUBSCRIPTION}/resourceGroups/{rg_name}"
    rg_level: list[dict[str, Any]] = []
    sub_level: list[dict[str, Any]] = []
    for resource in sorted(capture.resources, key=lambda r: (r["type"], r["name"])):
        if not resource["type"].startswith("azure-native:"):
            continue  # component resources are Pulumi-only grouping
        arm, at_subscription = to_resource(resource, rg_id)
        skips = [
            f"checkov:skip={s.check}:{s.reason} (expires {s.expires})"
            for s in rules
            if s.applies(capture.stack, checkov_id(arm))
        ]
        if skips:
            arm["metadata"]["checkov"] = skips
        (sub_level if at_subscription else rg_level).append(arm)
    unmatched = [
        s
        for s in rules
        if (not s.stacks or capture.stack in s.stacks)
        and not any(s.applies(capture.stack, checkov_id(r)) for r in rg_level + sub_level)
    ]
    if unmatched:
        listed = "; ".join(f"{s.check} on {s.resource}" for s in unmatched)
        raise SuppressionError(f"suppressions that match no resource of stack {capture.stack}: {listed}")
    resources = list(rg_level)
    if sub_level:
        resources.insert(
            0,
            {
                "type": "Microsoft.Resources/deployments",
                "apiVersion": "2022-09-01",
                "name": f"{rg_name or capture.stack}-subscription-scope",
                "subscriptionId": "[subscription().subscriptionId]",
                "location": _location(capture),
                "properties": {
                    "mode": "Incremental",
                    "expressionEvaluationOptions": {"scope": "inner"},
                    "template": {
                        "$schema": SCHEMA_SUB,
                        "contentVersion": "1.0.0.0",
                        "resources": sub_level,
                    },
                },
            },
        )
    return {
        "$schema": SCHEMA_RG,
        "contentVersion": "1.0.0.0",
        "metadata": {
            "generator": "mlplatform.arm (offline render of the Pulumi program)",
            "stack": capture.stack,
            "resourceGroup": rg_name,
        },
        "resources": resources,
        "outputs": {},
    }


def _location(capture: Capture) -> str:
    for resource in capture.of_type("azure-native:resources:ResourceGroup"):
        return str(resource["inputs"].get("location", "westeurope"))
    return "westeurope"


def iter_resources(template: dict[str, Any]) -> list[dict[str, Any]]:
    """Every resource of a template, nested deployments' resources included."""
    found: list[dict[str, Any]] = []
    for resource in template.get("resources", []):
        found.append(resource)
        inner = resource.get("properties", {}).get("template")
        if resource.get("type") == "Microsoft.Resources/deployments" and isinstance(inner, dict):
            found.extend(iter_resources(inner))
    return found


def write(document: dict[str, Any], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(document, indent=2, sort_keys=False) + "\n", encoding="utf-8")
    tmp.replace(path)
