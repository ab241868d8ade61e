"""What one parsed YAML file is, judged by its content rather than by where it sits.

Users bring Azure ML CLI v2 YAML laid out as in Azure/azureml-examples (``endpoint.yml`` beside
``blue-deployment.yml``, a conda ``env.yml`` in the same folder, jobs and components next to
them). Discovery must tell those apart without a fixed layout: the ``$schema`` URL first (every
official file names one), then the shape of the document, and last the folder it is in (today's
``endpoints/<ep>/deployments/`` and ``monitors/`` say what the user meant a shapeless file to be).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from gitops.errors import Diagnostic
from gitops.yamlmarks import YamlDoc


class Kind(StrEnum):
    ENDPOINT = "endpoint"
    DEPLOYMENT = "deployment"
    MONITOR = "monitor"
    MODEL = "model"
    ENVIRONMENT = "environment"  # an Azure ML environment asset, not an environment.yaml manifest
    ROLLOUT = "rollout"  # ours: a rollout strategy
    MONITOR_ACTIONS = "monitor-actions"  # ours: read by `mlops monitor`, not by plan
    NOT_MANAGED = "not-managed"  # Azure ML, but a kind this tool does not reconcile
    IGNORED = "ignored"  # not an Azure ML resource (conda files, MLmodel, anything else)
    REFUSED = "refused"  # meant to be deployed, but in a form this tool cannot take


# Where the file sits, in today's layout: what a file with no recognisable content was meant to be.
class Hint(StrEnum):
    NONE = ""
    ENDPOINT = "endpoint"
    DEPLOYMENT = "deployment"
    MONITOR = "monitor"
    ROLLOUT = "rollout"
    MONITOR_ACTIONS = "monitor-actions"


@dataclass(frozen=True)
class Classified:
    kind: Kind
    why: str  # one line for `validate -v`: what it is, or why it is skipped
    diagnostics: tuple[Diagnostic, ...] = ()  # set for REFUSED


# The last segment of the official schema URLs, lower-cased and without ``.schema.json`` / ``.json``:
# https://azuremlschemas.azureedge.net/latest/<name>.schema.json and http://azureml/sdk-2-0/<Name>.json
# (as used throughout Azure/azureml-examples; the SDK's own list is azure/ai/ml/constants/_common.py).
_SCHEMA_KINDS: dict[str, Kind] = {
    "managedonlineendpoint": Kind.ENDPOINT,
    "managedonlinedeployment": Kind.DEPLOYMENT,
    "model": Kind.MODEL,
    "environment": Kind.ENVIRONMENT,
    "rollout": Kind.ROLLOUT,
    "actions": Kind.MONITOR_ACTIONS,
}
_NOT_MANAGED_SCHEMAS: dict[str, str] = {
    "kubernetesonlineendpoint": "Kubernetes online endpoint",
    "kubernetesonlinedeployment": "Kubernetes online deployment",
    "batchendpoint": "batch endpoint",
    "batchdeployment": "batch deployment",
    "modelbatchdeployment": "batch deployment",
    "pipelinecomponentbatchdeployment": "batch deployment",
    "commandjob": "command job",
    "pipelinejob": "pipeline job",
    "sweepjob": "sweep job",
    "sparkjob": "Spark job",
    "automljob": "AutoML job",
    "commandcomponent": "component",
    "pipelinecomponent": "component",
    "sparkcomponent": "component",
    "amlcompute": "compute",
    "computeinstance": "compute",
    "vmcompute": "compute",
    "kubernetescompute": "compute",
    "data": "data asset",
    "workspace": "workspace",
    "connection": "connection",
}
# Hosts of the official schemas; an unknown name there is still an Azure ML resource.
_AZUREML_SCHEMA = re.compile(r"azuremlschemas|azuremlsdk2|//azureml/", re.IGNORECASE)
_PLACEHOLDER = re.compile(r"<[A-Za-z_][A-Za-z0-9_ -]*>")
_JOB_TYPES = {"command", "pipeline", "sweep", "spark", "automl", "parallel"}
_COMPUTE_TYPES = {"amlcompute", "computeinstance", "virtualmachine", "kubernetes", "synapsespark"}
_MODEL_TYPES = {"custom_model", "mlflow_model", "triton_model"}
_DATA_TYPES = {"uri_file", "uri_folder", "mltable"}
_DEPLOYMENT_KEYS = {
    "instance_type",
    "instance_count",
    "code_configuration",
    "scale_settings",
    "liveness_probe",
}
_ENDPOINT_KEYS = {"auth_mode", "traffic", "mirror_traffic", "public_network_access"}
_BATCH_KEYS = {"mini_batch_size", "output_action", "retry_settings", "max_concurrency_per_instance"}

LEGACY_DIALECT = (
    "this is the 2021 preview CLI dialect (`type: online` endpoint with inline `deployments:`); "
    "today's Azure ML CLI v2 form is one endpoint file ($schema managedOnlineEndpoint.schema.json: "
    "name, auth_mode, optional traffic) and one file per deployment (managedOnlineDeployment.schema.json "
    "with endpoint_name), with `path:` where it had `local_path:`"
)


def schema_name(doc: YamlDoc) -> str | None:
    """The ``$schema`` URL's last segment, normalised (None without a string ``$schema``)."""
    url = doc.data.get("$schema")
    if not isinstance(url, str) or not url.strip():
        return None
    last = url.strip().rstrip("/").rsplit("/", 1)[-1].lower()
    return last.removesuffix(".json").removesuffix(".schema")


def classify(doc: YamlDoc, hint: Hint = Hint.NONE) -> Classified:
    """What ``doc`` is: by ``$schema``, else by shape, else by where it sits (``hint``)."""
    if not isinstance(doc.data, dict):
        if hint is not Hint.NONE:  # today's layout: the loader reports "expected a YAML mapping"
            return Classified(Kind(hint.value), f"{hint.value} by its folder")
        return Classified(Kind.IGNORED, "not a YAML mapping")
    legacy = _legacy(doc)
    if legacy:
        return Classified(Kind.REFUSED, "2021 preview CLI dialect", tuple(legacy))
    by_schema = _by_schema(doc)
    found = by_schema if by_schema is not None else _by_shape(doc.data)
    if hint is not Hint.NONE and (found.kind is Kind.IGNORED and not _not_azureml(doc.data)):
        return Classified(Kind(hint.value), f"{hint.value} by its folder")
    if hint in (Hint.ENDPOINT, Hint.DEPLOYMENT) and "Kubernetes online" in found.why:
        # Today's layout: loaded as what the folder says, so the managed-only rule explains the refusal.
        return Classified(Kind(hint.value), f"{hint.value} by its folder ({found.why})")
    return found


def _by_schema(doc: YamlDoc) -> Classified | None:
    name = schema_name(doc)
    if name is None:
        return None
    url = str(doc.data["$schema"]).strip()
    if name == "schedule":
        monitor = "create_monitor" in doc.data
        return Classified(
            Kind.MONITOR if monitor else Kind.NOT_MANAGED,
            "monitor schedule ($schema)" if monitor else "job schedule: not managed by this tool",
        )
    if name in _SCHEMA_KINDS:
        kind = _SCHEMA_KINDS[name]
        return Classified(kind, f"{kind.value} ($schema)")
    if name in _NOT_MANAGED_SCHEMAS:
        return Classified(Kind.NOT_MANAGED, f"{_NOT_MANAGED_SCHEMAS[name]}: not managed by this tool")
    if _AZUREML_SCHEMA.search(url):
        return Classified(Kind.NOT_MANAGED, f"Azure ML {name}: not managed by this tool")
    return Classified(Kind.IGNORED, f"$schema {url} is not an Azure ML schema")


def _not_azureml(data: dict[str, Any]) -> bool:
    """Files that are certainly not Azure ML resources, wherever they sit (conda, MLflow)."""
    return "dependencies" in data or "flavors" in data


def _by_shape(data: dict[str, Any]) -> Classified:
    if "dependencies" in data and "create_monitor" not in data:
        return Classified(Kind.IGNORED, "conda environment file (not an Azure ML resource)")
    if "flavors" in data:
        return Classified(Kind.IGNORED, "MLflow model metadata (not an Azure ML resource)")
    if "create_monitor" in data:
        return Classified(Kind.MONITOR, "monitor schedule (create_monitor)")
    for test in (_our_shape, _job_shape, _online_shape, _asset_shape):
        found = test(data)
        if found is not None:
            return found
    return Classified(Kind.IGNORED, "no $schema and no Azure ML shape")


def _our_shape(data: dict[str, Any]) -> Classified | None:
    if isinstance(data.get("actions"), list):
        return Classified(Kind.MONITOR_ACTIONS, "monitor actions (read by `mlops monitor`)")
    if isinstance(data.get("steps"), list) or {"analysis", "smoke_test"} & data.keys():
        return Classified(Kind.ROLLOUT, "rollout strategy")
    return None


def _job_shape(data: dict[str, Any]) -> Classified | None:
    kind = str(data.get("type", "")).lower()
    if "create_job" in data:
        return Classified(Kind.NOT_MANAGED, "job schedule: not managed by this tool")
    if isinstance(data.get("jobs"), dict) or (kind in _JOB_TYPES and "endpoint_name" not in data):
        return Classified(Kind.NOT_MANAGED, "job or component: not managed by this tool")
    if isinstance(data.get("command"), str):
        return Classified(Kind.NOT_MANAGED, "job or component: not managed by this tool")
    if kind in _COMPUTE_TYPES and not (_ENDPOINT_KEYS | _DEPLOYMENT_KEYS) & data.keys():
        return Classified(Kind.NOT_MANAGED, "compute: not managed by this tool")
    return None


def _online_shape(data: dict[str, Any]) -> Classified | None:
    keys = data.keys()
    batch_type = str(data.get("type", "")).lower() in {"model", "pipeline_component"}
    if (
        _BATCH_KEYS & keys
        or "defaults" in keys
        or batch_type
        or ("compute" in keys and "endpoint_name" in keys)
    ):
        endpoint = "defaults" in keys and not (batch_type or _BATCH_KEYS & keys)
        what = "batch endpoint" if endpoint else "batch deployment"
        return Classified(Kind.NOT_MANAGED, f"{what}: not managed by this tool")
    deployment_like = "endpoint_name" in keys or _DEPLOYMENT_KEYS & keys
    if deployment_like:
        if str(data.get("type", "managed")).lower() == "kubernetes":
            return Classified(Kind.NOT_MANAGED, "Kubernetes online deployment: not managed by this tool")
        return Classified(Kind.DEPLOYMENT, "deployment (its keys)")
    if _ENDPOINT_KEYS & keys:
        if data.get("compute") or str(data.get("kind", "")).lower() == "kubernetes":
            return Classified(Kind.NOT_MANAGED, "Kubernetes online endpoint: not managed by this tool")
        return Classified(Kind.ENDPOINT, "endpoint (its keys)")
    return None


def _asset_shape(data: dict[str, Any]) -> Classified | None:
    kind = str(data.get("type", "")).lower()
    if "name" not in data:
        return None
    if kind in _DATA_TYPES:
        return Classified(Kind.NOT_MANAGED, "data asset: not managed by this tool")
    if "path" in data and (kind in _MODEL_TYPES or "version" in data or not kind):
        return Classified(Kind.MODEL, "model asset (name, path)")
    if {"image", "build", "conda_file"} & data.keys():
        return Classified(Kind.ENVIRONMENT, "environment asset (image / build / conda_file)")
    return None


def _legacy(doc: YamlDoc) -> list[Diagnostic]:
    """The 2021 preview dialect, named with today's form (the SDK would only say "Unknown field")."""
    data = doc.data
    if str(data.get("type", "")).lower() == "online" or isinstance(data.get("deployments"), list):
        key = "type" if "type" in data else "deployments"
        return [doc.diag(LEGACY_DIALECT, key)]
    where = _find_key(data, "local_path", ())
    if where is not None:
        return [
            doc.diag(
                "`local_path` is the 2021 preview CLI spelling; today's Azure ML CLI v2 YAML says `path:`",
                *where,
            )
        ]
    return []


def _find_key(value: Any, key: str, at: tuple[str | int, ...]) -> tuple[str | int, ...] | None:
    if isinstance(value, dict):
        for k, v in value.items():
            if k == key:
                return (*at, k)
            found = _find_key(v, key, (*at, str(k)))
            if found is not None:
                return found
    elif isinstance(value, list):
        for i, v in enumerate(value):
            found = _find_key(v, key, (*at, i))
            if found is not None:
                return found
    return None


def placeholder(doc: YamlDoc, key: str) -> list[Diagnostic]:
    """``<ENDPOINT_NAME>``-style values: the file is a template that was never filled in."""
    value = doc.data.get(key) if isinstance(doc.data, dict) else None
    if isinstance(value, str) and _PLACEHOLDER.search(value):
        return [
            doc.diag(
                f"`{key}: {value}` looks like a template placeholder; put the real value in the file "
                "(this tool applies files as committed, it does not substitute variables)",
                key,
            )
        ]
    return []


def hint_for(path: Path, env_dir: Path) -> Hint:
    """What today's layout says a file at ``path`` is (``endpoints/<ep>/endpoint.yml``,
    ``endpoints/<ep>/deployments/*.yml``, ``monitors/*.yml``, ``monitor-actions/*.yml``,
    ``rollout.yml``)."""
    parts = path.relative_to(env_dir).parts
    if path.name in ("rollout.yml", "rollout.yaml"):
        return Hint.ROLLOUT
    if len(parts) == 3 and parts[0] == "endpoints" and path.name in ("endpoint.yml", "endpoint.yaml"):
        return Hint.ENDPOINT
    if len(parts) == 4 and parts[0] == "endpoints" and parts[2] == "deployments":
        return Hint.DEPLOYMENT
    if len(parts) == 2 and parts[0] == "monitors":
        return Hint.MONITOR
    if len(parts) == 2 and parts[0] == "monitor-actions":
        return Hint.MONITOR_ACTIONS
    return Hint.NONE
