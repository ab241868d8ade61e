"""Rollouts on the azureml target: the real MLClient against the fake ARM, gates fed by the fake
Azure Monitor metrics batch API through the real azure-monitor-querymetrics MetricsClient."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from fake_arm import LOCATION, FakeArm, FakeCredential
from fake_metrics import FakeMetrics, Series

from gitops import commands
from gitops.rollout.gates import FAIL, PASS, evaluate
from gitops.rollout.providers import MetricsUnavailable
from gitops.rollout.record import RolloutRecord, RolloutStatus
from gitops.rollout.spec import Analysis, Gate
from gitops.targets.azureml import rollout_store
from gitops.targets.azureml.metrics import AzureMonitorProvider

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
    assert "progressive rollout of green" in r.out, r.out
    assert "1. weight 50%: blue 50%, green 50% for 1s" in r.out, r.out
    r = mlops("apply", "--env", "dev", "--auto-approve")
    assert r.code == 0, r.out + r.err
    assert "gates [pass] canary 250 req, baseline 250 req" in r.err, r.err
    assert fake.traffic(EP) == {"green": 100}
    tags = fake.endpoints[EP]["tags"]
    assert _recorded(fake, EP).status == "succeeded"
    assert tags["mlops-managed-by"] == "mlops-gitops"
    sent = [x for x in metrics.log if x["query"].get("metricnames") == "RequestsPerMinute"]
    assert sent
    assert all(x["path"] == f"/{LOCATION}/subscriptions/{SUB}/metrics:getBatch" for x in sent)
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
    assert "ROLLING BACK" in r.err, r.err
    assert "error_ratio 0.087 > 0.02" in r.err, r.err
    assert fake.traffic(EP) == {"green": 100}
    tags = fake.endpoints[EP]["tags"]
    assert _recorded(fake, EP).status == "failed"
    assert "error_ratio" in tags["mlops-rollout-evidence"]
    r = mlops("plan", "--env", "dev", "--detailed-exitcode")
    assert r.code == 2, r.out
    assert "DIVERGED: endpoint/credit-default: rollout" in r.out, r.out
    r = mlops("status", "--env", "dev")
    assert "diverged" in r.out
    assert "evidence:" in r.out


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
    assert broken.verdict == FAIL, broken.evidence()
    assert "error_ratio 0.091 > 0.02" in broken.evidence(), broken.evidence()
    slow = evaluate(analysis, w["blue"], w["slow"])
    assert slow.verdict == FAIL
    assert "latency_p95_ms 480 > 200" in slow.evidence()
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
    assert credential.scopes
    assert all(s == ("https://metrics.monitor.azure.com/.default",) for s in credential.scopes)


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


# --------------------------------------------------------------- long names and a -dirty revision
EP32 = "credit-default-scoring-prod-euw1"  # Azure's maximum endpoint name length
BASE32 = "credit-default-blue-2025-05-v011"
CANARY32 = "credit-default-green-2025-06-v12"
BAD = Series(requests={("200", "200"): [100, 100], ("503", ""): [9, 9]}, p95_ms=[50], p99_ms=[80])


def _recorded(fake: FakeArm, endpoint: str) -> RolloutRecord:
    record = rollout_store.decode(endpoint, fake.endpoints[endpoint]["tags"])
    assert record is not None
    return record


def _long_named_endpoint(envs: Path) -> Path:
    """A copy of credit-default with names at Azure's limits, serving from BASE32 only."""
    src = envs / "dev" / "endpoints" / EP
    dst = envs / "dev" / "endpoints" / EP32
    (dst / "deployments").mkdir(parents=True)
    endpoint = yaml.safe_load((src / "endpoint.yml").read_text())
    endpoint.update(name=EP32, traffic={BASE32: 100})
    (dst / "endpoint.yml").write_text(yaml.safe_dump(endpoint, sort_keys=False))
    for old, new in (("blue", BASE32), ("green", CANARY32)):
        dep = yaml.safe_load((src / "deployments" / f"{old}.yml").read_text())
        dep.update(name=new, endpoint_name=EP32)
        (dst / "deployments" / f"{new}.yml").write_text(yaml.safe_dump(dep, sort_keys=False))
    (dst / "rollout.yml").write_text((src / "rollout.yml").read_text())
    return dst


def _git(cwd: Path, *args: str) -> None:
    ident = ["-c", "user.name=t", "-c", "user.email=t@example.invalid", "-c", "commit.gpgsign=false"]
    subprocess.run(["git", *ident, *args], cwd=cwd, check=True, capture_output=True)


def test_long_names_rolled_back_stay_diverged_and_are_not_retried(
    wired, fake: FakeArm, metrics: FakeMetrics, envs: Path
):  # type: ignore[no-untyped-def]
    mlops = wired
    ep_dir = _long_named_endpoint(envs)
    _git(envs, "init", "-q")
    _git(envs, "add", ".")
    _git(envs, "commit", "-q", "-m", "environments")
    r = mlops("apply", "--env", "dev", "--auto-approve")
    assert r.code == 0, r.out + r.err
    assert fake.traffic(EP32) == {BASE32: 100}

    # An uncommitted change makes the revision "<12 hex>-dirty": the longest the record carries.
    metrics.set(EP32, BASE32, GOOD)
    metrics.set(EP32, CANARY32, BAD)
    data = yaml.safe_load((ep_dir / "endpoint.yml").read_text())
    data["traffic"] = {CANARY32: 100}
    (ep_dir / "endpoint.yml").write_text(yaml.safe_dump(data, sort_keys=False))
    r = mlops("apply", "--env", "dev", "--auto-approve")
    assert r.code == 1, r.out + r.err
    assert "ROLLING BACK" in r.err, r.err
    assert fake.traffic(EP32) == {BASE32: 100}

    tags = fake.endpoints[EP32]["tags"]
    assert len(tags) <= 50
    assert all(len(v) <= 256 for v in tags.values()), tags
    assert int(tags["mlops-rollout"].split()[1].removeprefix("n=")) >= 2  # one value could not hold it
    record = _recorded(fake, EP32)
    assert (record.status, record.canary, record.baseline) == ("failed", CANARY32, (BASE32,))
    assert record.revision.endswith("-dirty"), record.revision
    assert len(record.revision) == len("0123456789ab-dirty"), record.revision
    assert record.previous_traffic == {BASE32: 100}
    assert "error_ratio" in record.evidence

    r = mlops("plan", "--env", "dev", "--detailed-exitcode")
    assert r.code == 2, r.out + r.err
    assert f"DIVERGED: endpoint/{EP32}: rollout {record.id} of {CANARY32} was rolled back" in r.out, r.out

    mark = len(fake.log)
    r = mlops("apply", "--env", "dev", "--auto-approve")
    assert r.code == 1, r.out + r.err
    assert "DIVERGED" in r.out + r.err
    assert "ROLLING BACK" not in r.err
    assert [w.path for w in fake.writes(mark) if EP32 in w.path] == []  # not retried, not touched
    assert fake.traffic(EP32) == {BASE32: 100}
    assert _recorded(fake, EP32) == record

    # An endpoint update (a new description) carries the record's tags over, all of them.
    data["description"] = "long names, updated"
    (ep_dir / "endpoint.yml").write_text(yaml.safe_dump(data, sort_keys=False))
    mark = len(fake.log)
    r = mlops("apply", "--env", "dev", "--auto-approve")
    assert any(EP32 in w.path for w in fake.writes(mark)), r.out + r.err
    assert "ROLLING BACK" not in r.err
    assert fake.endpoints[EP32]["properties"]["description"] == "long names, updated"
    assert _recorded(fake, EP32) == record
    r = mlops("plan", "--env", "dev")
    assert f"DIVERGED: endpoint/{EP32}" in r.out, r.out


def test_a_damaged_record_stops_plan_with_what_to_do(wired, fake: FakeArm, envs: Path):  # type: ignore[no-untyped-def]
    mlops = wired
    assert mlops("apply", "--env", "dev", "--auto-approve").code == 0
    tags = fake.endpoints[EP]["tags"]
    tags.update(
        rollout_store.encode(
            RolloutRecord(id="x", canary=CANARY32, status=RolloutStatus.FAILED, steps=("final",))
        )
    )
    tags[rollout_store.chunk_tag(0)] = tags[rollout_store.chunk_tag(0)][:-1]
    r = mlops("plan", "--env", "dev")
    assert r.code == 1, r.out + r.err
    assert f"endpoint {EP}: tag mlops-rollout: the rollout progress record cannot be read" in r.out + r.err
    assert "Traceback" not in r.err


def test_user_tags_leaving_no_room_for_the_record_stop_the_rollout_before_traffic_moves(
    wired, fake: FakeArm, metrics: FakeMetrics, envs: Path
):  # type: ignore[no-untyped-def]
    mlops = wired
    path = envs / "dev" / "endpoints" / EP / "endpoint.yml"
    data = yaml.safe_load(path.read_text())
    data["tags"] = {f"team-{i:02d}": "x" for i in range(42)}
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    assert mlops("apply", "--env", "dev", "--auto-approve").code == 0
    assert len(fake.endpoints[EP]["tags"]) > 42  # the user's and the tool's own

    metrics.set(EP, "blue", GOOD)
    metrics.set(EP, "green", GOOD)
    _traffic(envs, {"green": 100})
    r = mlops("apply", "--env", "dev", "--auto-approve")
    assert r.code == 1, r.out + r.err
    assert f"endpoint {EP}: the rollout record of green needs up to" in r.out + r.err
    assert "no traffic was moved" in r.out + r.err
    assert fake.traffic(EP) == {"blue": 90, "green": 10}
    assert not [k for k in fake.endpoints[EP]["tags"] if k.startswith("mlops-rollout")]
