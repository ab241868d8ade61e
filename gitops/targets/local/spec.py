"""Turn azure-ai-ml entities (ManagedOnlineEndpoint / ManagedOnlineDeployment) into what runs locally.

The entities are read by attribute only, so this module never imports azure-ai-ml (a 3-7 s import
on small machines) and the router processes stay light. Every field that has no local meaning is
listed in ``not_applicable`` so the caller can show it instead of dropping it silently.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from gitops.targets.local.errors import LocalTargetError
from gitops.targets.local.registry import ModelRegistry
from gitops.targets.local.secrets import LocalSecrets

# Azure's documented probe defaults for managed online deployments (seconds / counts).
PROBE_DEFAULTS = {
    "initial_delay": 10,
    "period": 10,
    "timeout": 2,
    "success_threshold": 1,
    "failure_threshold": 30,
}
# Azure's default request_settings.request_timeout_ms.
DEFAULT_REQUEST_TIMEOUT_MS = 5000
SUPPORTED_AUTH_MODES = ("key", "aml_token")
DATA_COLLECTIONS = ("model_inputs", "model_outputs", "request", "response")


@dataclass(frozen=True)
class Probe:
    initial_delay: float
    period: float
    timeout: float
    success_threshold: int
    failure_threshold: int

    @property
    def budget_seconds(self) -> float:
        """How long Azure would keep probing before declaring the deployment failed."""
        return self.initial_delay + self.period * self.failure_threshold


@dataclass(frozen=True)
class EndpointSpec:
    name: str
    auth_mode: str
    description: str = ""
    tags: dict[str, str] = field(default_factory=dict)
    traffic: dict[str, int] = field(default_factory=dict)
    mirror_traffic: dict[str, int] = field(default_factory=dict)
    not_applicable: list[str] = field(default_factory=list)
    source: dict[str, Any] | None = None

    def settings_hash(self) -> str:
        """Hash of what the router depends on apart from traffic (traffic is applied separately)."""
        return _digest({"name": self.name, "auth_mode": self.auth_mode})

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class DataCollection:
    collections: list[str]
    sampling_rate: float
    rolling_rate: str


@dataclass(frozen=True)
class DeploymentSpec:
    endpoint: str
    name: str
    entry_script: str
    code_dir: str
    model_ref: str | None
    model_path: str | None
    instance_count: int
    environment_variables: dict[str, str]
    request_timeout_ms: int
    max_concurrent_requests_per_instance: int | None
    readiness: Probe
    liveness: Probe
    data_collection: DataCollection | None
    content_digest: str
    not_applicable: list[str] = field(default_factory=list)
    tags: dict[str, str] = field(default_factory=dict)
    # The entity as azure-ai-ml serialises it, so a target can hand back what it was given.
    source: dict[str, Any] | None = None

    def spec_hash(self) -> str:
        data = asdict(self)
        # Metadata must not make a re-apply restart the deployment (tags carry the git revision).
        for key in ("not_applicable", "tags", "source"):
            data.pop(key)
        return _digest(data)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def _digest(data: Any) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()[:16]


def endpoint_spec(endpoint: Any) -> EndpointSpec:
    name = _required(endpoint, "name", "endpoint")
    auth_mode = str(getattr(endpoint, "auth_mode", None) or "key").lower()
    if auth_mode not in SUPPORTED_AUTH_MODES:
        raise LocalTargetError(
            f"endpoint {name}: auth_mode {auth_mode!r} is not supported by the local target "
            f"(supported: {', '.join(SUPPORTED_AUTH_MODES)}); Entra ID tokens cannot be verified offline"
        )
    na: list[str] = []
    for attr, why in (
        ("public_network_access", "the local router listens on 127.0.0.1 only"),
        ("identity", "no managed identity exists locally"),
        ("compute", "no Kubernetes compute locally"),
        ("kind", "only managed online endpoints are emulated"),
    ):
        value = getattr(endpoint, attr, None)
        if value not in (None, "", {}, []):
            na.append(f"endpoint {name}: {attr}={_short(value)} is not applicable locally ({why})")
    return EndpointSpec(
        name=name,
        auth_mode=auth_mode,
        description=str(getattr(endpoint, "description", None) or ""),
        tags=dict(getattr(endpoint, "tags", None) or {}),
        traffic={k: int(v) for k, v in (getattr(endpoint, "traffic", None) or {}).items()},
        mirror_traffic={k: int(v) for k, v in (getattr(endpoint, "mirror_traffic", None) or {}).items()},
        not_applicable=na,
        source=_source(endpoint),
    )


def _source(entity: Any) -> dict[str, Any] | None:
    to_dict = getattr(entity, "_to_dict", None)
    if not callable(to_dict):
        return None
    result: dict[str, Any] = without_nulls(json.loads(json.dumps(to_dict(), default=str)))
    return result


def without_nulls(data: Any) -> Any:
    """``data`` without its null values, at every depth.

    ``_to_dict()`` writes the fields Azure fills in (an identity's ``principal_id`` and
    ``client_id``, ``scoring_uri``, ``provisioning_state``) as null when the entity came from YAML,
    and the same schema's ``_load`` refuses those nulls ("Field may not be null."), so a record
    stored with them could not be read back. A null means "not set" in these schemas: dropping it
    loses nothing.
    """
    if isinstance(data, dict):
        return {k: without_nulls(v) for k, v in data.items() if v is not None}
    if isinstance(data, list):
        return [without_nulls(v) for v in data if v is not None]
    return data


def deployment_spec(
    deployment: Any, registry: ModelRegistry | None, secrets: LocalSecrets | None = None
) -> DeploymentSpec:
    name = _required(deployment, "name", "deployment")
    endpoint = _required(deployment, "endpoint_name", f"deployment {name}")
    where = f"deployment {endpoint}/{name}"
    base = Path(str(getattr(deployment, "base_path", None) or ".")).resolve()

    cc = getattr(deployment, "code_configuration", None)
    if cc is None or not getattr(cc, "scoring_script", None):
        raise LocalTargetError(
            f"{where}: code_configuration with a scoring_script is required locally (no-code MLflow "
            "deployments need an Azure-generated scoring script and are not supported by the local target)"
        )
    code = getattr(cc, "code", None)
    if code is None:
        raise LocalTargetError(f"{where}: code_configuration.code is missing")
    if not isinstance(code, str | os.PathLike):
        raise LocalTargetError(f"{where}: code_configuration.code must be a local folder, got {_short(code)}")
    code_dir = (base / str(code)).resolve()
    if str(code).startswith("azureml:"):
        raise LocalTargetError(f"{where}: registered code assets ({code}) are not supported locally")
    entry = (code_dir / str(cc.scoring_script)).resolve()
    if not entry.is_file():
        raise LocalTargetError(f"{where}: scoring script {entry} does not exist")

    model_ref, model_path = _resolve_model(getattr(deployment, "model", None), base, registry, where)

    instance_count = int(getattr(deployment, "instance_count", None) or 1)
    if instance_count < 1:
        raise LocalTargetError(f"{where}: instance_count must be at least 1")

    rs = getattr(deployment, "request_settings", None)
    timeout_ms = int(getattr(rs, "request_timeout_ms", None) or DEFAULT_REQUEST_TIMEOUT_MS)
    max_conc = getattr(rs, "max_concurrent_requests_per_instance", None)

    na: list[str] = []
    for attr, why in (
        ("instance_type", "each instance is a local worker process"),
        ("environment", "scoring runs in the platform's own Python environment"),
        ("egress_public_network_access", "local processes use this machine's network"),
        ("app_insights_enabled", "no Application Insights locally; logs go to the state directory"),
        ("scale_settings", "instance_count workers are started, no autoscale"),
        ("model_mount_path", "the model folder is passed as AZUREML_MODEL_DIR"),
        ("private_network_connection", "no private networking locally"),
    ):
        value = getattr(deployment, attr, None)
        if value not in (None, "", False, {}, []):
            na.append(f"{where}: {attr}={_short(value)} is not applicable locally ({why})")
    if getattr(rs, "max_queue_wait_ms", None):
        na.append(f"{where}: request_settings.max_queue_wait_ms is not applicable locally (no request queue)")
    if max_conc:
        na.append(
            f"{where}: request_settings.max_concurrent_requests_per_instance={max_conc} is not enforced "
            "locally (no 429 throttling)"
        )

    return DeploymentSpec(
        endpoint=endpoint,
        name=name,
        entry_script=str(entry),
        code_dir=str(code_dir),
        model_ref=model_ref,
        model_path=model_path,
        instance_count=instance_count,
        environment_variables=_environment_variables(deployment, where, secrets),
        request_timeout_ms=timeout_ms,
        max_concurrent_requests_per_instance=int(max_conc) if max_conc else None,
        readiness=_probe(getattr(deployment, "readiness_probe", None)),
        liveness=_probe(getattr(deployment, "liveness_probe", None)),
        data_collection=_data_collection(getattr(deployment, "data_collector", None), where, na),
        content_digest=_content_digest(code_dir, Path(model_path) if model_path else None),
        not_applicable=na,
        tags={str(k): str(v) for k, v in (getattr(deployment, "tags", None) or {}).items()},
        source=_source(deployment),
    )


def _environment_variables(deployment: Any, where: str, secrets: LocalSecrets | None) -> dict[str, str]:
    """As written (Key Vault references kept: the stored spec never holds a secret's value); with
    ``secrets``, a reference that has no local value fails here, before any process starts."""
    variables = {
        str(k): str(v) for k, v in (getattr(deployment, "environment_variables", None) or {}).items()
    }
    if secrets is not None:
        secrets.check(where, variables)
    return variables


def _required(obj: Any, attr: str, what: str) -> str:
    value = getattr(obj, attr, None)
    if not value:
        raise LocalTargetError(f"{what}: {attr} is required")
    return str(value)


def _short(value: Any) -> str:
    text = value if isinstance(value, str) else getattr(value, "name", None) or type(value).__name__
    text = str(text)
    return text if len(text) <= 60 else text[:57] + "..."


def _probe(p: Any) -> Probe:
    values: dict[str, Any] = dict(PROBE_DEFAULTS)
    if p is not None:
        for k in PROBE_DEFAULTS:
            v = getattr(p, k, None)
            if v is not None:
                values[k] = v
    return Probe(
        initial_delay=float(values["initial_delay"]),
        period=float(values["period"]),
        timeout=float(values["timeout"]),
        success_threshold=int(values["success_threshold"]),
        failure_threshold=int(values["failure_threshold"]),
    )


def _data_collection(dc: Any, where: str, na: list[str]) -> DataCollection | None:
    if dc is None:
        return None
    enabled: list[str] = []
    for cname, coll in (getattr(dc, "collections", None) or {}).items():
        if str(getattr(coll, "enabled", "false")).lower() != "true":
            continue
        if cname not in DATA_COLLECTIONS:
            # Custom collections are written by the scoring script's own collector in Azure.
            na.append(f"{where}: data_collector collection {cname!r} is not collected locally")
            continue
        enabled.append(cname)
    if getattr(dc, "request_logging", None) is not None:
        na.append(f"{where}: data_collector.request_logging is not applicable locally")
    if not enabled:
        return None
    rate = getattr(dc, "sampling_rate", None)
    return DataCollection(
        collections=sorted(enabled),
        sampling_rate=1.0 if rate is None else float(rate),
        rolling_rate=str(getattr(dc, "rolling_rate", None) or "hour"),
    )


def _resolve_model(
    model: Any, base: Path, registry: ModelRegistry | None, where: str
) -> tuple[str | None, str | None]:
    if model is None:
        return None, None
    if isinstance(model, str):
        ref = model.removeprefix("azureml:")
        if ref.startswith("/") or ref.startswith("//"):
            raise LocalTargetError(
                f"{where}: model {model}: ARM ids and registry URIs cannot be resolved locally"
            )
        if registry is None:
            raise LocalTargetError(
                f"{where}: model {model} is a registered model but the manifest names no local model "
                "registry (set local.model_registry in environment.yaml)"
            )
        resolved = registry.resolve(ref)
        return f"azureml:{resolved.name}:{resolved.version}", str(resolved.path)
    path = getattr(model, "path", None)
    if path is None:
        raise LocalTargetError(f"{where}: inline model without a path is not supported locally")
    p = Path(str(path))
    if str(path).startswith(("azureml:", "http:", "https:", "wasbs:", "abfss:")):
        raise LocalTargetError(f"{where}: model path {path} is remote; only local paths work locally")
    if not p.is_absolute():
        p = base / p
    if not p.exists():
        raise LocalTargetError(f"{where}: model path {p} does not exist")
    return None, str(p.resolve())


def _content_digest(code_dir: Path, model_path: Path | None) -> str:
    """Changes when the scoring code (by content) or the model files (by size and mtime) change."""
    h = hashlib.sha256()
    for f in sorted(code_dir.rglob("*")):
        if f.is_file() and "__pycache__" not in f.parts:
            h.update(str(f.relative_to(code_dir)).encode())
            h.update(f.read_bytes())
    if model_path is not None:
        files = (
            [model_path] if model_path.is_file() else sorted(x for x in model_path.rglob("*") if x.is_file())
        )
        for f in files:
            st = f.stat()
            h.update(f"{f}:{st.st_size}:{st.st_mtime_ns}".encode())
    return h.hexdigest()[:16]
