"""Monitor runs on collected data written in the local target's format."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from gitops.monitoring.data import DataError, read_inputs
from gitops.monitoring.run import run_monitor
from gitops.monitoring.spec import load_monitor

from .conftest import MONITOR_YAML, Collect, write_records


def test_no_drift_on_same_distribution(collect: Collect, tmp_path: Path) -> None:
    root = collect(rows=400, shifted=False, seed=1)
    result = run_monitor(load_monitor(MONITOR_YAML), root, tmp_path / "report", env="local")
    assert not result.breached, [
        (s.name, [f.feature for f in s.features if f.breaches]) for s in result.signals
    ]
    assert [s.status for s in result.signals] == ["ok", "ok", "ok"]
    assert all(s.production_rows == 400 for s in result.signals)
    assert len(result.signals[0].features) == 13


def test_drift_detected_on_shifted_traffic(collect: Collect, tmp_path: Path) -> None:
    root = collect(rows=400, shifted=True, seed=1)
    out = tmp_path / "report"
    result = run_monitor(load_monitor(MONITOR_YAML), root, out, env="local")
    by_name = {s.name: s for s in result.signals}
    drifted = {f.feature for f in by_name["data-drift"].features if f.breaches}
    assert drifted == {"alcohol", "color_intensity", "proline"}
    assert by_name["prediction-drift"].breached
    assert by_name["data-quality"].breached

    report = json.loads((out / "report.json").read_text())
    assert report["breached"] is True
    assert report["monitor"] == "wine-classifier-blue-monitor"
    feat = next(f for f in report["signals"][0]["features"] if f["feature"] == "alcohol")
    assert feat["breaches"] == ["normalized_wasserstein_distance"]
    assert feat["metrics"]["normalized_wasserstein_distance"] > 1.0
    html = (out / "report.html").read_text()
    assert html.count("<svg") == len(drifted) + 1 + 3  # drift features, prediction, quality features
    assert "<script" not in html
    assert "http://" not in html.replace("http://www.w3.org/2000/svg", "")


def test_fast_and_slow_readers_agree(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    rows = rng.normal(size=(50, 3)).round(3).tolist()
    fast = tmp_path / "fast" / "2026" / "01" / "02" / "data.jsonl"
    write_records(fast, [{"data": rows[i : i + 5]} for i in range(0, 50, 5)])
    slow = tmp_path / "slow" / "2026" / "01" / "02" / "data.jsonl"
    # A record body the Arrow path does not type (split layout) forces the per-line reader.
    write_records(
        slow, [{"input_data": {"columns": ["a", "b", "c"], "data": rows[i : i + 5]}} for i in range(0, 50, 5)]
    )
    a = read_inputs(tmp_path / "fast", ["a", "b", "c"])
    b = read_inputs(tmp_path / "slow", ["a", "b", "c"])
    for n in "abc":
        assert np.array_equal(a.table.columns[n].values, b.table.columns[n].values)
    assert a.records == b.records == 10


def test_type_errors_and_nulls_are_counted(tmp_path: Path) -> None:
    root = tmp_path / "c" / "2026" / "01" / "02" / "data.jsonl"
    write_records(root, [{"data": [[1.0, 2.0], [None, "x"], [3.0, 4.0], [5.0, 6.0]]}])
    got = read_inputs(tmp_path / "c", ["a", "b"], numeric={"a": True, "b": True})
    b = got.table.columns["b"]
    assert b.numeric
    assert b.type_errors.tolist() == [False, True, False, False]
    assert got.table.columns["a"].nulls.tolist() == [False, True, False, False]


def test_window_filters_records(tmp_path: Path) -> None:
    path = tmp_path / "c" / "2026" / "01" / "02" / "data.jsonl"
    times = ["2026-01-02T01:00:00.000Z", "2026-01-02T05:00:00.000Z", "2026-01-02T09:00:00.000Z"]
    write_records(path, [{"data": [[1.0]]}, {"data": [[2.0]]}, {"data": [[3.0]]}], times)
    since = datetime(2026, 1, 2, 4, tzinfo=UTC)
    until = datetime(2026, 1, 2, 8, tzinfo=UTC)
    got = read_inputs(tmp_path / "c", ["a"], since, until)
    assert got.table.columns["a"].values.tolist() == [2.0]
    # Day folders entirely before the window are not read at all.
    with pytest.raises(DataError, match="no collected data"):
        read_inputs(tmp_path / "c", ["a"], datetime(2026, 2, 1, tzinfo=UTC))


def test_missing_collected_data_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"no collected model_inputs at .*wine-classifier/blue/model_inputs"):
        run_monitor(load_monitor(MONITOR_YAML), tmp_path / "empty", None)


def test_wrong_row_width_is_reported(tmp_path: Path) -> None:
    root = tmp_path / "dc" / "wine-classifier" / "blue" / "model_inputs" / "2026" / "01" / "02" / "data.jsonl"
    write_records(root, [{"data": [[1.0, 2.0, 3.0]]}])
    with pytest.raises(DataError, match="rows have 3 values but the reference has 13 features"):
        run_monitor(load_monitor(MONITOR_YAML), tmp_path / "dc", None)


def test_all_null_feature_is_a_quality_breach_not_a_crash(tmp_path: Path) -> None:
    rows = [[None if j == 0 else 13.0 + (i % 7) * 0.1 for j in range(13)] for i in range(60)]
    root = tmp_path / "dc" / "wine-classifier" / "blue" / "model_inputs" / "2026" / "01" / "02" / "data.jsonl"
    write_records(root, [{"data": rows[i : i + 10]} for i in range(0, 60, 10)])
    out = tmp_path / "out"
    spec = load_monitor(MONITOR_YAML)
    spec.signals = [s for s in spec.signals if s.type != "prediction_drift"]
    result = run_monitor(spec, tmp_path / "dc", out)
    drift, quality = result.signals
    alcohol = next(f for f in drift.features if f.feature == "alcohol")
    assert alcohol.breaches == []
    assert "no valid production values" in alcohol.note
    q_alcohol = next(f for f in quality.features if f.feature == "alcohol")
    assert q_alcohol.metrics["null_value_rate"] == 1.0
    assert "null_value_rate" in q_alcohol.breaches
    report = json.loads((out / "report.json").read_text())
    assert report["signals"][0]["features"][0]["metrics"]["normalized_wasserstein_distance"] is None


def test_azure_collector_layout_and_records(tmp_path: Path) -> None:
    """Azure's data collector: hour folders, CloudEvents-style envelope, rows as records."""
    root = tmp_path / "modelDataCollector" / "ep" / "d" / "model_inputs"
    f = root / "2026" / "01" / "02" / "13" / "part-0001.jsonl"
    f.parent.mkdir(parents=True)
    lines = []
    for i in range(4):
        rec = {
            "specversion": "1.0",
            "id": f"e{i}",
            "source": "/subscriptions/x/resourceGroups/y/providers/Microsoft.MachineLearningServices"
            "/workspaces/w/onlineEndpoints/ep/deployments/d",
            "type": "azureml.inference.model_inputs",
            "datacontenttype": "application/json",
            "time": f"2026-01-02T13:0{i}:00Z",
            "data": [{"a": 1.0 + i, "b": "x"}, {"a": None, "b": "y"}],
            "correlationid": f"c{i}",
        }
        lines.append(json.dumps(rec))
    f.write_text("\n".join(lines) + "\n")
    got = read_inputs(root, ["a", "b"], since=datetime(2026, 1, 2, 13, 1, tzinfo=UTC))
    assert got.records == 3
    assert got.table.columns["a"].values[~got.table.columns["a"].nulls].tolist() == [2.0, 3.0, 4.0]
    assert not got.table.columns["b"].numeric
    assert got.table.columns["b"].values.tolist()[:2] == ["x", "y"]


def test_window_excluding_a_whole_file_is_no_rows_not_a_width_error(tmp_path: Path) -> None:
    root = tmp_path / "dc" / "wine-classifier" / "blue" / "model_inputs" / "2026" / "01" / "02" / "data.jsonl"
    write_records(root, [{"data": [[1.0] * 13]}], ["2026-01-02T01:00:00.000Z"])
    spec = load_monitor(MONITOR_YAML)
    spec.signals = [s for s in spec.signals if s.type == "data_drift"]
    with pytest.raises(DataError, match="no production rows"):
        run_monitor(spec, tmp_path / "dc", None, since=datetime(2026, 1, 2, 5, tzinfo=UTC))


def test_prediction_drift_with_no_outputs_in_window(collect: Collect, tmp_path: Path) -> None:
    root = collect(rows=40)
    spec = load_monitor(MONITOR_YAML)
    spec.signals = [s for s in spec.signals if s.type == "prediction_drift"]
    with pytest.raises(DataError, match=r"no collected (data|outputs)"):
        run_monitor(spec, root, None, until=datetime(2020, 1, 1, tzinfo=UTC))
    now = datetime.now(UTC)
    with pytest.raises(DataError, match="no collected outputs"):
        run_monitor(
            spec,
            root,
            None,
            since=now.replace(hour=0, minute=0, second=0),
            until=now.replace(hour=0, minute=0, second=1),
        )
