"""Offline capture -> ARM deployment template, so checkov's Azure ARM checks can scan what Pulumi deploys.

checkov cannot read Pulumi programs. azure-native is generated from the same REST specs as ARM, so
the captured wire inputs are nearly ARM already; what differs is undone here with the rendering
columns of the one resource-type table (resource_types.RESOURCE_TYPES): the API version the SDK
uses, fields azure-native lifts out of `properties` ("flattening"), fields it renames, and list items
it flattens. Every row is covered by tests/infra/test_arm.py.

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
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from .config import PROJECT_ROOT
from .render import FAKE_SUBSCRIPTION, Capture
from .resource_types import arm_names, resource_type

SCHEMA_RG = "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#"
SCHEMA_SUB = "https://schema.management.azure.com/schemas/2018-05-01/subscriptionDeploymentTemplate.json#"
SUPPRESSIONS_FILE = PROJECT_ROOT / "policies" / "suppressions.yaml"

# Top-level keys of an ARM resource (everything else a flattened type declares goes to `properties`).
TOP_LEVEL = ("location", "tags", "sku", "kind", "identity", "zones", "plan", "etag", "managedBy")


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
    return "/".join(arm_names(token, inputs, logical))


def to_resource(resource: dict[str, Any], rg_id: str | None) -> tuple[dict[str, Any], bool]:
    """One captured azure-native resource as an ARM resource; the flag says subscription scope."""
    token = resource["type"]
    spec = resource_type(token)
    inputs: dict[str, Any] = _numbers(dict(resource["inputs"]))
    consumed = {k for k in spec.name_keys if not k.startswith("=")} | {"resourceGroupName"}
    out: dict[str, Any] = {
        "type": spec.arm_type,
        "apiVersion": spec.api_version,
        "name": arm_name(token, inputs, resource["name"]),
    }
    if spec.scope_key:
        consumed.add(spec.scope_key)
        scope = inputs.get(spec.scope_key)
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
            raise KeyError(
                f"{token}: unexpected top-level input {key!r}; extend its row in resource_types.RESOURCE_TYPES"
            )
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
