"""Tags everywhere, dev vs prod differences, and the golden inventory reviewers read in PRs."""

from __future__ import annotations

import importlib
import inspect
import os
import re
from pathlib import Path
from typing import Any

import pytest

from mlplatform.render import Capture

GOLDEN = Path(__file__).parent / "golden"
REQUIRED_TAGS = {"environment", "project", "owner", "cost-center", "managed-by"}


def taggable(token: str) -> bool:
    """True when the azure-native resource accepts `tags` (read from the SDK, not from a list)."""
    _, module, cls = token.split(":")
    resource = getattr(importlib.import_module(f"pulumi_azure_native.{module}"), cls)
    return "tags" in inspect.signature(resource._internal_init).parameters


def test_every_taggable_resource_is_tagged(stack: Capture) -> None:
    checked = 0
    for resource in stack.resources:
        if not resource["type"].startswith("azure-native:") or not taggable(resource["type"]):
            continue
        tags = resource["inputs"].get("tags") or {}
        assert set(tags) >= REQUIRED_TAGS, f"{resource['name']} lacks {REQUIRED_TAGS - set(tags)}"
        assert tags["environment"] == stack.stack
        assert tags["managed-by"] == "pulumi"
        checked += 1
    assert checked >= 30, "the SDK introspection found too few taggable resources"


def inventory(capture: Capture) -> str:
    lines = [f"# {capture.stack}: {len(capture.resources)} resources (regenerate: UPDATE_GOLDEN=1 make unit)"]
    for token, count in capture.summary().items():
        lines.append(f"{count:>3}  {token}")
    lines.append("")
    for r in sorted(capture.resources, key=lambda r: (r["type"], r["name"])):
        lines.append(f"{r['type']}  {r['name']}  (parent: {r['parent'] or '-'})")
    return "\n".join(lines) + "\n"


def test_inventory_matches_golden(stack: Capture) -> None:
    path = GOLDEN / f"{stack.stack}.inventory.txt"
    text = inventory(stack)
    if os.environ.get("UPDATE_GOLDEN") == "1":
        path.write_text(text, encoding="utf-8")
    assert path.read_text(encoding="utf-8") == text, (
        f"inventory changed; review and run UPDATE_GOLDEN=1 ({path})"
    )


def _normalise(value: Any, env: str) -> Any:
    swap = {"dev": ("dev", "d01", "10.40."), "prod": ("prod", "p01", "10.41.")}[env]
    if isinstance(value, dict):
        return {k: _normalise(v, env) for k, v in value.items()}
    if isinstance(value, list):
        return [_normalise(v, env) for v in value]
    if isinstance(value, str):
        for token, placeholder in zip(swap, ("ENV", "SFX", "NET."), strict=True):
            value = value.replace(token, placeholder)
        return re.sub(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", "GUID", value)
    return value


def _diff(a: Any, b: Any, path: str = "") -> list[str]:
    if isinstance(a, dict) and isinstance(b, dict):
        out: list[str] = []
        for key in sorted(set(a) | set(b)):
            out += _diff(a.get(key), b.get(key), f"{path}.{key}" if path else key)
        return out
    return [] if a == b else [path]


# Every difference between dev and prod, by resource and input path, with the stack setting
# that causes it. A difference not listed here is a bug (or a new setting to review).
EXPECTED_DIFFERENCES = {
    "mlplatform:publicNetworkAccess": {
        ("data-kv", "properties.publicNetworkAccess"),
        ("data-st", "publicNetworkAccess"),
        ("data-dls", "publicNetworkAccess"),
        ("data-acr", "publicNetworkAccess"),
        ("data-acr", "policies.exportPolicy"),
        ("mlw-mlw", "publicNetworkAccess"),
        ("obs-law", "publicNetworkAccessForIngestion"),
        ("obs-law", "publicNetworkAccessForQuery"),
        ("obs-appi", "publicNetworkAccessForIngestion"),
        ("obs-appi", "publicNetworkAccessForQuery"),
    },
    "mlplatform:workspace": {
        ("mlw-mlw", "managedNetwork.isolationMode"),
        ("mlw-mlw", "managedNetwork.firewallSku"),
        ("mlw-mlw", "managedNetwork.outboundRules"),
        ("mlw-mlw", "provisionNetworkNow"),
        ("mlw-mlw", "hbiWorkspace"),
        ("mlw-cpu-cluster", "properties.properties.subnet"),
        ("net-snet-training", "natGateway"),
    },
    "mlplatform:compute": {
        ("mlw-cpu-cluster", "properties.properties.vmSize"),
        ("mlw-cpu-cluster", "properties.properties.vmPriority"),
        ("mlw-cpu-cluster", "properties.properties.scaleSettings.maxNodeCount"),
        ("mlw-cpu-cluster", "properties.properties.scaleSettings.nodeIdleTimeBeforeScaleDown"),
    },
    "mlplatform:storage": {
        ("data-st", "sku.name"),
        ("data-dls", "sku.name"),
        ("data-st-blobsvc", "deleteRetentionPolicy.days"),
        ("data-st-blobsvc", "containerDeleteRetentionPolicy.days"),
        ("data-dls-blobsvc", "deleteRetentionPolicy.days"),
        ("data-dls-blobsvc", "containerDeleteRetentionPolicy.days"),
    },
    "mlplatform:logRetentionDays": {("obs-law", "retentionInDays")},
    "mlplatform:keyVaultSoftDeleteDays": {("data-kv", "properties.softDeleteRetentionInDays")},
    "mlplatform:budget": {
        ("gov-budget", "amount"),
        ("gov-budget", "notifications"),
        ("obs-ag-owners", "emailReceivers"),
    },
    # ACR zone redundancy is a prod-only property of the environment, not a free setting.
    "mlplatform:environment": {("data-acr", "zoneRedundancy")},
    # Audit (DoNotEnforce) in dev, Deny in prod.
    "mlplatform:policy": {
        ("policy-assignment", "enforcementMode"),
        ("policy-assignment", "parameters.effect.value"),
        ("policy-assignment", "displayName"),
    },
}


def test_dev_and_prod_differ_exactly_where_configured(captures: dict[str, Capture]) -> None:
    dev = {_normalise(r["name"], "dev"): _normalise(r["inputs"], "dev") for r in captures["dev"].resources}
    prod = {
        _normalise(r["name"], "prod"): _normalise(r["inputs"], "prod") for r in captures["prod"].resources
    }
    only_prod = set(prod) - set(dev)
    assert only_prod == {
        "gov-lock-keyvault",  # deleteLocks: true
        "gov-lock-storage",
        "gov-lock-lake",
        # workspace.isolationMode: the managed VNet approves its own private endpoints
        "ids-workspace-resource-group-azure-ai-enterprise-network-connection-approver",
        # policy.exemptions: prod's cluster lives in the managed VNet, not a customer subnet
        "policy-exemption-aml-compute-in-vnet",
    }
    # workspace.isolationMode Disabled: dev's cluster egresses through our NAT gateway
    assert set(dev) - set(prod) == {"net-nat", "net-pip-nat"}
    found: set[tuple[str, str]] = set()
    for name in sorted(set(dev) & set(prod)):
        for path in _diff(dev[name], prod[name]):
            # Collections that config fills are compared as a whole (rules, notifications).
            for collection in ("outboundRules", "notifications"):
                head, sep, _ = path.partition(f"{collection}.")
                if sep:
                    path = head + collection
            found.add((name, path))
    expected = set().union(*EXPECTED_DIFFERENCES.values())
    assert found - expected == set(), "unexplained dev/prod differences"
    assert expected - found == set(), "a configured difference no longer shows"


@pytest.mark.parametrize("name", ["dev", "prod"])
def test_stack_files_do_not_overlap(name: str, captures: dict[str, Capture]) -> None:
    import ipaddress

    mine = ipaddress.ip_network(
        captures[name].one("azure-native:network:VirtualNetwork")["inputs"]["addressSpace"][
            "addressPrefixes"
        ][0]
    )
    other = "prod" if name == "dev" else "dev"
    theirs = ipaddress.ip_network(
        captures[other].one("azure-native:network:VirtualNetwork")["inputs"]["addressSpace"][
            "addressPrefixes"
        ][0]
    )
    assert not mine.overlaps(theirs)
