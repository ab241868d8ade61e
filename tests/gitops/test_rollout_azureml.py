"""Rollouts on the azureml target: the real MLClient against the fake ARM, gates fed by the fake
Azure Monitor metrics batch API through the real azure-monitor-querymetrics MetricsClient."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from fake_arm import LOCATION, FakeArm, FakeCredential
from fake_metrics import FakeMetrics, Series

from gitops import commands
from gitops.rollout.gates import FAIL, PASS, evaluate
from gitops.rollout.providers import AzureMonitorProvider, MetricsUnavailable
from gitops.rollout.spec import Analysis, Gate

EP = "credit-default"
SUB = "00000000-0000-0000-0000-000000000000"
GOOD = Series(requests={("200", "200"): [120, 130]}, p95_ms=[40, 45], p99_ms=[60, 70])


@pytest.fixture
def metrics() -> Iterator[FakeMetrics]:
    m = FakeMetrics(region=LOCATION)
    try:
        yield m
    finally:
        m.close()


@pytest.fixture
def wired(mlops, metrics: FakeMetrics, envs: Path):  # type: ignore[no-untyped-def]
    commands.TARGET_OPTIONS["metrics_options"] = {
        # The path segment stands in for the regional host name, which the target fills in from
        # the endpoint's location in Azure ML.
        "metrics_endpoint": metrics.url + "/{location}",
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
    sent = [x for x in metrics.log if x["query"].get("metricnames") == "RequestsPerMinute"]
    assert sent and all(x["path"] == f"/{LOCATION}/subscriptions/{SUB}/metrics:getBatch" for x in sent)
    assert sent[0]["body"] == {
        "resourceids": [
            f"/subscriptions/{SUB}/resourceGroups/rg-mlops-dev/providers/Microsoft.MachineLearningServices"
            f"/workspaces/mlw-mlops-dev/onlineEndpoints/{EP}"
        ]
    }
    assert sent[0]["query"]["filter"] == "deployment eq '*' and statusCode eq '*' and modelStatusCode eq '*'"

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


class ScopeRecorder(FakeCredential):
    def __init__(self) -> None:
        self.scopes: list[tuple[str, ...]] = []

    def get_token(self, *scopes: str, **kwargs: Any) -> Any:
        self.scopes.append(scopes)
        return super().get_token(*scopes, **kwargs)

    def get_token_info(self, *scopes: str, options: Any = None) -> Any:
        self.scopes.append(scopes)
        return super().get_token_info(*scopes, options=options)


def _provider(metrics: FakeMetrics, credential: Any = None, **kwargs: Any) -> AzureMonitorProvider:
    return AzureMonitorProvider(
        SUB,
        "rg",
        "ws",
        credential=credential or FakeCredential(),
        connection_verify=str(metrics.ca_path),
        clock=lambda: 1_800_000_000.0,
        **kwargs,
    )


def test_same_gate_decisions_from_injected_azure_series(metrics: FakeMetrics) -> None:
    credential = ScopeRecorder()
    provider = _provider(metrics, credential, metrics_endpoint=metrics.url)
    analysis = Analysis(
        min_requests=50, error_ratio=Gate(max=0.02, relative=0.01), latency_p95_ms=Gate(max=200, relative=2)
    )
    metrics.set("ep", "blue", GOOD)
    metrics.set("ep", "slow", Series(requests={("200", "200"): [100, 100]}, p95_ms=[150, 480], p99_ms=[900]))
    metrics.set("ep", "few", Series(requests={("200", "200"): [10]}, p95_ms=[10]))
    metrics.set(
        "ep", "bad-input", Series(requests={("200", "200"): [100], ("424", "400"): [30]}, p95_ms=[30])
    )
    metrics.set(
        "ep",
        "broken",
        Series(
            requests={
                ("200", "200"): [100, 100],
                ("503", ""): [5, 6],
                ("424", "500"): [4, 4],
                ("408", ""): [1],
            },
            p95_ms=[50],
        ),
    )
    metrics.set("other-ep", "blue", Series(requests={("500", ""): [999]}, p95_ms=[999]))
    w = provider.windows("ep", ["blue", "slow", "few", "bad-input", "broken", "absent"], 1_799_999_880.0)
    assert (w["blue"].requests, w["blue"].errors, w["blue"].p95_ms, w["blue"].p99_ms) == (250, 0, 45, 70)
    assert (w["broken"].requests, w["broken"].errors) == (220, 20)
    assert (w["absent"].requests, w["absent"].p95_ms) == (0, None)
    broken = evaluate(analysis, w["blue"], w["broken"])
    assert broken.verdict == FAIL and "error_ratio 0.091 > 0.02" in broken.evidence(), broken.evidence()
    slow = evaluate(analysis, w["blue"], w["slow"])
    assert slow.verdict == FAIL and "latency_p95_ms 480 > 200" in slow.evidence()
    assert "latency_p95_ms 480 / baseline 45 > 2x" in slow.evidence()
    assert evaluate(analysis, w["blue"], w["few"]).verdict == "inconclusive"
    # A model's 4xx (bad input) is not the model failing.
    assert (w["bad-input"].requests, w["bad-input"].errors) == (130, 0)
    assert evaluate(analysis, w["blue"], w["bad-input"]).verdict == PASS

    # What the client library put on the wire.
    assert [x["query"]["metricnames"] for x in metrics.log] == [
        "RequestsPerMinute",
        "RequestLatency_P95,RequestLatency_P99",
    ]
    requests, latency = metrics.log
    assert requests["path"] == f"/subscriptions/{SUB}/metrics:getBatch"
    assert requests["body"] == {
        "resourceids": [
            f"/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.MachineLearningServices"
            "/workspaces/ws/onlineEndpoints/ep"
        ]
    }
    assert requests["query"]["filter"] == "deployment eq '*' and statusCode eq '*' and modelStatusCode eq '*'"
    assert latency["query"]["filter"] == "deployment eq '*'"
    assert (requests["query"]["aggregation"], latency["query"]["aggregation"]) == ("Total", "Average")
    assert (
        requests["query"]["metricnamespace"] == "Microsoft.MachineLearningServices/workspaces/onlineEndpoints"
    )
    assert requests["query"]["interval"] == "PT1M"
    assert requests["query"]["starttime"].startswith("2027-01-15T07:58:00")
    assert requests["query"]["endtime"].startswith("2027-01-15T08:00:00")
    assert requests["headers"]["Authorization"] == "Bearer fake-token"
    assert credential.scopes and all(
        s == ("https://metrics.monitor.azure.com/.default",) for s in credential.scopes
    )


def test_many_status_codes_are_not_cut_at_the_services_default_top(metrics: FakeMetrics) -> None:
    # 15 status/model-code pairs: the service's default of 10 series would drop some requests.
    codes = {(str(200 + i), "200"): [10.0] for i in range(15)}
    metrics.set("ep", "blue", Series(requests=codes, p95_ms=[10]))
    w = _provider(metrics, metrics_endpoint=metrics.url).windows("ep", ["blue"], 1_799_999_940.0)
    assert w["blue"].requests == 150
    assert int(metrics.log[0]["query"]["top"]) >= 15


def test_region_comes_from_the_endpoint_location(metrics: FakeMetrics) -> None:
    asked: list[str] = []

    def locate(endpoint: str) -> str:
        asked.append(endpoint)
        return "East US"  # ARM's display form; the metrics host wants "eastus"

    metrics.set("ep", "blue", GOOD)
    provider = _provider(metrics, locate=locate, metrics_endpoint=metrics.url + "/{location}")
    provider.windows("ep", ["blue"], 1_799_999_940.0)
    provider.windows("ep", ["blue"], 1_799_999_940.0)
    assert asked == ["ep"]  # looked up once per endpoint
    assert {x["path"] for x in metrics.log} == {f"/eastus/subscriptions/{SUB}/metrics:getBatch"}

    with pytest.raises(MetricsUnavailable, match="needs the region"):
        _provider(metrics, metrics_endpoint=metrics.url + "/{location}").windows("ep", ["blue"], 0.0)


def test_service_errors_become_metrics_unavailable(metrics: FakeMetrics) -> None:
    provider = _provider(
        metrics, locate=lambda ep: "westeurope", metrics_endpoint=metrics.url + "/{location}"
    )
    with pytest.raises(MetricsUnavailable, match="resources of eastus asked at westeurope"):
        provider.windows("ep", ["blue"], 1_799_999_940.0)
