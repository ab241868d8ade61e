"""Production data windows (data_window / --since), workspace-asset production data, data segments."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from gitops.errors import InputErrors
from gitops.monitoring.run import run_monitor
from gitops.monitoring.spec import load_monitor, parse_duration

from .conftest import SAMPLE, write_records

HEADER = """name: seg
trigger: {{type: recurrence, frequency: day, interval: 1}}
create_monitor:
  compute: {{instance_type: standard_e4s_v3, runtime_version: "3.4"}}
  monitoring_target: {{ml_task: classification, endpoint_deployment_id: "azureml:ep:d"}}
  monitoring_signals:
    drift:
      type: data_drift
      reference_data:
        input_data: {{path: ./ref.csv, type: uri_file}}
        data_context: training
{extra}      metric_thresholds:
        numerical: {{normalized_wasserstein_distance: 0.3}}
"""


def _monitor(tmp_path: Path, extra: str = "") -> Path:
    (tmp_path / "ref.csv").write_text(
        "color,size\n" + "".join(f"{'red' if i % 2 else 'blue'},{10 + i % 10}\n" for i in range(200))
    )
    path = tmp_path / "monitor.yml"
    path.write_text(HEADER.format(extra=extra))
    return path


def _collect(tmp_path: Path, rows: list[list[object]], when: datetime) -> Path:
    root = tmp_path / "dc"
    day = root / "ep" / "d" / "model_inputs" / f"{when:%Y/%m/%d}" / "data.jsonl"
    stamp = when.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    existing = day.read_text() if day.exists() else ""
    write_records(day, [{"data": rows}], [stamp])
    day.write_text(existing + day.read_text())
    return root


def test_parse_duration() -> None:
    assert parse_duration("P7D") == timedelta(days=7)
    assert parse_duration("PT12H30M") == timedelta(hours=12, minutes=30)
    assert parse_duration("P1W") == timedelta(weeks=1)
    for bad in ("P", "7D", "P1M2Y", "PT"):
        with pytest.raises(ValueError, match="is not an ISO 8601 duration"):
            parse_duration(bad)


def test_lookback_window_selects_recent_traffic(tmp_path: Path) -> None:
    extra = (
        "      production_data:\n        input_data: {path: azureml:ep-d-model_inputs:1, type: uri_folder}\n"
        "        data_context: model_inputs\n        data_window: {lookback_window_size: PT1H}\n"
    )
    spec = load_monitor(_monitor(tmp_path, extra))
    now = datetime.now(UTC)
    old = [["red", 100.0]] * 50  # shifted, but three hours old: outside the window
    fresh = [["red" if i % 2 else "blue", 10.0 + i % 10] for i in range(50)]
    _collect(tmp_path, old, now - timedelta(hours=3))
    root = _collect(tmp_path, fresh, now - timedelta(minutes=5))
    result = run_monitor(spec, root, None)
    (sig,) = result.signals
    assert sig.production_rows == 50
    assert not sig.breached
    assert any("workspace asset" in n for n in sig.notes)
    # An explicit --since wins over the YAML window and brings the old, shifted rows back.
    wide = run_monitor(spec, root, None, since=now - timedelta(days=1))
    assert wide.signals[0].production_rows == 100
    assert wide.signals[0].breached


def test_bad_lookback_is_a_file_line_error(tmp_path: Path) -> None:
    extra = (
        "      production_data:\n        input_data: {path: azureml:x:1, type: uri_folder}\n"
        "        data_context: model_inputs\n        data_window: {lookback_window_size: 7 days}\n"
    )
    path = _monitor(tmp_path, extra)
    with pytest.raises(InputErrors) as exc:
        load_monitor(path)
    (diag,) = exc.value.diagnostics
    line = next(i for i, text in enumerate(path.read_text().splitlines(), 1) if "7 days" in text)
    assert diag.line == line
    assert "not an ISO 8601 duration" in diag.message


def test_data_segment_compares_only_matching_rows(tmp_path: Path) -> None:
    extra = "      data_segment: {feature_name: color, feature_values: [red]}\n"
    spec = load_monitor(_monitor(tmp_path, extra))
    now = datetime.now(UTC)
    # Blue rows drift a lot, red rows do not: the red segment must not breach.
    rows = [["red", 10.0 + i % 10] for i in range(40)] + [["blue", 500.0] for _ in range(40)]
    root = _collect(tmp_path, rows, now)
    (sig,) = run_monitor(spec, root, None).signals
    assert sig.reference_rows == 100
    assert sig.production_rows == 40
    assert not sig.breached
    spec.signals[0].segment = ("color", ["blue"])
    (sig,) = run_monitor(spec, root, None).signals
    assert sig.breached
    assert [f.feature for f in sig.features if f.breaches] == ["size"]


def test_sample_reference_is_the_training_split() -> None:
    lines = (SAMPLE / "reference.csv").read_text().splitlines()
    assert len(lines) == 1 + 133
    assert lines[0].endswith(",prediction")
