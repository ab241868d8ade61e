"""Rollouts on the azureml target: the real MLClient against the fake ARM, gates fed by the fake
Azure Monitor metrics API through the real azure-core pipeline (bearer token, retries, TLS)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from fake_arm import FakeArm, FakeCredential
from fake_metrics import FakeMetrics, Series

from gitops import commands
from gitops.rollout.gates import FAIL, PASS, evaluate
from gitops.rollout.providers import AzureMonitorProvider
from gitops.rollout.spec import Analysis, Gate

EP = "credit-default"
GOOD = Series(requests={("200", "200"): [120, 130]}, p95_ms=[40, 45], p99_ms=[60, 70])


@pytest.fixture
def metrics() -> Iterator[FakeMetrics]:
    m = FakeMetrics()
    try:
        yield m
    finally:
        m.close()


@pytest.fixture
def wired(mlops, metrics: FakeMetrics, envs: Path):  # type: ignore[no-untyped-def]
    commands.TARGET_OPTIONS["metrics_options"] = {
        "arm_url": metrics.url,
        "connection_verify": str(metrics.ca_path),
    }
    ep_dir = envs / "dev" / "endpoints" / EP
    (ep_dir / "rollout.yml").write_text(
        "steps:\n  - {weight: 50, duration: 1s}\n"
        "analysis:\n  interval: 300ms\n  min_requests: 50\n  failure_limit: 2\n"
        "  error_ratio: {max: 0.02, max_increase: 0.01}\n  latency_p95_ms: {max: 200, max_ratio: 2}\n"
    )
    return mlops


def _traffic(envs: Path, traffic: dict[str, int]) -> None:
    path = envs / "dev" / "endpoints" / EP / "endpoint.yml"
    data = yaml.safe_load(path.read_text())
    data["traffic"] = traffic
    path.write_text(yaml.safe_dump(data, sort_keys=False))


def test_canary_passes_then_bad_canary_rolls_back_from_tags(
    wired, fake: FakeArm, metrics: FakeMetrics, envs: Path
):  # type: ignore[no-untyped-def]
    mlops = wired
    r = mlops("apply", "--env", "dev", "--auto-approve")
    assert r.code == 0, r.err
    assert fake.traffic(EP) == {"blue": 90, "green": 10}

    metrics.set(EP, "blue", GOOD)
    metrics.set(EP, "green", GOOD)
    _traffic(envs, {"green": 100})
    r = mlops("plan", "--env", "dev")
    assert "progressive rollout of green" in r.out and "1. weight 50%: blue 50%, green 50% for 1s" in r.out, (
        r.out
    )
    r = mlops("apply", "--env", "dev", "--auto-approve")
    assert r.code == 0, r.out + r.err
    assert "gates [pass] canary 250 req, baseline 250 req" in r.err, r.err
    assert fake.traffic(EP) == {"green": 100}
    tags = fake.endpoints[EP]["tags"]
    assert '"status":"succeeded"' in tags["mlops-rollout"] and tags["managed-by"] == "mlops-gitops"
    assert any(
        x.get("metricnames") == "RequestsPerMinute" and "deployment eq '*'" in x["$filter"]
        for x in metrics.log
    )

    # blue comes back with a change, and its metrics show 5xx and model errors: rolled back.
    dep = envs / "dev" / "endpoints" / EP / "deployments" / "blue.yml"
    data = yaml.safe_load(dep.read_text())
    data["description"] = "blue, retrained"
    dep.write_text(yaml.safe_dump(data, sort_keys=False))
    metrics.set(
        EP,
        "blue",
        Series(
            requests={("200", "200"): [100, 100], ("503", ""): [5, 6], ("424", "500"): [4, 4]},
            p95_ms=[50],
            p99_ms=[80],
        ),
    )
    _traffic(envs, {"blue": 100})
    r = mlops("apply", "--env", "dev", "--auto-approve")
    assert r.code == 1, r.out + r.err
    assert "ROLLING BACK" in r.err and "error_ratio 0.087 > 0.02" in r.err, r.err
    assert fake.traffic(EP) == {"green": 100}
    tags = fake.endpoints[EP]["tags"]
    assert '"status":"failed"' in tags["mlops-rollout"] and "error_ratio" in tags["mlops-rollout-evidence"]
    r = mlops("plan", "--env", "dev", "--detailed-exitcode")
    assert r.code == 2 and "DIVERGED: endpoint/credit-default: rollout" in r.out, r.out
    r = mlops("status", "--env", "dev")
    assert "diverged" in r.out and "evidence:" in r.out


def test_same_gate_decisions_from_injected_azure_series(metrics: FakeMetrics) -> None:
    provider = AzureMonitorProvider(
        "00000000-0000-0000-0000-000000000000",
        "rg",
        "ws",
        credential=FakeCredential(),
        arm_url=metrics.url,
        connection_verify=str(metrics.ca_path),
    )
    analysis = Analysis(
        min_requests=50, error_ratio=Gate(max=0.02, relative=0.01), latency_p95_ms=Gate(max=200, relative=2)
    )
    metrics.set("ep", "blue", GOOD)
    metrics.set("ep", "slow", Series(requests={("200", "200"): [100, 100]}, p95_ms=[150, 480], p99_ms=[900]))
    metrics.set("ep", "few", Series(requests={("200", "200"): [10]}, p95_ms=[10]))
    metrics.set(
        "ep", "bad-input", Series(requests={("200", "200"): [100], ("424", "400"): [30]}, p95_ms=[30])
    )
    w = provider.windows("ep", ["blue", "slow", "few", "bad-input"], 0.0)
    assert (w["blue"].requests, w["blue"].errors, w["blue"].p95_ms) == (250, 0, 45)
    slow = evaluate(analysis, w["blue"], w["slow"])
    assert slow.verdict == FAIL and "latency_p95_ms 480 > 200" in slow.evidence()
    assert "latency_p95_ms 480 / baseline 45 > 2x" in slow.evidence()
    assert evaluate(analysis, w["blue"], w["few"]).verdict == "inconclusive"
    # A model's 4xx (bad input) is not the model failing.
    assert evaluate(analysis, w["blue"], w["bad-input"]).verdict == PASS
    assert all(x.get("api-version") and x.get("interval") == "PT1M" for x in metrics.log)
