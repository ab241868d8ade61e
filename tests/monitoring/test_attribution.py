"""Feature attribution drift: NDCG by hand, and drift found when the model's predictions stop
depending on the features its training labels depended on."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from gitops.errors import InputErrors
from gitops.monitoring import metrics as M
from gitops.monitoring.run import run_monitor
from gitops.monitoring.spec import load_monitor
from gitops.targets.local.datacollect import CollectorWriter

MONITOR = """name: fad
trigger: {{type: recurrence, frequency: day, interval: 1}}
create_monitor:
  compute: {{instance_type: standard_e4s_v3, runtime_version: "3.4"}}
  monitoring_target: {{ml_task: classification, endpoint_deployment_id: "azureml:ep:d"}}
  monitoring_signals:
    attribution:
      type: feature_attribution_drift
      production_data:
        - input_data: {{path: azureml:ep-d-model_inputs:1, type: uri_folder}}
          data_context: model_inputs
        - input_data: {{path: azureml:ep-d-model_outputs:1, type: uri_folder}}
          data_context: model_outputs
      reference_data:
        input_data: {{path: ./ref.csv, type: uri_file}}
        data_context: training
        data_column_names: {{target_column: label}}
{thresholds}      alert_enabled: true
"""
THRESHOLD = "      metric_thresholds:\n        normalized_discounted_cumulative_gain: 0.9\n"


def test_ndcg_hand_values() -> None:
    rel = [0.5, 0.3, 0.2]
    assert M.ndcg(rel, [0.6, 0.3, 0.1]) == pytest.approx(1.0)
    idcg = 0.5 + 0.3 / math.log2(3) + 0.2 / math.log2(4)
    reversed_dcg = 0.2 + 0.3 / math.log2(3) + 0.5 / math.log2(4)
    assert M.ndcg(rel, [0.1, 0.3, 0.6]) == pytest.approx(reversed_dcg / idcg)
    with pytest.raises(ValueError, match="the same length"):
        M.ndcg([1.0], [1.0, 2.0])


def _setup(tmp_path: Path, production_uses: int, thresholds: str = THRESHOLD) -> tuple[Path, Path]:
    rng = np.random.default_rng(5)
    x = rng.normal(size=(600, 4))
    label = (x[:, 0] > 0).astype(int)  # the training labels depend on feature a only
    lines = ["a,b,c,d,label"] + [
        ",".join(f"{v:.4f}" for v in row) + f",{y}" for row, y in zip(x, label, strict=True)
    ]
    (tmp_path / "ref.csv").write_text("\n".join(lines) + "\n")
    monitor = tmp_path / "monitor.yml"
    monitor.write_text(MONITOR.format(thresholds=thresholds))
    root = tmp_path / "collected"
    writer = CollectorWriter(root)
    prod = rng.normal(size=(600, 4))
    for i in range(0, 600, 20):
        rows = prod[i : i + 20]
        preds = (rows[:, production_uses] > 0).astype(int).tolist()
        writer.collect(
            "ep",
            "d",
            "model_inputs",
            f"r{i}",
            data={"data": rows.round(4).tolist()},
            content_type="application/json",
        )
        writer.collect(
            "ep", "d", "model_outputs", f"r{i}", data={"predictions": preds}, content_type="application/json"
        )
    # A request that failed has inputs and no outputs; the join must drop it.
    writer.collect(
        "ep",
        "d",
        "model_inputs",
        "failed",
        data={"data": [[0.0, 0.0, 0.0, 0.0]]},
        content_type="application/json",
    )
    writer.close()
    return monitor, root


def test_same_attribution_passes(tmp_path: Path) -> None:
    monitor, root = _setup(tmp_path, production_uses=0)
    (sig,) = run_monitor(load_monitor(monitor), root, None).signals
    assert sig.status == "ok"
    assert sig.production_rows == 600
    assert sig.features[0].metrics["normalized_discounted_cumulative_gain"] > 0.95


def test_attribution_drift_detected(tmp_path: Path) -> None:
    monitor, root = _setup(tmp_path, production_uses=2)  # predictions now follow feature c
    out = tmp_path / "out"
    (sig,) = run_monitor(load_monitor(monitor), root, out).signals
    value = sig.features[0].metrics["normalized_discounted_cumulative_gain"]
    assert sig.breached
    assert value < 0.9
    assert sig.features[0].chart is not None
    assert sig.features[0].chart["labels"][0] == "a"
    assert "<svg" in (out / "report.html").read_text()


def test_attribution_needs_threshold_and_target(tmp_path: Path) -> None:
    monitor, _ = _setup(tmp_path, production_uses=0, thresholds="")
    with pytest.raises(InputErrors) as exc:
        load_monitor(monitor)  # azure-ai-ml itself requires metric_thresholds here
    assert "metric_thresholds" in " ".join(d.message for d in exc.value.diagnostics)
    monitor.write_text(
        MONITOR.format(thresholds=THRESHOLD).replace(
            "        data_column_names: {target_column: label}\n", ""
        )
    )
    with pytest.raises(InputErrors) as exc:
        load_monitor(monitor)
    (diag,) = exc.value.diagnostics
    assert "data_column_names.target_column must name the label column" in diag.message
