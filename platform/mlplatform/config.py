"""Typed, validated stack configuration: the only place that reads Pulumi config.

Every value of a stack file is checked here before a single resource is declared, so a typo
fails with the key, the stack file (and line, when the file is at hand) and what is expected,
instead of a provider error half-way through `pulumi up`.

SCHEMA is the single source of every setting's type, range and default: an optional setting's
`default` is filled in before the typed dataclasses are built, so the dataclasses carry no defaults
of their own. What the settings mean for the resources is decided in stack.py, nowhere else.
"""

from __future__ import annotations

import copy
import ipaddress
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema

import safeload

NAMESPACE = "mlplatform"
PROJECT_ROOT = Path(__file__).resolve().parents[2]

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$")
_NAME = {"type": "string", "pattern": "^[a-z][a-z0-9]{1,9}$"}
_CIDR = {"type": "string", "x-cidr": True}
_PNA = {"type": "string", "enum": ["Enabled", "Disabled"]}

# The stack configuration contract. Types, enums and ranges live here; CIDR syntax/overlap and
# e-mail format are checked in Python below because their messages need more than a pattern.
SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": [
        "environment",
        "project",
        "owner",
        "costCenter",
        "nameSuffix",
        "publicNetworkAccess",
        "network",
        "workspace",
        "compute",
        "budget",
        "policy",
        "ci",
    ],
    "properties": {
        "environment": {"type": "string", "enum": ["dev", "test", "staging", "prod"]},
        "project": _NAME,
        "owner": {"type": "string", "x-email": True},
        "costCenter": {"type": "string", "minLength": 1, "maxLength": 64},
        "nameSuffix": {"type": "string", "pattern": "^[a-z0-9]{2,6}$"},
        "publicNetworkAccess": _PNA,
        "deleteLocks": {"type": "boolean", "default": False},
        "logRetentionDays": {"type": "integer", "minimum": 30, "maximum": 730, "default": 90},
        "keyVaultSoftDeleteDays": {"type": "integer", "minimum": 7, "maximum": 90, "default": 90},
        "network": {
            "type": "object",
            "additionalProperties": False,
            "required": ["addressSpace", "privateEndpointSubnet", "trainingSubnet"],
            "properties": {
                "addressSpace": _CIDR,
                "privateEndpointSubnet": _CIDR,
                "trainingSubnet": _CIDR,
                "reservedAddressSpaces": {"type": "array", "items": _CIDR, "default": []},
                "centralDnsZoneIds": {
                    "type": "object",
                    "default": {},
                    "additionalProperties": {
                        "type": "string",
                        "pattern": "^/subscriptions/[^/]+/resourceGroups/[^/]+/providers/"
                        "Microsoft.Network/privateDnsZones/[^/]+$",
                    },
                },
            },
        },
        "storage": {
            "type": "object",
            "additionalProperties": False,
            "default": {},
            "properties": {
                "sku": {
                    "type": "string",
                    "enum": [
                        "Standard_LRS",
                        "Standard_ZRS",
                        "Standard_GRS",
                        "Standard_GZRS",
                        "Standard_RAGZRS",
                    ],
                    "default": "Standard_ZRS",
                },
                "softDeleteDays": {"type": "integer", "minimum": 1, "maximum": 365, "default": 14},
            },
        },
        "workspace": {
            "type": "object",
            "additionalProperties": False,
            "required": ["isolationMode"],
            "properties": {
                "isolationMode": {
                    "type": "string",
                    "enum": ["Disabled", "AllowInternetOutbound", "AllowOnlyApprovedOutbound"],
                },
                "firewallSku": {"type": "string", "enum": ["Basic", "Standard"], "default": "Standard"},
                "hbiWorkspace": {"type": "boolean", "default": False},
                "outboundRules": {
                    "type": "array",
                    "default": [],
                    "items": {
                        "type": "object",
                        "additionalProperties": False,
                        "required": ["name", "type"],
                        "properties": {
                            "name": {"type": "string", "pattern": "^[a-zA-Z][a-zA-Z0-9-]{1,62}$"},
                            "type": {"type": "string", "enum": ["FQDN", "ServiceTag"]},
                            "fqdn": {"type": "string", "minLength": 3},
                            "serviceTag": {"type": "string", "minLength": 2},
                            "protocol": {"type": "string", "enum": ["TCP", "UDP", "*"], "default": "TCP"},
                            "portRanges": {"type": "string", "pattern": "^[0-9*,-]+$", "default": "443"},
                        },
                    },
                },
            },
        },
        "compute": {
            "type": "object",
            "additionalProperties": False,
            "required": ["vmSize", "maxNodes"],
            "properties": {
                "vmSize": {"type": "string", "pattern": "^Standard_[A-Za-z0-9_]+$"},
                "maxNodes": {"type": "integer", "minimum": 1, "maximum": 100},
                "idleSecondsBeforeScaleDown": {
                    "type": "integer",
                    "minimum": 60,
                    "maximum": 86400,
                    "default": 900,
                },
                "lowPriority": {"type": "boolean", "default": False},
            },
        },
        "budget": {
            "type": "object",
            "additionalProperties": False,
            "required": ["amount", "startDate", "contactEmails"],
            "properties": {
                "amount": {"type": "number", "exclusiveMinimum": 0},
                "startDate": {"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}-01$"},
                "contactEmails": {
                    "type": "array",
                    "minItems": 1,
                    "items": {"type": "string", "x-email": True},
                },
                "actualThresholds": {
                    "type": "array",
                    "items": {"type": "number", "exclusiveMinimum": 0, "maximum": 1000},
                    "default": [80, 100],
                },
                "forecastThresholds": {
                    "type": "array",
                    "items": {"type": "number", "exclusiveMinimum": 0, "maximum": 1000},
                    "default": [100],
                },
            },
        },
        "policy": {
            "type": "object",
            "additionalProperties": False,
            "required": ["effect", "allowedLocations"],
            "properties": {
                "effect": {"type": "string", "enum": ["Audit", "Deny"]},
                "allowedLocations": {
                    "type": "array",
                    "minItems": 1,
                    "items": {"type": "string", "pattern": "^[a-z0-9]+$"},
                },
                "exemptions": {
                    "type": "array",
                    "default": [],
                    "items": {
                        "type": "object",
                        "additionalProperties": False,
                        "required": ["policyReferenceId", "category", "reason", "expiresOn"],
                        "properties": {
                            "policyReferenceId": {"type": "string", "pattern": "^[a-z0-9-]+$"},
                            "category": {"type": "string", "enum": ["Waiver", "Mitigated"]},
                            "reason": {"type": "string", "minLength": 20, "maxLength": 1000},
                            "expiresOn": {"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"},
                        },
                    },
                },
            },
        },
        "ci": {
            "type": "object",
            "additionalProperties": False,
            "required": ["githubRepository", "githubEnvironment"],
            "properties": {
                "githubRepository": {"type": "string", "pattern": "^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$"},
                "githubEnvironment": {"type": "string", "pattern": "^[A-Za-z0-9_.-]{1,255}$"},
            },
        },
    },
}


class ConfigError(Exception):
    """A stack configuration value is wrong; the message says which, where and what is expected."""


# The dataclasses below mirror SCHEMA one to one and have no defaults: SCHEMA's `default`s are
# filled in before they are built (with_defaults), so a default is written down exactly once.


@dataclass(frozen=True)
class OutboundRule:
    name: str
    type: str
    destination: str
    protocol: str
    port_ranges: str


@dataclass(frozen=True)
class NetworkConfig:
    address_space: str
    private_endpoint_subnet: str
    training_subnet: str
    reserved_address_spaces: tuple[str, ...]
    central_dns_zone_ids: dict[str, str]


@dataclass(frozen=True)
class WorkspaceConfig:
    isolation_mode: str
    firewall_sku: str
    hbi_workspace: bool
    outbound_rules: tuple[OutboundRule, ...]


@dataclass(frozen=True)
class ComputeConfig:
    vm_size: str
    max_nodes: int
    idle_seconds_before_scale_down: int
    low_priority: bool


@dataclass(frozen=True)
class BudgetConfig:
    amount: float
    start_date: str
    contact_emails: tuple[str, ...]
    actual_thresholds: tuple[float, ...]
    forecast_thresholds: tuple[float, ...]


@dataclass(frozen=True)
class PolicyExemptionConfig:
    policy_reference_id: str
    category: str
    reason: str
    expires_on: str


@dataclass(frozen=True)
class PolicyConfig:
    effect: str
    allowed_locations: tuple[str, ...]
    exemptions: tuple[PolicyExemptionConfig, ...]


@dataclass(frozen=True)
class CiConfig:
    github_repository: str
    github_environment: str


@dataclass(frozen=True)
class PlatformConfig:
    stack: str
    location: str
    environment: str
    project: str
    owner: str
    cost_center: str
    name_suffix: str
    public_network_access: str
    network: NetworkConfig
    workspace: WorkspaceConfig
    compute: ComputeConfig
    budget: BudgetConfig
    policy: PolicyConfig
    ci: CiConfig
    delete_locks: bool
    log_retention_days: int
    key_vault_soft_delete_days: int
    storage_sku: str
    storage_soft_delete_days: int


# The offline render may run the program on a copy of a stack file (e.g. to try a change).
STACK_FILE_OVERRIDE: Path | None = None


def stack_file(stack: str) -> Path:
    return STACK_FILE_OVERRIDE or PROJECT_ROOT / f"Pulumi.{stack}.yaml"


def _line_of(source: Path | None, key_path: list[str | int]) -> int | None:
    """Line (1-based) of a config key in the stack file, so errors point where to edit."""
    if source is None or not source.is_file():
        return None
    try:
        doc = safeload.load_yaml_file(source)
    except (safeload.LoadError, OSError):
        # The stack file itself is refused elsewhere (load_stack_file) with its own line.
        return None
    path: list[str | int] = (
        ["config", f"{NAMESPACE}:{key_path[0]}", *key_path[1:]] if key_path else ["config"]
    )
    return doc.line(*path)


def _shown(source: Path | None, stack: str) -> str:
    if source is None:
        return f"Pulumi.{stack}.yaml"
    try:
        return str(source.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(source)


def _where(source: Path | None, stack: str, key_path: list[str | int]) -> str:
    shown = _shown(source, stack)
    line = _line_of(source, key_path)
    dotted = ".".join(str(p) for p in key_path)
    return f"{shown}:{line}: {NAMESPACE}:{dotted}" if line else f"{shown}: {NAMESPACE}:{dotted}"


def _schema_errors(raw: dict[str, Any]) -> list[tuple[list[str | int], str]]:
    validator = jsonschema.Draft202012Validator(SCHEMA)
    found: list[tuple[list[str | int], str]] = []
    for err in sorted(validator.iter_errors(raw), key=lambda e: [str(p) for p in e.absolute_path]):
        path = list(err.absolute_path)
        if err.validator == "required":
            missing = err.message.split("'")[1]
            found.append(([*path, missing], "is required but missing; add it to the stack file"))
        elif err.validator == "additionalProperties":
            extra = ", ".join(sorted(set(err.instance) - set(err.schema.get("properties", {}))))
            allowed = ", ".join(sorted(err.schema.get("properties", {})))
            found.append(([*path, extra], f"is not a known setting; allowed here: {allowed}"))
        elif err.validator == "enum":
            found.append(
                (path, f"is {err.instance!r}; expected one of {', '.join(map(str, err.validator_value))}")
            )
        elif err.validator == "pattern":
            found.append((path, f"is {err.instance!r}; expected a value matching {err.validator_value}"))
        elif err.validator == "type":
            found.append((path, f"is {err.instance!r}; expected a {err.validator_value}"))
        else:
            found.append((path, f"is {err.instance!r}: {err.message}"))
    return found


def _walk_custom(
    raw: Any, schema: dict[str, Any], path: list[str | int]
) -> list[tuple[list[str | int], str]]:
    """Apply the x-cidr and x-email markers of SCHEMA to the values that passed type checks."""
    found: list[tuple[list[str | int], str]] = []
    if schema.get("x-cidr") and isinstance(raw, str):
        try:
            net = ipaddress.ip_network(raw, strict=True)
            if not isinstance(net, ipaddress.IPv4Network) or not net.is_private:
                found.append(
                    (path, f"is {raw!r}; expected a private IPv4 range (RFC 1918), e.g. 10.20.0.0/16")
                )
        except ValueError as exc:
            found.append((path, f"is {raw!r}, not a valid CIDR ({exc}); expected e.g. 10.20.0.0/16"))
    if schema.get("x-email") and isinstance(raw, str) and not _EMAIL.match(raw):
        found.append((path, f"is {raw!r}; expected an e-mail address such as team@example.com"))
    if isinstance(raw, dict):
        for key, value in raw.items():
            sub = schema.get("properties", {}).get(key)
            if sub is None and isinstance(schema.get("additionalProperties"), dict):
                sub = schema["additionalProperties"]
            if sub:
                found += _walk_custom(value, sub, [*path, key])
    if isinstance(raw, list) and isinstance(schema.get("items"), dict):
        for i, value in enumerate(raw):
            found += _walk_custom(value, schema["items"], [*path, i])
    return found


def _network_errors(net: dict[str, Any]) -> list[tuple[list[str | int], str]]:
    def parse(value: Any) -> ipaddress.IPv4Network | None:
        try:
            parsed = ipaddress.ip_network(str(value), strict=True)
        except ValueError:
            return None
        return parsed if isinstance(parsed, ipaddress.IPv4Network) else None

    found: list[tuple[list[str | int], str]] = []
    vnet = parse(net.get("addressSpace"))
    subnets = {k: parse(net.get(k)) for k in ("privateEndpointSubnet", "trainingSubnet")}
    if vnet is None:
        return found
    for key, sub in subnets.items():
        if sub is not None and not sub.subnet_of(vnet):
            found.append(
                (["network", key], f"{sub} lies outside network.addressSpace {vnet}; pick a range inside it")
            )
        if sub is not None and sub.prefixlen > 28:
            found.append(
                (["network", key], f"{sub} is too small; Azure subnets for endpoints need at least /28")
            )
    pe, training = subnets["privateEndpointSubnet"], subnets["trainingSubnet"]
    if pe is not None and training is not None and pe.overlaps(training):
        found.append((["network", "trainingSubnet"], f"{training} overlaps privateEndpointSubnet {pe}"))
    for i, other in enumerate(net.get("reservedAddressSpaces") or []):
        reserved = parse(other)
        if reserved is not None and reserved.overlaps(vnet):
            found.append(
                (
                    ["network", "addressSpace"],
                    f"{vnet} overlaps reservedAddressSpaces[{i}] {reserved} (another stack or the hub); "
                    "peered networks need distinct ranges",
                )
            )
    return found


def _rule_errors(ws: dict[str, Any]) -> list[tuple[list[str | int], str]]:
    found: list[tuple[list[str | int], str]] = []
    for i, rule in enumerate(ws.get("outboundRules") or []):
        if not isinstance(rule, dict):
            continue
        needed = "fqdn" if rule.get("type") == "FQDN" else "serviceTag"
        if not rule.get(needed):
            found.append((["workspace", "outboundRules", i], f"a {rule.get('type')} rule needs '{needed}'"))
    if ws.get("outboundRules") and ws.get("isolationMode") != "AllowOnlyApprovedOutbound":
        found.append(
            (
                ["workspace", "outboundRules"],
                "outbound rules only apply with isolationMode AllowOnlyApprovedOutbound; remove them or change the mode",
            )
        )
    return found


def initiative_reference_ids() -> set[str]:
    """The policyDefinitionReferenceIds of policies/azure/initiative.json (what exemptions may name)."""
    doc = json.loads((PROJECT_ROOT / "policies" / "azure" / "initiative.json").read_text(encoding="utf-8"))
    return {str(d["policyDefinitionReferenceId"]) for d in doc["properties"]["policyDefinitions"]}


def _policy_errors(policy: dict[str, Any], location: str | None) -> list[tuple[list[str | int], str]]:
    import datetime as dt

    found: list[tuple[list[str | int], str]] = []
    if location and location not in policy["allowedLocations"]:
        found.append((["policy", "allowedLocations"], f"must include the stack's location {location}"))
    known = initiative_reference_ids()
    today = dt.date.today()
    for i, exemption in enumerate(policy.get("exemptions", [])):
        ref = exemption["policyReferenceId"]
        if ref not in known:
            found.append(
                (
                    ["policy", "exemptions", i, "policyReferenceId"],
                    f"{ref!r} is not in policies/azure/initiative.json",
                )
            )
        try:
            expires = dt.date.fromisoformat(exemption["expiresOn"])
        except ValueError:
            found.append((["policy", "exemptions", i, "expiresOn"], "is not a valid date"))
            continue
        if expires <= today:
            found.append(
                (["policy", "exemptions", i, "expiresOn"], "has passed; review the exemption or drop it")
            )
        elif expires > today + dt.timedelta(days=366):
            found.append(
                (
                    ["policy", "exemptions", i, "expiresOn"],
                    "is more than a year away; exemptions are re-reviewed yearly",
                )
            )
    return found


def with_defaults(value: Any, schema: dict[str, Any]) -> Any:
    """A copy of `value` with every missing optional setting set to its SCHEMA `default`."""
    if isinstance(value, dict):
        props: dict[str, Any] = schema.get("properties", {})
        filled = {k: with_defaults(v, props.get(k, {})) for k, v in value.items()}
        for key, sub in props.items():
            if key not in filled and "default" in sub:
                filled[key] = with_defaults(copy.deepcopy(sub["default"]), sub)
        return filled
    if isinstance(value, list) and isinstance(schema.get("items"), dict):
        return [with_defaults(v, schema["items"]) for v in value]
    return value


def _prod_errors(raw: dict[str, Any]) -> list[tuple[list[str | int], str]]:
    """What prod must be, whatever its stack file says."""
    if raw["environment"] != "prod":
        return []
    found: list[tuple[list[str | int], str]] = []
    if raw["publicNetworkAccess"] != "Disabled":
        found.append((["publicNetworkAccess"], "prod must be private; expected Disabled"))
    if raw["workspace"]["isolationMode"] != "AllowOnlyApprovedOutbound":
        found.append(
            (
                ["workspace", "isolationMode"],
                "prod requires AllowOnlyApprovedOutbound managed network isolation",
            )
        )
    if raw["policy"]["effect"] != "Deny":
        found.append((["policy", "effect"], "prod must enforce its policies; expected Deny"))
    return found


def _budget_errors(budget: Any) -> list[tuple[list[str | int], str]]:
    if not isinstance(budget, dict):
        return []
    count = len(budget.get("actualThresholds", [])) + len(budget.get("forecastThresholds", []))
    if count > 5:
        return [(["budget"], f"has {count} thresholds; an Azure budget allows at most 5 notifications")]
    return []


def _report(problems: list[tuple[list[str | int], str]], *, stack: str, source: Path | None) -> str:
    lines = []
    for path, message in problems:
        if path and path[0] == "azure-native:location":
            lines.append(
                f"{source.name if source else f'Pulumi.{stack}.yaml'}: azure-native:location {message}"
            )
        else:
            lines.append(f"{_where(source, stack, path)} {message}")
    return "\n".join(lines)


def validate(raw: dict[str, Any], *, stack: str, location: str | None, source: Path | None) -> PlatformConfig:
    """Check everything, report every problem at once, and return the typed configuration."""
    raw = with_defaults(raw, SCHEMA)
    problems = _schema_errors(raw)
    problems += _walk_custom(raw, SCHEMA, [])
    if not problems:
        problems += _network_errors(raw["network"])
        problems += _rule_errors(raw["workspace"])
        problems += _prod_errors(raw)
        problems += _policy_errors(raw["policy"], location)
    problems += _budget_errors(raw.get("budget"))
    if not location:
        problems.append(
            (["azure-native:location"], "is required; set it with `pulumi config set azure-native:location`")
        )
    if problems or location is None:
        raise ConfigError(_report(problems, stack=stack, source=source))
    return _typed(raw, stack=stack, location=location)


def _typed(raw: dict[str, Any], *, stack: str, location: str) -> PlatformConfig:
    """The validated, defaulted settings as dataclasses (every key is present: see with_defaults)."""
    net, ws, comp, bud, ci = raw["network"], raw["workspace"], raw["compute"], raw["budget"], raw["ci"]
    storage, policy = raw["storage"], raw["policy"]
    return PlatformConfig(
        stack=stack,
        location=location,
        environment=raw["environment"],
        project=raw["project"],
        owner=raw["owner"],
        cost_center=raw["costCenter"],
        name_suffix=raw["nameSuffix"],
        public_network_access=raw["publicNetworkAccess"],
        delete_locks=raw["deleteLocks"],
        log_retention_days=raw["logRetentionDays"],
        key_vault_soft_delete_days=raw["keyVaultSoftDeleteDays"],
        storage_sku=storage["sku"],
        storage_soft_delete_days=storage["softDeleteDays"],
        network=NetworkConfig(
            address_space=net["addressSpace"],
            private_endpoint_subnet=net["privateEndpointSubnet"],
            training_subnet=net["trainingSubnet"],
            reserved_address_spaces=tuple(net["reservedAddressSpaces"]),
            central_dns_zone_ids=dict(net["centralDnsZoneIds"]),
        ),
        workspace=WorkspaceConfig(
            isolation_mode=ws["isolationMode"],
            firewall_sku=ws["firewallSku"],
            hbi_workspace=ws["hbiWorkspace"],
            outbound_rules=tuple(
                OutboundRule(
                    name=r["name"],
                    type=r["type"],
                    destination=r.get("fqdn") or r["serviceTag"],
                    protocol=r["protocol"],
                    port_ranges=r["portRanges"],
                )
                for r in ws["outboundRules"]
            ),
        ),
        compute=ComputeConfig(
            vm_size=comp["vmSize"],
            max_nodes=comp["maxNodes"],
            idle_seconds_before_scale_down=comp["idleSecondsBeforeScaleDown"],
            low_priority=comp["lowPriority"],
        ),
        budget=BudgetConfig(
            amount=float(bud["amount"]),
            start_date=bud["startDate"],
            contact_emails=tuple(bud["contactEmails"]),
            actual_thresholds=tuple(float(t) for t in bud["actualThresholds"]),
            forecast_thresholds=tuple(float(t) for t in bud["forecastThresholds"]),
        ),
        policy=PolicyConfig(
            effect=policy["effect"],
            allowed_locations=tuple(policy["allowedLocations"]),
            exemptions=tuple(
                PolicyExemptionConfig(
                    policy_reference_id=e["policyReferenceId"],
                    category=e["category"],
                    reason=" ".join(e["reason"].split()),
                    expires_on=e["expiresOn"],
                )
                for e in policy["exemptions"]
            ),
        ),
        ci=CiConfig(github_repository=ci["githubRepository"], github_environment=ci["githubEnvironment"]),
    )


def _coerce(key: str, value: Any) -> Any:
    """Pulumi hands every top-level value over as a string; give it back the type the schema expects."""
    if not isinstance(value, str):
        return value
    expected = SCHEMA["properties"].get(key, {}).get("type")
    if expected in ("object", "array"):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    if expected == "boolean" and value in ("true", "false"):
        return value == "true"
    if expected == "integer" and re.fullmatch(r"-?[0-9]+", value):
        return int(value)
    return value


def raw_from_stack_config(config: dict[str, Any]) -> tuple[dict[str, Any], str | None]:
    """Split a flat `namespace:key -> value` map into our settings and the Azure location."""
    prefix = f"{NAMESPACE}:"
    raw = {k[len(prefix) :]: _coerce(k[len(prefix) :], v) for k, v in config.items() if k.startswith(prefix)}
    location = config.get("azure-native:location")
    return raw, str(location) if location is not None else None


def from_pulumi() -> PlatformConfig:
    """Read the running stack's configuration (under `pulumi up`, preview or the offline render)."""
    import pulumi
    from pulumi.runtime import config as runtime_config

    # Pulumi offers no public "all keys" API; the runtime map is needed to catch misspelt keys.
    flat: dict[str, Any] = {**runtime_config.get_config_env(), **runtime_config.CONFIG.get()}
    raw, location = raw_from_stack_config(flat)
    stack = pulumi.get_stack()
    return validate(raw, stack=stack, location=location, source=stack_file(stack))


def load_stack_file(path: Path) -> dict[str, Any]:
    """The `config:` map of a stack file, in the flat shape Pulumi passes to programs."""
    try:
        doc = safeload.load_yaml_file(path, name=path.name).data or {}
    except FileNotFoundError as exc:
        raise ConfigError(
            f"{path}: stack file not found; expected Pulumi.<stack>.yaml in the project root"
        ) from exc
    except safeload.LoadError as exc:
        # The same checks as every environment file (size, encoding, duplicate keys, aliases).
        raise ConfigError(str(exc)) from None
    config = doc.get("config") if isinstance(doc, dict) else None
    if not isinstance(config, dict):
        raise ConfigError(
            f"{path.name}: has no 'config:' mapping; see Pulumi.dev.yaml for the expected shape"
        )
    return config
