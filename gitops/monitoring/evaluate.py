"""Evaluate a monitor's signals on collected production data against its reference data.

:func:`evaluate_monitor` is the whole computation for one monitor: read data, compute per-feature
metrics, compare with the YAML's thresholds. Writing ``report.json``/``report.html`` is the caller's
step (:mod:`gitops.monitoring.run` composes both), so evaluation never depends on a renderer.

Each signal family has its own function (:func:`_input_features` for data drift and data quality,
:func:`_prediction_drift`, :func:`_attribution_drift`); :func:`_evaluate_signal` only finds the
reference and production data they share.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from gitops.monitoring import metrics as M
from gitops.monitoring.attribution import importances
from gitops.monitoring.data import (
    PREDICTION_COLUMN,
    Collected,
    Column,
    DataError,
    Table,
    as_categorical,
    category,
    read_inputs,
    read_joined,
    read_outputs,
    read_reference,
)
from gitops.monitoring.results import FeatureResult, MonitorResult, SignalResult
from gitops.monitoring.spec import MonitorSpec, SignalSpec

__all__ = [
    "FeatureResult",
    "MonitorResult",
    "SignalResult",
    "collection_dir",
    "evaluate_monitor",
]

MAX_CHART_CATEGORIES = 20
# Typography of the chart's bin labels, which people read in the HTML report.
EN_DASH = "\u2013"
GREATER_EQUAL = "\u2265"


def collection_dir(data_root: Path, spec: MonitorSpec, collection: str) -> Path:
    if spec.endpoint is None or spec.deployment is None:
        raise DataError(f"monitor {spec.name} has no endpoint_deployment_id to find collected data")
    return data_root / spec.endpoint / spec.deployment / collection


def _window_json(since: datetime | None, until: datetime | None) -> dict[str, str | None]:
    return {
        "since": since.isoformat() if since else None,
        "until": until.isoformat() if until else None,
    }


@dataclass
class _Caches:
    """Signals of one monitor usually share a reference file and a collection; each is parsed once."""

    reference: dict[Path, Table] = field(default_factory=dict)
    production: dict[tuple[Any, ...], Collected] = field(default_factory=dict)

    def reference_table(self, path: Path) -> Table:
        if path not in self.reference:
            self.reference[path] = read_reference(path)
        return self.reference[path]


@dataclass
class _Signal:
    """What every signal family reads: the monitor, the signal, its data and its window."""

    monitor: MonitorSpec
    sig: SignalSpec
    data_root: Path | None
    since: datetime | None
    until: datetime | None
    ref: Table
    prod_dir: Path
    res: SignalResult


def evaluate_monitor(
    spec: MonitorSpec,
    data_root: Path | None,
    *,
    env: str = "",
    since: datetime | None = None,
    until: datetime | None = None,
) -> MonitorResult:
    """Evaluate every signal of ``spec``.

    ``data_root`` holds ``<endpoint>/<deployment>/<collection>/...`` (the local target's
    ``<state_dir>/data_collection`` or a downloaded copy of Azure's collected data); it may be None
    when every signal names its own ``production_data`` folder."""
    now = datetime.now(UTC)
    caches = _Caches()
    results: list[SignalResult] = []
    for sig in spec.signals:
        # An explicit window (CLI --since/--until) wins over the YAML's production data_window.
        s_since, s_until = (since, until) if since or until else sig.window(now)
        results.append(_evaluate_signal(spec, sig, data_root, (s_since, s_until), caches))
    return MonitorResult(
        monitor=spec.name,
        env=env,
        file=str(spec.file),
        endpoint=spec.endpoint,
        deployment=spec.deployment,
        window=_window_json(since, until),
        generated_at=datetime.now(UTC).isoformat(timespec="seconds"),
        alert_emails=spec.emails,
        signals=results,
    )


def _evaluate_signal(
    spec: MonitorSpec,
    sig: SignalSpec,
    data_root: Path | None,
    window: tuple[datetime | None, datetime | None],
    caches: _Caches,
) -> SignalResult:
    since, until = window
    res = SignalResult(sig.name, sig.type, "ok", sig.alert_enabled, notes=list(sig.notes))
    if since is not None or until is not None:
        res.window = _window_json(since, until)
    if sig.not_evaluated is not None:
        res.status = "not_evaluated"
        res.reason = sig.not_evaluated
        return res
    assert sig.reference is not None  # spec loading guarantees it for evaluated signals
    ref = caches.reference_table(sig.reference)
    res.reference = str(sig.reference)
    res.reference_rows = ref.rows
    prod_dir = _production_dir(spec, sig, data_root)
    res.production = str(prod_dir)
    s = _Signal(spec, sig, data_root, since, until, ref, prod_dir, res)
    if sig.type == "feature_attribution_drift":
        res.features.append(_attribution_drift(s))
    elif sig.type == "prediction_drift":
        res.features.append(_prediction_drift(s))
    else:
        res.features.extend(_input_features(s, caches))
    if any(f.breaches for f in res.features):
        res.status = "breached"
    return res


def _production_dir(spec: MonitorSpec, sig: SignalSpec, data_root: Path | None) -> Path:
    """The collected data a signal reads; it must exist (a missing folder is a setup error)."""
    collection = "model_outputs" if sig.type == "prediction_drift" else "model_inputs"
    if sig.type == "feature_attribution_drift":
        if data_root is None:
            raise DataError(f"signal {sig.name}: needs the collected data root")
        prod_dir = collection_dir(data_root, spec, collection)
    elif sig.production is not None:
        prod_dir = sig.production
    elif data_root is not None:
        prod_dir = collection_dir(data_root, spec, collection)
    else:
        raise DataError(f"signal {sig.name}: no production data folder (give the collected data root)")
    if not prod_dir.exists():
        raise DataError(
            f"signal {sig.name}: no collected {collection} at {prod_dir}; does deployment "
            f"{spec.endpoint}/{spec.deployment} collect {collection} and has it received traffic?"
        )
    return prod_dir


def _prediction_drift(s: _Signal) -> FeatureResult:
    sig, ref = s.sig, s.ref
    pred_col = sig.reference_columns.get("prediction", PREDICTION_COLUMN)
    if pred_col not in ref.columns:
        raise DataError(
            f"signal {sig.name}: reference data {sig.reference} has no prediction column {pred_col!r} "
            "(set reference_data.data_column_names.prediction)"
        )
    ref_col = ref.columns[pred_col]
    # Classification outputs are classes even when encoded as integers.
    categorical = (s.monitor.ml_task or "").lower() != "regression"
    collected = read_outputs(s.prod_dir, s.since, s.until, numeric=not categorical)
    s.res.production_rows = collected.table.rows
    prod_col = collected.table.columns[PREDICTION_COLUMN]
    if categorical:
        ref_col, prod_col = as_categorical(ref_col), as_categorical(prod_col)
    return _drift_feature(pred_col, ref_col, prod_col, sig)


def _input_features(s: _Signal, caches: _Caches) -> list[FeatureResult]:
    """Data drift and data quality: one result per selected feature of the collected inputs."""
    sig, ref, res = s.sig, s.ref, s.res
    excluded = set(sig.reference_columns.values())
    feature_names = [c for c in ref.columns if c not in excluded]
    selected = _select_features(sig, feature_names, res)
    kinds = {n: _kind(sig, ref.columns[n]) for n in feature_names}
    numeric = {n: k == "numerical" for n, k in kinds.items()}
    key = (s.prod_dir, tuple(feature_names), tuple(sorted(numeric.items())), s.since, s.until)
    if key not in caches.production:
        caches.production[key] = read_inputs(s.prod_dir, feature_names, s.since, s.until, numeric=numeric)
    ref_table, prod_table = ref, caches.production[key].table
    if sig.segment is not None:
        ref_table = _segment(ref_table, sig, "reference data")
        prod_table = _segment(prod_table, sig, "production data")
        res.notes.append(f"segment: {sig.segment[0]} in {', '.join(sig.segment[1])}")
    res.reference_rows = ref_table.rows
    res.production_rows = prod_table.rows
    if res.production_rows == 0:
        raise DataError(f"signal {sig.name}: no production rows in {s.prod_dir} for the window/segment")
    per_feature = _drift_feature if sig.type == "data_drift" else _quality_feature
    features = []
    for n in selected:
        ref_col, prod_col = ref_table.columns[n], prod_table.columns[n]
        if kinds[n] == "categorical":
            ref_col, prod_col = as_categorical(ref_col), as_categorical(prod_col)
        features.append(per_feature(n, ref_col, prod_col, sig))
    return features


def _attribution_drift(s: _Signal) -> FeatureResult:
    """Feature attribution drift: do the features matter in the same order in production?"""
    sig, ref = s.sig, s.ref
    target, names = _attribution_columns(sig, ref)
    classification = (s.monitor.ml_task or "").lower() != "regression"
    x_ref = np.column_stack([ref.columns[n].values for n in names])
    y_ref_col = as_categorical(ref.columns[target]) if classification else ref.columns[target]
    assert s.data_root is not None  # _production_dir refuses attribution without the data root
    x_prod, preds = read_joined(
        collection_dir(s.data_root, s.monitor, "model_inputs"),
        collection_dir(s.data_root, s.monitor, "model_outputs"),
        names,
        s.since,
        s.until,
    )
    s.res.production_rows = int(x_prod.shape[0])
    y_prod = (
        np.array([category(p) for p in preds], dtype=str)
        if classification
        else np.asarray(preds, dtype=float)
    )
    try:
        imp_ref = importances(x_ref, y_ref_col.values, classification)
        imp_prod = importances(x_prod, y_prod, classification)
    except ValueError as exc:
        raise DataError(f"signal {sig.name}: cannot fit the attribution surrogate: {exc}") from exc
    value = M.ndcg(imp_ref, imp_prod)
    metric = "normalized_discounted_cumulative_gain"
    thresholds = dict(sig.thresholds.numerical)
    breaches = [metric] if metric in thresholds and M.breached(metric, value, thresholds[metric]) else []
    order = np.argsort(-imp_ref)
    chart = {
        "labels": [names[i] for i in order],
        "reference": imp_ref[order].tolist(),
        "production": imp_prod[order].tolist(),
    }
    s.res.notes.append(
        "importances: random-forest impurity decrease; reference fitted on "
        f"{target!r}, production on the deployment's predictions"
    )
    return FeatureResult(
        "feature_importance_ranking",
        "all",
        {metric: value},
        thresholds,
        breaches,
        chart=chart if breaches else None,
    )


def _attribution_columns(sig: SignalSpec, ref: Table) -> tuple[str, list[str]]:
    """The reference's target column and its features, which must all be numerical."""
    target = sig.reference_columns["target_column"]
    if target not in ref.columns:
        raise DataError(f"signal {sig.name}: reference data {sig.reference} has no target column {target!r}")
    excluded = set(sig.reference_columns.values())
    names = [c for c in ref.columns if c not in excluded]
    non_numeric = [n for n in names if not ref.columns[n].numeric]
    if non_numeric:
        raise DataError(
            f"signal {sig.name}: feature attribution drift is computed on numerical features only "
            f"({', '.join(non_numeric)} are categorical)"
        )
    return target, names


def _segment(table: Table, sig: SignalSpec, what: str) -> Table:
    assert sig.segment is not None
    feature, values = sig.segment
    if feature not in table.columns:
        raise DataError(f"signal {sig.name}: data_segment feature {feature!r} is not a column of the {what}")
    col = as_categorical(table.columns[feature])
    keep = np.isin(col.values, np.array(values, dtype=str)) & ~col.nulls
    out = Table(source=table.source)
    for name, c in table.columns.items():
        out.columns[name] = Column(c.name, c.numeric, c.values[keep], c.nulls[keep], c.type_errors[keep])
    return out


def _kind(sig: SignalSpec, col: Column) -> str:
    if col.name in sig.type_override:
        return sig.type_override[col.name]
    return "numerical" if col.numeric else "categorical"


def _select_features(sig: SignalSpec, names: list[str], res: SignalResult) -> list[str]:
    if sig.features is not None:
        unknown = [f for f in sig.features if f not in names]
        if unknown:
            raise DataError(
                f"signal {sig.name}: features {', '.join(unknown)} are not columns of the reference data "
                f"{sig.reference} (columns: {', '.join(names)})"
            )
        return list(sig.features)
    if sig.top_n is not None and sig.top_n < len(names):
        res.notes.append(
            f"top_n_feature_importance: {sig.top_n} needs feature importances, which local evaluation does "
            f"not compute; all {len(names)} features were evaluated"
        )
    return names


def _drift_feature(name: str, ref: Column, prod: Column, sig: SignalSpec) -> FeatureResult:
    numeric = ref.numeric and prod.numeric
    r = ref.values[~ref.nulls & ~ref.type_errors]
    q = prod.values[~prod.nulls & ~prod.type_errors]
    thresholds = sig.thresholds.numerical if numeric else sig.thresholds.categorical
    kind = "numerical" if numeric else "categorical"
    if r.size == 0 or q.size == 0:
        # Nothing to compare; an all-null column is the data quality signal's finding, not drift.
        side = "reference" if r.size == 0 else "production"
        note = f"no valid {side} values; drift not computed"
        return FeatureResult(
            name, kind, {m: float("nan") for m in thresholds}, dict(thresholds), [], note=note
        )
    values = M.numerical_drift(r, q) if numeric else M.categorical_drift(r, q)
    breaches = [m for m, thr in thresholds.items() if m in values and M.breached(m, values[m], thr)]
    feat = FeatureResult(name, kind, values, dict(thresholds), breaches)
    if breaches:
        feat.chart = _chart(ref, prod)
    return feat


def _quality_feature(name: str, ref: Column, prod: Column, sig: SignalSpec) -> FeatureResult:
    if ref.numeric and prod.numeric:
        present = ref.values[~np.isnan(ref.values)]
        if present.size == 0:
            raise DataError(
                f"signal {sig.name}: reference column {name!r} has no values to learn bounds from"
            )
        values = M.numerical_quality(
            prod.values, prod.type_errors, float(present.min()), float(present.max())
        )
        values["reference_min"] = float(present.min())
        values["reference_max"] = float(present.max())
        thresholds = sig.thresholds.numerical
        kind = "numerical"
    else:
        cats = {str(c) for c in ref.values[~ref.nulls]}
        values = M.categorical_quality(prod.values, prod.nulls, cats)
        thresholds = sig.thresholds.categorical
        kind = "categorical"
    breaches = [m for m, thr in thresholds.items() if m in values and M.breached(m, values[m], thr)]
    feat = FeatureResult(name, kind, values, dict(thresholds), breaches)
    if breaches:
        feat.chart = _chart(ref, prod)
    return feat


def _chart(ref: Column, prod: Column) -> dict[str, Any]:
    """Reference vs production proportions on the bins the metrics used (categories: the most common)."""
    if ref.numeric and prod.numeric:
        r = ref.values[~np.isnan(ref.values)]
        q = prod.values[~np.isnan(prod.values)]
        if r.size == 0 or q.size == 0:
            return {"labels": [], "reference": [], "production": []}
        edges = M.quantile_edges(np.sort(r))
        hr, hq = M.histogram(r, edges), M.histogram(q, edges)
        finite = edges[1:-1]
        labels = [f"< {finite[0]:.4g}"] if finite.size else ["all"]
        labels += [f"{a:.4g} {EN_DASH} {b:.4g}" for a, b in itertools.pairwise(finite)]
        if finite.size:
            labels.append(f"{GREATER_EQUAL} {finite[-1]:.4g}")
        return {
            "labels": labels,
            "reference": (hr / max(hr.sum(), 1)).tolist(),
            "production": (hq / max(hq.sum(), 1)).tolist(),
        }
    cats, cr, cq = M.category_counts(ref.values[~ref.nulls], prod.values[~prod.nulls])
    pr = cr / max(cr.sum(), 1)
    pq = cq / max(cq.sum(), 1)
    order = np.argsort(-(pr + pq))[:MAX_CHART_CATEGORIES]
    return {
        "labels": [cats[i] for i in order],
        "reference": pr[order].tolist(),
        "production": pq[order].tolist(),
    }
