"""Monitor schedules through the real azure-ai-ml MLClient against the fake ARM: create with
signals and thresholds, update a threshold, re-enable a disabled monitor, delete, ordering after
the target deployment, and validation of a monitor whose target is missing."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from fake_arm import FakeArm

MONITOR = """$schema: http://azureml/sdk-2-0/Schedule.json
name: credit-default-blue-monitor
trigger:
  type: recurrence
  frequency: day
  interval: 1
  schedule:
    hours: 3
    minutes: 15
create_monitor:
  compute:
    instance_type: standard_e4s_v3
    runtime_version: "3.4"
  monitoring_target:
    ml_task: classification
    endpoint_deployment_id: azureml:credit-default:blue
  monitoring_signals:
    drift:
      type: data_drift
      reference_data:
        input_data:
          path: azureml:credit-reference:1
          type: mltable
        data_context: training
      features: [LIMIT_BAL, AGE]
      metric_thresholds:
        numerical:
          jensen_shannon_distance: {jsd}
        categorical:
          pearsons_chi_squared_test: 0.02
      alert_enabled: true
  alert_notification:
    emails:
      - ml-oncall@example.com
"""


def monitor_file(envs: Path) -> Path:
    return envs / "dev" / "monitors" / "credit-default-blue.yml"


def signal_thresholds(fake: FakeArm, name: str = "credit-default-blue-monitor") -> Any:
    props = fake.schedules[name]["properties"]
    signals = props["action"]["monitorDefinition"]["signals"]
    return signals["drift"]["metricThresholds"]


def thresholds_by_type(fake: FakeArm) -> dict[str, float]:
    return {t["dataType"]: t["threshold"]["value"] for t in signal_thresholds(fake)}


def test_create_update_thresholds_and_delete(mlops, fake: FakeArm, envs: Path):
    monitor_file(envs).write_text(MONITOR.format(jsd=0.01))
    r = mlops("apply", "--env", "dev", "--auto-approve", "--output", "json")
    assert r.code == 0, r.err
    kinds = [a["kind"] for a in r.json()["results"]]
    # The schedule is created only after the deployment it watches (which collects data) exists.
    assert kinds.index("create_monitor") > kinds.index("create_deployment")
    assert thresholds_by_type(fake) == {"Numerical": 0.01, "Categorical": 0.02}
    props = fake.schedules["credit-default-blue-monitor"]["properties"]
    alert = props["action"]["monitorDefinition"]["alertNotificationSetting"]
    assert alert["emailNotificationSetting"]["emails"] == ["ml-oncall@example.com"]

    monitor_file(envs).write_text(MONITOR.format(jsd=0.05))
    r = mlops("plan", "--env", "dev", "--format", "json")
    assert r.code == 0, r.err
    actions = [a for a in r.json()["actions"] if a["resource"] == "monitor/credit-default-blue-monitor"]
    assert [a["kind"] for a in actions] == ["update_monitor"], actions
    # The reviewer sees which threshold moved, not only that the spec hash changed.
    fields = {d["field"] if isinstance(d, dict) else d[0]: d for d in actions[0]["diff"]}
    assert "signals.drift.metric_thresholds.numerical.jensen_shannon_distance" in fields, actions[0]["diff"]
    mark = len(fake.log)
    assert mlops("apply", "--env", "dev", "--auto-approve").code == 0
    assert thresholds_by_type(fake)["Numerical"] == 0.05
    writes = [w.path for w in fake.writes(mark)]
    assert len(writes) == 1
    assert writes[0].split("?")[0].endswith("/schedules/credit-default-blue-monitor")

    r = mlops("plan", "--env", "dev", "--detailed-exitcode")
    assert r.code == 0, r.out + r.err

    monitor_file(envs).unlink()
    r = mlops("apply", "--env", "dev", "--auto-approve", "--output", "json")
    assert r.code == 0, r.err
    assert [a["kind"] for a in r.json()["results"]] == ["delete_monitor"]
    assert "credit-default-blue-monitor" not in fake.schedules


def test_disabled_monitor_is_enabled_again(mlops, fake: FakeArm):
    assert mlops("apply", "--env", "dev", "--auto-approve").code == 0
    fake.schedules["credit-default-blue-monitor"]["properties"]["isEnabled"] = (
        False  # someone clicked Disable
    )
    r = mlops("plan", "--env", "dev", "--format", "json")
    actions = [a for a in r.json()["actions"] if a["resource"] == "monitor/credit-default-blue-monitor"]
    assert [a["kind"] for a in actions] == ["enable_monitor"]
    assert mlops("apply", "--env", "dev", "--auto-approve").code == 0
    assert fake.schedules["credit-default-blue-monitor"]["properties"]["isEnabled"] is True


def test_monitor_with_missing_target_is_a_validation_error(mlops, fake: FakeArm, envs: Path):
    text = MONITOR.format(jsd=0.01).replace("azureml:credit-default:blue", "azureml:credit-default:purple")
    monitor_file(envs).write_text(text)
    r = mlops("validate", "--env", "dev")
    assert r.code == 1
    assert re.search(
        r"monitors/credit-default-blue\.yml:\d+: monitor targets deployment 'purple', which is not declared",
        r.err,
    )
    r = mlops("apply", "--env", "dev", "--auto-approve")
    assert r.code == 1
    assert fake.schedules == {}
    assert fake.endpoints == {}


def test_bad_monitor_yaml_names_field_and_line(mlops, envs: Path):
    text = MONITOR.format(jsd=0.01).replace(
        "          jensen_shannon_distance: 0.01", "          jensen_shanon: 0.01"
    )
    monitor_file(envs).write_text(text)
    line = next(i for i, t in enumerate(text.splitlines(), 1) if "jensen_shanon" in t)
    r = mlops("validate", "--env", "dev")
    assert r.code == 1
    assert re.search(
        rf"monitors/credit-default-blue\.yml:{line}: `[^`]*jensen_shanon`: Unknown field", r.err
    ), r.err
