"""What a monitor schedule asks for, read from azure-ai-ml's ``MonitorSchedule`` entity.

The YAML is loaded with azure-ai-ml's own ``load_schedule`` (so anything Azure rejects is rejected
here too, with ``file:line``), then turned into the plain spec local evaluation needs: per signal,
the reference file, the production collection, the feature selection and the thresholds.
Missing thresholds take Azure's defaults (the SDK's ``_get_default_thresholds``).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from gitops.errors import Diagnostic, InputErrors
from gitops.yamlmarks import YamlDoc, YamlSyntaxError, load_yaml

EVALUATED_SIGNALS = ("data_drift", "prediction_drift", "data_quality", "feature_attribution_drift")
# Why a signal type is not computed locally; shown in the report instead of a result.
NOT_EVALUATED_REASONS = {
    "model_performance": "needs ground-truth labels joined to production rows; not collected locally",
    "custom": "runs a user component on Azure's serverless Spark; not run locally",
    "generation_safety_quality": "needs an Azure OpenAI judge; not run locally",
    "generation_token_statistics": "LLM token statistics are not collected by the local target",
}
CLOUD_PREFIXES = ("azureml:", "azureml://", "https://", "http://", "wasbs://", "abfss://")
ENDPOINT_DEPLOYMENT_RE = re.compile(r"^azureml:([^:/]+):([^:/]+)$")


@dataclass
class Thresholds:
    """metric name -> threshold, separately for numerical and categorical features."""

    numerical: dict[str, float] = field(default_factory=dict)
    categorical: dict[str, float] = field(default_factory=dict)


@dataclass
class SignalSpec:
    name: str
    type: str
    line: int
    reference: Path | None = None
    reference_columns: dict[str, str] = field(default_factory=dict)  # data_column_names
    production: Path | None = None  # a local folder overriding the target's collection
    features: list[str] | None = None  # None = every reference feature
    top_n: int | None = None
    type_override: dict[str, str] = field(default_factory=dict)
    thresholds: Thresholds = field(default_factory=Thresholds)
    alert_enabled: bool = False
    not_evaluated: str | None = None
    notes: list[str] = field(default_factory=list)
    # production_data.data_window: a trailing window (lookback, offset) or fixed dates.
    lookback: timedelta | None = None
    lookback_offset: timedelta = timedelta(0)
    window_start: datetime | None = None
    window_end: datetime | None = None
    segment: tuple[str, list[str]] | None = None  # data_segment: feature, values kept

    def window(self, now: datetime) -> tuple[datetime | None, datetime | None]:
        if self.lookback is not None:
            end = now - self.lookback_offset
            return end - self.lookback, end
        return self.window_start, self.window_end


DURATION_RE = re.compile(
    r"^P(?:(?P<w>\d+)W)?(?:(?P<d>\d+)D)?(?:T(?:(?P<h>\d+)H)?(?:(?P<m>\d+)M)?(?:(?P<s>\d+)S)?)?$"
)


def parse_duration(text: str) -> timedelta:
    """ISO 8601 durations as Azure's data windows use them (P7D, PT12H, P1W); no months/years,
    whose length is ambiguous."""
    m = DURATION_RE.match(text.strip().upper())
    if not m or text.strip().upper() in ("P", "PT"):
        raise ValueError(f"{text!r} is not an ISO 8601 duration such as P7D or PT12H")
    g = {k: int(v) if v else 0 for k, v in m.groupdict().items()}
    return timedelta(weeks=g["w"], days=g["d"], hours=g["h"], minutes=g["m"], seconds=g["s"])


@dataclass
class MonitorSpec:
    name: str
    file: Path
    endpoint: str | None
    deployment: str | None
    ml_task: str | None
    emails: list[str]
    enabled: bool
    signals: list[SignalSpec]
    entity: Any


def _load_schedule(path: Path) -> Any:
    from azure.ai.ml.entities._load_functions import load_schedule

    for name in ("azure.ai.ml", "azure.ai.ml._utils._experimental"):
        logging.getLogger(name).setLevel(logging.ERROR)
    return load_schedule(str(path))


def load_monitor(path: Path) -> MonitorSpec:
    """Load and check one monitor YAML; every problem is reported at once as ``file:line``."""
    from gitops.desired import sdk_error_diagnostics

    try:
        doc = load_yaml(path)
    except YamlSyntaxError as exc:
        raise InputErrors([exc.diagnostic]) from None
    except OSError as exc:
        raise InputErrors([Diagnostic(str(path), 1, f"cannot read monitor file: {exc.strerror}")]) from None
    if not isinstance(doc.data, dict) or "create_monitor" not in doc.data:
        raise InputErrors(
            [
                doc.diag(
                    "a monitor file must be a schedule with `create_monitor:` (Azure ML model monitor YAML)"
                )
            ]
        )
    try:
        entity = _load_schedule(path)
    except Exception as exc:  # noqa: BLE001 - every loader failure is user input to report
        raise InputErrors(sdk_error_diagnostics(doc, exc, "monitor schedule")) from None
    return monitor_spec(entity, doc)


def monitor_spec(entity: Any, doc: YamlDoc) -> MonitorSpec:
    diags: list[Diagnostic] = []
    cm = entity.create_monitor
    target = cm.monitoring_target
    endpoint = deployment = None
    ref = getattr(target, "endpoint_deployment_id", None) if target is not None else None
    if ref:
        m = ENDPOINT_DEPLOYMENT_RE.match(ref)
        if m:
            endpoint, deployment = m.group(1), m.group(2)
        else:
            diags.append(
                doc.diag(
                    f"endpoint_deployment_id {ref!r} must be azureml:<endpoint>:<deployment>",
                    "create_monitor",
                    "monitoring_target",
                    "endpoint_deployment_id",
                )
            )
    signals: list[SignalSpec] = []
    raw_signals = cm.monitoring_signals or {}
    if not raw_signals:
        diags.append(
            doc.diag(
                "no monitoring_signals: Azure derives default signals from the model's training data, which "
                "local evaluation cannot see; declare the signals with their reference_data",
                "create_monitor",
            )
        )
    for name, sig in raw_signals.items():
        spec, sdiags = _signal(name, sig, doc)
        diags += sdiags
        if spec is not None:
            signals.append(spec)
    if any(s.production is None and s.not_evaluated is None for s in signals) and endpoint is None:
        diags.append(
            doc.diag(
                "signals read the target deployment's collected data, but monitoring_target has no "
                "endpoint_deployment_id",
                "create_monitor",
                "monitoring_target",
            )
        )
    if diags:
        raise InputErrors(diags)
    alert = cm.alert_notification
    emails = list(getattr(alert, "emails", None) or [])
    return MonitorSpec(
        name=entity.name,
        file=doc.path,
        endpoint=endpoint,
        deployment=deployment,
        ml_task=getattr(target, "ml_task", None) if target is not None else None,
        emails=emails,
        enabled=entity.is_enabled is not False,
        signals=signals,
        entity=entity,
    )


def _local_path(doc: YamlDoc, value: Any, what: str, *keys: str) -> tuple[Path | None, list[Diagnostic]]:
    path = getattr(value, "path", None) if value is not None else None
    if not path:
        return None, [doc.diag(f"{what} has no input_data.path", *keys)]
    raw = _raw(doc, *keys)
    # The SDK strips "azureml:" from asset references, so the YAML's own text decides.
    text = str(raw) if isinstance(raw, str) else str(path)
    if text.startswith(CLOUD_PREFIXES):
        return None, [
            doc.diag(
                f"{what} {text!r} is a workspace/cloud asset; local evaluation needs a local file or folder "
                "path (relative to this YAML file)",
                *keys,
            )
        ]
    p = Path(text.removeprefix("file:"))
    p = p if p.is_absolute() else (doc.path.parent / p)
    if not p.exists():
        return None, [doc.diag(f"{what} {text!r} not found (looked for {p})", *keys)]
    return p.resolve(), []


def _raw(doc: YamlDoc, *keys: str) -> Any:
    node: Any = doc.data
    for k in keys:
        if not isinstance(node, dict) or k not in node:
            return None
        node = node[k]
    return node


def _data_window(spec: SignalSpec, window: Any, doc: YamlDoc, *keys: str | int) -> list[Diagnostic]:
    if window is None:
        return []
    diags: list[Diagnostic] = []
    for attr in ("lookback_window_size", "lookback_window_offset"):
        value = getattr(window, attr, None)
        if value is None:
            continue
        try:
            delta = parse_duration(str(value))
        except ValueError as exc:
            diags.append(doc.diag(f"data_window.{attr}: {exc}", *keys, "data_window", attr))
            continue
        if attr == "lookback_window_size":
            spec.lookback = delta
        else:
            spec.lookback_offset = delta
    for attr in ("window_start", "window_end"):
        value = getattr(window, attr, None)
        if value is None:
            continue
        try:
            when = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        except ValueError:
            diags.append(
                doc.diag(
                    f"data_window.{attr}: {value!r} is not a date (YYYY-MM-DD)", *keys, "data_window", attr
                )
            )
            continue
        setattr(spec, attr, when if when.tzinfo else when.replace(tzinfo=UTC))
    return diags


def _signal(name: str, sig: Any, doc: YamlDoc) -> tuple[SignalSpec | None, list[Diagnostic]]:
    stype = str(getattr(sig.type, "value", sig.type))
    keys = ("create_monitor", "monitoring_signals", name)
    spec = SignalSpec(name=name, type=stype, line=doc.line(*keys))
    spec.alert_enabled = bool(getattr(sig, "alert_enabled", False))
    if stype not in EVALUATED_SIGNALS:
        spec.not_evaluated = NOT_EVALUATED_REASONS.get(stype, f"signal type {stype} is not evaluated locally")
        return spec, []
    diags = _reference(spec, getattr(sig, "reference_data", None), doc, keys)
    if stype == "feature_attribution_drift":
        # Attribution reads inputs and outputs of the target deployment, never a production folder.
        diags += _attribution(spec, sig, doc, *keys)
    else:
        diags += _production(spec, getattr(sig, "production_data", None), doc, keys)
    _selection(spec, sig)
    diags += _type_overrides(spec, getattr(sig, "feature_type_override", None) or {}, doc, keys)
    if stype != "feature_attribution_drift":
        spec.thresholds = _thresholds(stype, getattr(sig, "metric_thresholds", None))
    return spec, diags


def _reference(spec: SignalSpec, ref: Any, doc: YamlDoc, keys: tuple[str, ...]) -> list[Diagnostic]:
    if ref is None:
        return [doc.diag(f"signal {spec.name!r} has no reference_data", *keys)]
    spec.reference, diags = _local_path(
        doc,
        ref.input_data,
        f"signal {spec.name!r} reference_data",
        *keys,
        "reference_data",
        "input_data",
        "path",
    )
    spec.reference_columns = dict(getattr(ref, "data_column_names", None) or {})
    return diags


def _production(spec: SignalSpec, prod: Any, doc: YamlDoc, keys: tuple[str, ...]) -> list[Diagnostic]:
    if prod is None or getattr(prod, "input_data", None) is None:
        return []
    diags: list[Diagnostic] = []
    raw = _raw(doc, *keys, "production_data", "input_data", "path")
    if isinstance(raw, str) and raw.startswith(CLOUD_PREFIXES):
        # On Azure this names the collected-data asset; locally the same data is the target
        # deployment's collection, so the YAML works unchanged in both places.
        spec.notes.append(
            f"production_data {raw} is a workspace asset; read the target deployment's collected data instead"
        )
    else:
        spec.production, diags = _local_path(
            doc,
            prod.input_data,
            f"signal {spec.name!r} production_data",
            *keys,
            "production_data",
            "input_data",
            "path",
        )
    return diags + _data_window(spec, getattr(prod, "data_window", None), doc, *keys, "production_data")


def _selection(spec: SignalSpec, sig: Any) -> None:
    """Which rows (data_segment) and which features (features / top_n_feature_importance) to evaluate."""
    segment = getattr(sig, "data_segment", None)
    if segment is not None and getattr(segment, "feature_name", None):
        spec.segment = (str(segment.feature_name), [str(v) for v in (segment.feature_values or [])])
    feats = getattr(sig, "features", None)
    if isinstance(feats, list):
        spec.features = [str(f) for f in feats]
    elif feats is not None and getattr(feats, "top_n_feature_importance", None) is not None:
        spec.top_n = int(feats.top_n_feature_importance)


def _type_overrides(
    spec: SignalSpec, override: dict[Any, Any], doc: YamlDoc, keys: tuple[str, ...]
) -> list[Diagnostic]:
    diags: list[Diagnostic] = []
    for feat, kind in override.items():
        if str(kind).lower() not in ("numerical", "categorical"):
            diags.append(
                doc.diag(
                    f"feature_type_override.{feat}: {kind!r} must be numerical or categorical",
                    *keys,
                    "feature_type_override",
                    feat,
                )
            )
        spec.type_override[str(feat)] = str(kind).lower()
    return diags


def _attribution(spec: SignalSpec, sig: Any, doc: YamlDoc, *keys: str) -> list[Diagnostic]:
    """Feature attribution drift: a threshold on NDCG, a target column in the reference, and
    production inputs/outputs (workspace assets map to the target's collections)."""
    diags: list[Diagnostic] = []
    mt = getattr(sig, "metric_thresholds", None)
    ndcg = getattr(mt, "normalized_discounted_cumulative_gain", None) if mt is not None else None
    if ndcg is None:
        diags.append(
            doc.diag(
                f"signal {spec.name!r}: set metric_thresholds.normalized_discounted_cumulative_gain",
                *keys,
                "metric_thresholds",
            )
        )
    else:
        spec.thresholds = Thresholds(numerical={"normalized_discounted_cumulative_gain": float(ndcg)})
    if "target_column" not in spec.reference_columns:
        diags.append(
            doc.diag(
                f"signal {spec.name!r}: reference_data.data_column_names.target_column "
                "must name the label column",
                *keys,
                "reference_data",
            )
        )
    for i, item in enumerate(getattr(sig, "production_data", None) or []):
        raw = _raw_index(doc, i, *keys, "production_data")
        if isinstance(raw, str) and not raw.startswith(CLOUD_PREFIXES):
            diags.append(
                doc.diag(
                    "feature_attribution_drift reads the target deployment's collected inputs and outputs "
                    "locally; a local production_data path is not supported here",
                    *keys,
                    "production_data",
                    i,
                )
            )
        if i == 0:
            diags += _data_window(spec, getattr(item, "data_window", None), doc, *keys, "production_data", i)
    return diags


def _raw_index(doc: YamlDoc, index: int, *keys: str) -> Any:
    items = _raw(doc, *keys)
    if not isinstance(items, list) or index >= len(items) or not isinstance(items[index], dict):
        return None
    data = items[index].get("input_data")
    return data.get("path") if isinstance(data, dict) else None


def _thresholds(stype: str, mt: Any) -> Thresholds:
    from azure.ai.ml.entities._monitoring import thresholds as t

    if mt is None:
        defaults: dict[str, Any] = {
            "data_drift": t.DataDriftMetricThreshold,
            "prediction_drift": t.PredictionDriftMetricThreshold,
            "data_quality": t.DataQualityMetricThreshold,
        }
        mt = defaults[stype]._get_default_thresholds()
    out = Thresholds()
    for kind in ("numerical", "categorical"):
        group = getattr(mt, kind, None)
        if group is None:
            continue
        target = out.numerical if kind == "numerical" else out.categorical
        for metric in (
            "jensen_shannon_distance",
            "normalized_wasserstein_distance",
            "population_stability_index",
            "two_sample_kolmogorov_smirnov_test",
            "pearsons_chi_squared_test",
            "null_value_rate",
            "data_type_error_rate",
            "out_of_bounds_rate",
        ):
            value = getattr(group, metric, None)
            if value is not None:
                target[metric] = float(value)
    return out
