"""One cause, one line: azure-ai-ml load errors folded per field (gitops.desired.sdk_errors).

The error texts are not pasted here: each case writes a small broken file (shaped like the
official Azure/azureml-examples files: the sample blue deployment, the custom and advanced
monitors of cli/monitoring/) and lets the installed SDK's own loader fail on it, so the cases
follow the SDK the project runs with.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from gitops.desired.sdk_errors import sdk_error_diagnostics
from gitops.yamlmarks import load_yaml

DEPLOYMENT = """\
$schema: https://azuremlschemas.azureedge.net/latest/managedOnlineDeployment.schema.json
name: blue
endpoint_name: my-endpoint
model: {model}
code_configuration:
  code: code/
  scoring_script: score.py
environment:
  conda_file: {conda}
  image: mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu22.04:latest
instance_type: Standard_DS3_v2
instance_count: {count}
"""

CUSTOM_MONITOR = """\
$schema:  http://azureml/sdk-2-0/Schedule.json
name: my-custom-signal
trigger:
  type: recurrence
  frequency: day
  interval: 7
create_monitor:
  compute:
    instance_type: "standard_e8s_v3"
    runtime_version: "3.4"
  monitoring_signals:
    customSignal:
      type: {type}
      component_id: azureml:my_custom_signal:1.0.0
      input_data:
        test_data_1:
          input_data:
            type: mltable
            path: azureml:Direct:1
          data_context: test
      metric_thresholds:
        - metric_name: std_dev
          threshold: {threshold}
"""

ADVANCED_MONITOR = """\
$schema:  http://azureml/sdk-2-0/Schedule.json
name: fraud_detection_model_monitoring
trigger:
  type: recurrence
  frequency: day
  interval: 1
create_monitor:
  compute:
    instance_type: standard_e4s_v3
    runtime_version: "3.4"
  monitoring_target:
    ml_task: classification
    endpoint_deployment_id: azureml:credit-default:main
  monitoring_signals:
    advanced_data_drift:
      type: data_drift
      reference_data:
        input_data:
          path: azureml:credit-reference:1
          type: mltable
        data_context: training
      features:
        {features_key}: 10
      metric_thresholds:
        numerical:
          jensen_shannon_distance: 0.01
"""


def _deployment(tmp_path: Path, **fields: str) -> Path:
    (tmp_path / "conda.yaml").write_text("name: x\ndependencies: [python=3.10]\n")
    (tmp_path / "model").mkdir(exist_ok=True)
    values = {"model": "\n  path: model/", "conda": "conda.yaml", "count": "1", **fields}
    path = tmp_path / "blue-deployment.yml"
    path.write_text(DEPLOYMENT.format(**values))
    return path


def _custom(tmp_path: Path, **fields: str) -> Path:
    path = tmp_path / "custom-monitoring.yaml"
    path.write_text(CUSTOM_MONITOR.format(**{"type": "custom", "threshold": "2", **fields}))
    return path


def _advanced(tmp_path: Path, **fields: str) -> Path:
    path = tmp_path / "advanced-model-monitoring.yaml"
    path.write_text(ADVANCED_MONITOR.format(**{"features_key": "top_n_feature_importance", **fields}))
    return path


def _load_deployment(path: Path) -> Any:
    from azure.ai.ml import load_online_deployment

    return load_online_deployment(str(path))


def _load_schedule(path: Path) -> Any:
    from azure.ai.ml.entities._load_functions import load_schedule

    return load_schedule(str(path))


Case = tuple[Callable[..., Path], dict[str, str], Callable[[Path], Any], list[tuple[int, str]]]

CASES: dict[str, Case] = {
    # The asset reference union: one line, the parser's own reason, no "1. The full ARM ID" paragraph.
    "model reference without a version separator": (
        _deployment,
        {"model": "azureml:wine/1"},
        _load_deployment,
        [(4, "`model`: Could not parse wine/1. If providing an ARM id, it should start with a '/'.")],
    ),
    "model neither a reference nor inline": (
        _deployment,
        {"model": "wine-model-1"},
        _load_deployment,
        [
            (
                4,
                "`model`: not a model reference nor an inline model: reference a registered model as "
                "azureml:<name>:<version> (or azureml:<name>@latest), or describe it inline",
            )
        ],
    ),
    # The UnionField's "<exception> from <source line> ^^^" becomes the exception alone.
    "inline model path that does not exist": (
        _deployment,
        {"model": "\n  path: no-such-model/"},
        _load_deployment,
        [(4, "`model`: FileNotFoundError: [Errno 2] No such file or directory: '{dir}/no-such-model'")],
    ),
    # A missing conda file is the cause; the other branches' "name: Missing data" is not.
    "conda file that does not exist": (
        _deployment,
        {"conda": "no-such-conda.yaml"},
        _load_deployment,
        [(9, "`environment`: No such file or directory: {dir}/no-such-conda.yaml")],
    ),
    "plain field error stays as it is": (
        _deployment,
        {"count": "many"},
        _load_deployment,
        [(13, "`instance_count`: Not a valid integer.")],
    ),
    # Monitor signals are a union told apart by `type`: only the branch of the declared type speaks.
    "custom signal with a bad threshold": (
        _custom,
        {"threshold": "two"},
        _load_schedule,
        [
            (
                23,
                "`create_monitor.monitoring_signals.customSignal.metric_thresholds.0.threshold`: Not a valid number.",
            )
        ],
    ),
    "signal type no branch takes": (
        _custom,
        {"type": "custum"},
        _load_schedule,
        [
            (
                13,
                "`create_monitor.monitoring_signals.customSignal.type`: 'custum' is not one of: custom, "
                "data_drift, data_quality, feature_attribution_drift, generation_safety_quality, "
                "generation_token_statistics, model_performance, prediction_drift",
            )
        ],
    ),
    # `features` is itself a union (a list, 'all_features', or importance settings): the settings
    # branch took the mapping, so its unknown key is the one cause.
    "advanced monitor with a misspelt feature setting": (
        _advanced,
        {"features_key": "top_n_feature_importanse"},
        _load_schedule,
        [
            (
                23,
                "`create_monitor.monitoring_signals.advanced_data_drift.features.top_n_feature_importanse`: "
                "Unknown field. (not part of the Azure ML schema YAML schema; remove it or fix its spelling)",
            )
        ],
    ),
}


@pytest.mark.parametrize("case", list(CASES), ids=list(CASES))
def test_one_line_per_cause(tmp_path: Path, case: str) -> None:
    write, fields, loader, expected = CASES[case]
    path = write(tmp_path, **fields)
    with pytest.raises(Exception) as info:  # noqa: PT011 - whatever the SDK raises is the input
        loader(path)
    diags = sdk_error_diagnostics(load_yaml(path), info.value, "schema")
    got = [(d.line, d.message) for d in diags]
    assert got == [(line, text.format(dir=tmp_path)) for line, text in expected]
    for d in diags:
        assert "\n" not in d.message
        assert "^^^" not in d.message
        assert d.file == str(path)


def test_valid_files_load(tmp_path: Path) -> None:
    # The fixtures differ from a valid file only by the broken field.
    assert _load_deployment(_deployment(tmp_path)).name == "blue"
    assert _load_schedule(_custom(tmp_path)).name == "my-custom-signal"
    assert _load_schedule(_advanced(tmp_path)).name == "fraud_detection_model_monitoring"
