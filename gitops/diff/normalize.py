"""Comparable views of endpoints, deployments and monitors.

Both sides (YAML entities and what the service returns) are reduced to plain dicts in one
canonical form, so a converged environment compares equal: Azure lower-cases and zero-fills
traffic, turns ``azureml:name:1`` into ARM ids, PascalCases enums, fills defaults and adds
read-only fields. Only fields the YAML sets are compared (a field left out means "service
default"), except tags, which are compared whole.
"""

from __future__ import annotations

import re
from typing import Any

from gitops.model.tags import BOOKKEEPING_TAGS, is_rollout_tag, migrated

_ASSET_ID = re.compile(r"/(models|environments|codes|data)/([^/]+)/versions/([^/]+)$", re.IGNORECASE)
_AUTH = {
    "key": "key",
    "amltoken": "aml_token",
    "aml_token": "aml_token",
    "aadtoken": "aad_token",
    "aad_token": "aad_token",
}
# Compared as metadata of the apply, not as desired state.
IGNORED_TAGS = BOOKKEEPING_TAGS


def norm_ref(value: Any) -> Any:
    """``azureml:m:1``, ``m:1``, ``/subscriptions/…/models/m/versions/1`` all become ``m:1``."""
    if value is None:
        return None
    if not isinstance(value, str):
        name, version = getattr(value, "name", None), getattr(value, "version", None)
        if getattr(value, "path", None) or getattr(value, "image", None) or getattr(value, "build", None):
            return "<local>"
        return f"{name}:{version}" if name else "<inline>"
    s = value.strip()
    m = _ASSET_ID.search(s)
    if m and "/registries/" not in s:
        return f"{m.group(2)}:{m.group(3)}"
    if s.startswith("azureml:") and not s.startswith("azureml://"):
        s = s[len("azureml:") :]
    return s


def _lower(v: Any) -> Any:
    return v.lower() if isinstance(v, str) else v


def _enabled(v: Any) -> Any:
    if isinstance(v, bool):
        return v
    return str(v).lower() == "true" if v is not None else None


def user_tags(tags: dict[str, Any] | None) -> dict[str, str]:
    # Quirk of our own past: an earlier version's ownership pair (managed-by/environment) reads
    # as today's keys, so an upgrade alone updates nothing (gitops.model.tags.migrated).
    return {
        str(k): str(v)
        for k, v in migrated({str(k): str(v) for k, v in (tags or {}).items()}).items()
        if k not in IGNORED_TAGS and not is_rollout_tag(str(k))
    }


def _obj_fields(obj: Any, names: tuple[str, ...]) -> dict[str, Any] | None:
    if obj is None:
        return None
    out = {n: getattr(obj, n, None) for n in names}
    return {k: v for k, v in out.items() if v is not None} or None


def endpoint_view(entity: Any) -> dict[str, Any]:
    identity = getattr(entity, "identity", None)
    view = {
        "auth_mode": _AUTH.get(str(entity.auth_mode).lower().replace("-", "_")) if entity.auth_mode else None,
        "description": entity.description,
        "public_network_access": _lower(getattr(entity, "public_network_access", None)),
        "identity": _lower(getattr(identity, "type", None)) if identity is not None else None,
        "tags": user_tags(entity.tags),
    }
    return view


def deployment_view(entity: Any) -> dict[str, Any]:
    code_cfg = getattr(entity, "code_configuration", None)
    code = None
    if code_cfg is not None:
        code = {
            "code": norm_ref(code_cfg.code)
            if isinstance(code_cfg.code, str) and _is_ref(code_cfg.code)
            else "<local>",
            "scoring_script": code_cfg.scoring_script,
        }
    dc = getattr(entity, "data_collector", None)
    collector = None
    if dc is not None:
        collector = {
            "collections": {
                k: _enabled(getattr(c, "enabled", None)) for k, c in (dc.collections or {}).items()
            },
            "sampling_rate": dc.sampling_rate,
        }
        collector = {k: v for k, v in collector.items() if v is not None}
    return {
        "description": entity.description,
        "model": norm_ref(entity.model),
        "environment": norm_ref(entity.environment),
        "code_configuration": code,
        "instance_type": _lower(entity.instance_type),
        "instance_count": entity.instance_count,
        "app_insights_enabled": entity.app_insights_enabled,
        "egress_public_network_access": _lower(getattr(entity, "egress_public_network_access", None)),
        "environment_variables": dict(entity.environment_variables) if entity.environment_variables else None,
        "request_settings": _obj_fields(
            entity.request_settings,
            ("request_timeout_ms", "max_concurrent_requests_per_instance", "max_queue_wait_ms"),
        ),
        "liveness_probe": _obj_fields(
            entity.liveness_probe,
            ("failure_threshold", "success_threshold", "timeout", "period", "initial_delay"),
        ),
        "readiness_probe": _obj_fields(
            entity.readiness_probe,
            ("failure_threshold", "success_threshold", "timeout", "period", "initial_delay"),
        ),
        "data_collector": collector,
        "tags": user_tags(entity.tags),
    }


def _is_ref(s: str) -> bool:
    return s.startswith("azureml:") or s.startswith("/subscriptions/") or bool(_ASSET_ID.search(s))


def monitor_view(entity: Any) -> dict[str, Any]:
    trig = entity.trigger
    trigger = None
    if trig is not None:
        trigger = {
            "type": _lower(getattr(trig, "type", None)),
            "frequency": _lower(getattr(trig, "frequency", None)),
            "interval": getattr(trig, "interval", None),
            "expression": getattr(trig, "expression", None),
        }
        trigger = {k: v for k, v in trigger.items() if v is not None}
    cm = entity.create_monitor
    target = getattr(cm, "monitoring_target", None)
    ref = getattr(target, "endpoint_deployment_id", None)
    m = re.search(r"onlineEndpoints/([^/]+)/deployments/([^/]+)", str(ref or ""), re.IGNORECASE)
    if m:
        ref = f"{m.group(1)}:{m.group(2)}"
    elif isinstance(ref, str) and ref.startswith("azureml:"):
        ref = ref[len("azureml:") :]
    compute = getattr(cm, "compute", None)
    return {
        "description": entity.description,
        "trigger": trigger,
        "target": ref,
        "ml_task": _lower(getattr(target, "ml_task", None)),
        "compute": _obj_fields(compute, ("instance_type", "runtime_version")),
        "signals": _signals_view(entity),
        "tags": user_tags(entity.tags),
    }


# What a reviewer needs to see change in a signal; reference data paths are compared through the
# spec hash because the service rewrites them into asset IDs.
_SIGNAL_FIELDS = ("type", "metric_thresholds", "alert_enabled", "features")


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return value


def _signals_view(entity: Any) -> dict[str, Any] | None:
    if not getattr(entity.create_monitor, "monitoring_signals", None):
        return None
    signals = entity._to_dict().get("create_monitor", {}).get("monitoring_signals") or {}
    return {
        str(name): {k: _plain(spec[k]) for k in _SIGNAL_FIELDS if spec.get(k) is not None}
        for name, spec in signals.items()
    }


def diff_views(
    desired: dict[str, Any], actual: dict[str, Any], prefix: str = ""
) -> list[tuple[str, Any, Any]]:
    """(field, actual, desired) for every field the desired side sets and the actual side differs on."""
    out: list[tuple[str, Any, Any]] = []
    for key, want in desired.items():
        if want is None or want == "<local>":
            # "<local>": uploaded from the repo; the service only knows the anonymous asset it
            # became, so these are compared through the mlops-spec-hash tag instead.
            continue
        have = actual.get(key)
        path = f"{prefix}{key}"
        if isinstance(want, dict) and isinstance(have, dict) and key not in ("tags", "environment_variables"):
            out.extend(diff_views(want, have, prefix=f"{path}."))
            continue
        if (
            key == "instance_type"
            and isinstance(want, str)
            and isinstance(have, str)
            and want.lower() == have.lower()
        ):
            continue
        if want != have:
            out.append((path, have, want))
    return out
