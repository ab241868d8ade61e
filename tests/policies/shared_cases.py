"""The fixtures both policy gates judge: environment-variable sets, references, monitor/deployment
pairs and prod endpoints, written as one environments/ tree, with the verdict each must get.

Written at test time (never committed as files): some values are credential-shaped on purpose,
and the repository's own `mlops scan` secrets pass must not find them in git.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

ENDPOINT_SCHEMA = "https://azuremlschemas.azureedge.net/latest/managedOnlineEndpoint.schema.json"
DEPLOYMENT_SCHEMA = "https://azuremlschemas.azureedge.net/latest/managedOnlineDeployment.schema.json"
COLLECTING = {"collections": {"model_inputs": {"enabled": "true"}, "model_outputs": {"enabled": "true"}}}


@dataclass(frozen=True)
class Case:
    check: str  # the checkov check; validate's verdict comes from the same rule family
    file: str  # relative to the shared tree
    passes: bool


def _manifest(env: str) -> dict[str, Any]:
    # prod names no require_pinned_versions: both gates must fall back to "production pins".
    return {
        "target": "azureml",
        "subscription_id": "00000000-0000-0000-0000-000000000000",
        "resource_group": f"rg-shared-{env}",
        "workspace": f"mlw-shared-{env}",
    }


def _deployment(endpoint: str, name: str, **fields: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "$schema": DEPLOYMENT_SCHEMA,
        "name": name,
        "endpoint_name": endpoint,
        "model": "azureml:shared-model:3",
        "environment": "azureml:sklearn-inference:12",
        "instance_type": "Standard_DS3_v2",
        "instance_count": 2,
        "egress_public_network_access": "disabled",
        "app_insights_enabled": True,
    }
    doc.update(fields)
    return {k: v for k, v in doc.items() if v is not None}


def _monitor(name: str, target: str) -> dict[str, Any]:
    return {
        "$schema": "http://azureml/sdk-2-0/Schedule.json",
        "name": name,
        "trigger": {"type": "recurrence", "frequency": "day", "interval": 1},
        "create_monitor": {
            "compute": {"instance_type": "standard_e4s_v3", "runtime_version": "3.4"},
            "monitoring_target": {"ml_task": "classification", "endpoint_deployment_id": target},
        },
    }


# Built from parts so that no credential-shaped literal sits in this file.
_ACCOUNT_KEY = "Account" + "Key="
VARIABLE_SETS: dict[str, tuple[dict[str, str], bool]] = {
    # name -> (environment_variables, passes)
    "signing": ({"SIGNING_KEY": "k-" + "0c1d2e3f"}, False),
    "kansas": ({"KANSAS_REGION": "central"}, True),
    "password": ({"DB_PASSWORD": "not-" + "a-real-one"}, False),
    "keyvault-ref": ({"DB_PASSWORD": "db-password@https://kv-shared-dev.vault.azure.net"}, True),
    "keyvault-uri": ({"DB_PASSWORD": "https://kv-shared-dev.vault.azure.net/secrets/db-password"}, True),
    "empty": ({"API_KEY": ""}, True),
    "connection-string": ({"STORAGE": "AccountName=x;" + _ACCOUNT_KEY + "placeholder"}, False),
    "tokenizer": ({"TOKENIZER_PATH": "/models/tokenizer", "MAX_TOKENS": "512"}, True),
    "sas-word": ({"MY_SAS": "sv-" + "2024"}, False),
}
# prod deployments under the private endpoint: name -> (extra fields, pinned)
PINNING: dict[str, tuple[dict[str, Any], bool]] = {
    "blue": ({"data_collector": COLLECTING}, True),
    "label": ({"model": "azureml:shared-model@latest"}, False),
    "latest": ({"environment": "azureml:sklearn-inference:latest"}, False),
    "bare": ({"model": "azureml:shared-model"}, False),
    "registry": ({"model": "azureml://registries/azureml/models/shared-model/versions/3"}, True),
    # the gaps of issue 14: a registry label, an environment @latest, an unversioned local folder
    "registry-label": ({"model": "azureml://registries/azureml/models/shared-model/labels/latest"}, False),
    "env-latest": ({"environment": "azureml:sklearn-inference@latest"}, False),
    "local-model": ({"model": {"path": "../model"}}, False),
    "local-model-versioned": ({"model": {"name": "shared-local", "version": "2", "path": "../model"}}, True),
    "image": (
        {"environment": {"image": "mcr.microsoft.com/azureml/minimal-ubuntu22.04-py39-cpu-inference"}},
        False,
    ),
    "image-tag": (
        {
            "environment": {
                "image": "mcr.microsoft.com/azureml/minimal-ubuntu22.04-py39-cpu-inference:20240908.v1"
            }
        },
        True,
    ),
}
ENDPOINTS: dict[str, tuple[dict[str, Any], bool]] = {
    # prod endpoint name -> (fields, private)
    "private": ({"auth_mode": "aad_token", "public_network_access": "disabled"}, True),
    "aml-token": ({"auth_mode": "aml_token", "public_network_access": "disabled"}, True),
    "public": ({"auth_mode": "aad_token", "public_network_access": "enabled"}, False),
    "key-auth": ({"auth_mode": "key", "public_network_access": "disabled"}, False),
    "unset": ({"auth_mode": "aad_token"}, False),
}
MONITORS: dict[str, tuple[str, bool]] = {
    # prod monitor -> (target, passes)
    "collects": ("azureml:private:blue", True),
    "collects-nothing": ("azureml:private:label", False),
    "undeclared-endpoint": ("azureml:nowhere:blue", False),
    "undeclared-deployment": ("azureml:private:red", False),
}


def _write(path: Path, doc: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")


def _write_endpoint(env_dir: Path, name: str, fields: dict[str, Any], deployments: dict[str, Any]) -> None:
    folder = env_dir / "endpoints" / name
    first = next(iter(deployments))
    _write(
        folder / "endpoint.yml", {"$schema": ENDPOINT_SCHEMA, "name": name, **fields, "traffic": {first: 100}}
    )
    for dep_name, doc in deployments.items():
        _write(folder / "deployments" / f"{dep_name}.yml", doc)


def write_tree(root: Path) -> list[Case]:
    """Write the shared tree under root (root/environments/{dev,prod}); return the expected verdicts."""
    cases: list[Case] = []
    dev, prod = root / "environments" / "dev", root / "environments" / "prod"
    for env_dir in (dev, prod):
        _write(env_dir / "environment.yaml", _manifest(env_dir.name))
    for name, (variables, passes) in VARIABLE_SETS.items():
        _write_endpoint(
            dev,
            name,
            {"auth_mode": "key"},
            {"main": _deployment(name, "main", environment_variables=variables)},
        )
        cases.append(Case("CKV_MLP_106", f"environments/dev/endpoints/{name}/deployments/main.yml", passes))
    private = {dep: _deployment("private", dep, **fields) for dep, (fields, _) in PINNING.items()}
    private["egress"] = _deployment("private", "egress", egress_public_network_access="enabled")
    # the folder the inline models name (../model from the deployments folder)
    (prod / "endpoints" / "private" / "model").mkdir(parents=True, exist_ok=True)
    (prod / "endpoints" / "private" / "model" / "model.pkl").write_bytes(b"weights")
    for name, (fields, is_private) in ENDPOINTS.items():
        deployments = private if name == "private" else {"main": _deployment(name, "main")}
        _write_endpoint(prod, name, fields, deployments)
        cases.append(Case("CKV_MLP_101", f"environments/prod/endpoints/{name}/endpoint.yml", is_private))
    for dep, (_, pinned) in PINNING.items():
        cases.append(
            Case("CKV_MLP_105", f"environments/prod/endpoints/private/deployments/{dep}.yml", pinned)
        )
    cases.append(Case("CKV_MLP_102", "environments/prod/endpoints/private/deployments/egress.yml", False))
    cases.append(Case("CKV_MLP_102", "environments/prod/endpoints/private/deployments/blue.yml", True))
    for name, (target, passes) in MONITORS.items():
        _write(prod / "monitors" / f"{name}.yml", _monitor(name, target))
        cases.append(Case("CKV_MLP_107", f"environments/prod/monitors/{name}.yml", passes))
    return cases
