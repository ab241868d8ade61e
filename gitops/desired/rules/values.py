"""Values Azure refuses (or silently changes) that azure-ai-ml's schema lets through.

The SDK's marshmallow schema types ``instance_count`` and the request and probe settings as plain
integers: it accepts ``0`` and ``-1``, truncates ``2.5`` to ``2`` without a word, and checks no
range, so the mistake surfaces only when Azure answers the apply (or, for the truncation, never).
Each limit below is Azure's, quoted from Microsoft's reference for the managed online deployment
YAML (MicrosoftDocs/azure-ai-docs ``articles/machine-learning/reference-yaml-deployment-managed-online.md``)
and its quotas page (``articles/machine-learning/how-to-manage-quotas.md``); the messages say so.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gitops.errors import Diagnostic
from gitops.yamlmarks import YamlDoc

# reference-yaml-deployment-managed-online.md, RequestSettings: "the maximum value allowed is
# 180000 milliseconds" (how-to-manage-quotas.md: "Max request time-out at endpoint level: 180
# seconds" for managed online endpoints).
MAX_REQUEST_TIMEOUT_MS = 180_000
# (key, minimum, maximum or None) per settings block. ProbeSettings: initial_delay, timeout and
# failure_threshold "Minimum value is 1"; success_threshold "Minimum value is 1 for readiness
# probe. The value for liveness probe is fixed as 1"; period is how often (in seconds), so at least 1.
_REQUEST_LIMITS: tuple[tuple[str, int, int | None], ...] = (
    ("request_timeout_ms", 1, MAX_REQUEST_TIMEOUT_MS),
    ("max_concurrent_requests_per_instance", 1, None),
    ("max_queue_wait_ms", 0, None),
)
_PROBE_LIMITS: tuple[tuple[str, int, int | None], ...] = (
    ("initial_delay", 1, None),
    ("period", 1, None),
    ("timeout", 1, None),
    ("success_threshold", 1, None),
    ("failure_threshold", 1, None),
)


def integer(value: Any) -> int | None:
    """The value as Azure's int32 fields take it; None for anything the SDK would bend (a bool, a
    fraction). Strings of digits are the SDK's to convert, and it does."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    return None


def _range_text(minimum: int, maximum: int | None) -> str:
    return f"an integer from {minimum} to {maximum}" if maximum is not None else f"an integer >= {minimum}"


def _in_range(
    doc: YamlDoc, keys: tuple[str, ...], value: Any, limits: tuple[int, int | None], why: str
) -> list[Diagnostic]:
    minimum, maximum = limits
    number = integer(value)
    if number is not None and number >= minimum and (maximum is None or number <= maximum):
        return []
    return [
        doc.diag(
            f"{'.'.join(keys)} is {value!r}; Azure requires {_range_text(minimum, maximum)} ({why})", *keys
        )
    ]


def instance_count(doc: YamlDoc) -> list[Diagnostic]:
    """Azure's ``instance_count`` is a required integer: a managed deployment runs at least one
    instance (reference-yaml-deployment-managed-online.md: "Required. The number of instances")."""
    data = doc.data
    scale = data.get("scale_settings")
    if "instance_count" not in data:
        if isinstance(scale, Mapping) and scale.get("type") == "target_utilization":
            return []  # the autoscaler's min/max decide; the SDK checks that shape
        return [doc.diag("instance_count is missing; Azure requires it for a managed deployment (1 or more)")]
    return _in_range(
        doc, ("instance_count",), data["instance_count"], (1, None), "instances of the deployment"
    )


def _settings(doc: YamlDoc, block: str, limits: tuple[tuple[str, int, int | None], ...]) -> list[Diagnostic]:
    settings = doc.data.get(block)
    if not isinstance(settings, Mapping):
        return []  # absent: Azure's defaults; another type: the SDK schema reports it
    diags: list[Diagnostic] = []
    for key, minimum, maximum in limits:
        if key in settings and settings[key] is not None:
            diags += _in_range(
                doc,
                (block, key),
                settings[key],
                (minimum, maximum),
                "reference-yaml-deployment-managed-online",
            )
    return diags


def request_and_probe_settings(doc: YamlDoc) -> list[Diagnostic]:
    """request_settings and both probes within Azure's documented ranges."""
    diags = _settings(doc, "request_settings", _REQUEST_LIMITS)
    diags += _settings(doc, "readiness_probe", _PROBE_LIMITS)
    diags += _settings(doc, "liveness_probe", _PROBE_LIMITS)
    liveness = doc.data.get("liveness_probe")
    success = liveness.get("success_threshold") if isinstance(liveness, Mapping) else None
    if success is not None and integer(success) not in (None, 1):
        diags.append(
            doc.diag(
                f"liveness_probe.success_threshold is {success!r}; Azure fixes it at 1 for a liveness probe "
                "(remove it or set 1)",
                "liveness_probe",
                "success_threshold",
            )
        )
    return diags


def _custom_container(environment: Any) -> bool:
    # A custom container names its own routes (how-to-deploy-custom-container.md): it serves
    # without a model, as the docs allow ("This field is optional for custom container deployment").
    return isinstance(environment, Mapping) and isinstance(environment.get("inference_config"), Mapping)


def model_present(doc: YamlDoc) -> list[Diagnostic]:
    """A deployment names the model it serves. Azure's docs make ``model`` optional only for a
    custom container; the SDK never asks. Without a model Azure starts a scoring script that has
    nothing to load, which a bad merge that dropped the key produces with no other symptom.

    Allowed without a model: an inline environment with ``inference_config`` (a custom container),
    and a registered environment without ``code_configuration`` (a model package, as in
    azureml-examples ``cli/endpoints/online/deploy-with-packages``, or a registered custom
    container: both carry what they serve)."""
    data = doc.data
    if data.get("model") is not None:
        return []
    environment = data.get("environment")
    if environment is None:
        return [
            doc.diag(
                "the deployment has neither `model` nor `environment`; Azure requires an environment, and a "
                "model unless the environment is a custom container"
            )
        ]
    if _custom_container(environment):
        return []
    if isinstance(environment, str) and "code_configuration" not in data:
        return []
    return [
        doc.diag(
            "the deployment has no `model`; add `model: azureml:<name>:<version>` (Azure allows no model only "
            "for a custom container: an environment with `inference_config`)",
            "code_configuration" if "code_configuration" in data else "environment",
        )
    ]


def deployment_values(doc: YamlDoc) -> list[Diagnostic]:
    """Every value rule of a managed online deployment."""
    return instance_count(doc) + request_and_probe_settings(doc) + model_present(doc)
