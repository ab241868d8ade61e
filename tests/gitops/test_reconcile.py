"""End-to-end: the real azure-ai-ml MLClient over HTTPS against the fake ARM."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import yaml
from fake_arm import FakeArm

from gitops.desired import MANAGED_BY_VALUE, TAG_ENVIRONMENT, TAG_MANAGED_BY
from mlops.cli import main


def edit(path: Path, **changes: object) -> None:
    data = yaml.safe_load(path.read_text())
    for key, value in changes.items():
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
    path.write_text(yaml.safe_dump(data, sort_keys=False))


def ep_file(envs: Path, ep: str, env: str = "dev") -> Path:
    return envs / env / "endpoints" / ep / "endpoint.yml"


def dep_file(envs: Path, ep: str, dep: str, env: str = "dev") -> Path:
    return envs / env / "endpoints" / ep / "deployments" / f"{dep}.yml"


def test_first_apply_from_empty_then_plan_is_empty(mlops, fake: FakeArm):
    r = mlops("apply", "--env", "dev", "--auto-approve", "--output", "json")
    assert r.code == 0, r.err
    body = r.json()
    assert body["status"] == "applied"
    assert {x["status"] for x in body["results"]} == {"ok"}
    assert fake.traffic("credit-default") == {"blue": 90, "green": 10}
    assert fake.traffic("churn-score") == {"main": 100}
    tags = fake.endpoints["credit-default"]["tags"]
    assert tags[TAG_MANAGED_BY] == MANAGED_BY_VALUE
    assert tags[TAG_ENVIRONMENT] == "dev"
    assert "git-revision" in tags
    assert fake.deployments[("credit-default", "green")]["tags"][TAG_MANAGED_BY] == MANAGED_BY_VALUE
    assert "credit-default-blue-monitor" in fake.schedules
    # Deployments were created before any traffic pointed at them (the fake refuses otherwise),
    # and the endpoint PUT that created it carried no traffic.
    kinds = [a["kind"] for a in body["results"]]
    assert kinds.index("set_traffic") > max(i for i, k in enumerate(kinds) if k == "create_deployment")

    mark = len(fake.log)
    r = mlops("plan", "--env", "dev", "--detailed-exitcode")
    assert r.code == 0, r.out + r.err
    assert "No changes" in r.out
    assert fake.writes(mark) == []
    reads = fake.counts(mark)
    assert reads["GET"] <= len(fake.endpoints) + 2


def test_blue_green_traffic_change(mlops, fake: FakeArm, envs: Path):
    assert mlops("apply", "--env", "dev", "--auto-approve").code == 0
    edit(ep_file(envs, "credit-default"), traffic={"blue": 20, "green": 80})
    r = mlops("plan", "--env", "dev", "--detailed-exitcode")
    assert r.code == 2
    assert "set_traffic" in r.out
    assert '{"blue": 90, "green": 10} -> {"blue": 20, "green": 80}' in r.out
    assert "deployment/" not in r.out  # nothing else changes
    mark = len(fake.log)
    assert mlops("apply", "--env", "dev", "--auto-approve").code == 0
    assert fake.traffic("credit-default") == {"blue": 20, "green": 80}
    assert [w.path.rsplit("/", 1)[-1] for w in fake.writes(mark)] == ["credit-default"]


def test_failed_green_never_gets_traffic_and_other_endpoints_continue(mlops, fake: FakeArm, envs: Path):
    green = dep_file(envs, "credit-default", "green")
    saved_green = green.read_text()
    green.unlink()
    edit(ep_file(envs, "credit-default"), traffic={"blue": 100})
    assert mlops("apply", "--env", "dev", "--auto-approve").code == 0

    green.write_text(saved_green)
    edit(ep_file(envs, "credit-default"), traffic={"blue": 90, "green": 10})
    edit(dep_file(envs, "churn-score", "main"), instance_count=2)
    fake.failing_deployments.add("credit-default/green")
    r = mlops("apply", "--env", "dev", "--auto-approve", "--output", "json")
    assert r.code == 1
    results = {x["resource"]: x for x in r.json()["results"]}
    assert results["deployment/credit-default/green"]["status"] == "failed"
    assert "DeploymentFailed" in results["deployment/credit-default/green"]["message"]
    assert results["endpoint/credit-default"]["status"] == "skipped"  # the traffic change
    assert results["deployment/churn-score/main"]["status"] == "ok"
    assert fake.traffic("credit-default") == {"blue": 100}
    assert fake.deployments[("churn-score", "main")]["sku"]["capacity"] == 2

    s = mlops("status", "--env", "dev", "--output", "json", "--detailed-exitcode")
    assert s.code == 2
    assert s.json()["status"] == "failed"
    assert s.json()["failed"] == ["deployment/credit-default/green"]

    fake.failing_deployments.clear()
    assert mlops("apply", "--env", "dev", "--auto-approve").code == 0
    assert fake.traffic("credit-default") == {"blue": 90, "green": 10}
    assert mlops("plan", "--env", "dev", "--detailed-exitcode").code == 0


def test_429_and_500_storms_are_retried(mlops, fake: FakeArm):
    fake.inject(429, count=12, every=2, retry_after_ms=20)
    fake.inject(500, count=4, method="PUT", every=2)
    r = mlops("apply", "--env", "dev", "--auto-approve")
    assert r.code == 0, r.err
    statuses = [x.status for x in fake.log]
    assert statuses.count(429) == 12
    assert statuses.count(500) == 4
    assert mlops("plan", "--env", "dev", "--detailed-exitcode").code == 0


def test_interrupted_apply_then_rerun_converges(mlops, fake: FakeArm):
    # Every write to credit-default's deployments fails until the "outage" ends, so the first run
    # stops half way (endpoint created, no deployments, no traffic).
    fault = fake.inject(503, count=10_000, method="PUT", pattern="credit-default/deployments")
    r = mlops("apply", "--env", "dev", "--auto-approve", "--output", "json")
    assert r.code == 1
    assert "credit-default" in fake.endpoints
    assert fake.traffic("credit-default") == {}
    assert fake.traffic("churn-score") == {"main": 100}
    fault.remaining = 0
    r = mlops("plan", "--env", "dev")
    assert "create_endpoint" not in r.out
    assert "create_deployment" in r.out
    assert mlops("apply", "--env", "dev", "--auto-approve").code == 0
    assert fake.traffic("credit-default") == {"blue": 90, "green": 10}
    assert mlops("plan", "--env", "dev", "--detailed-exitcode").code == 0


def test_deployment_left_mid_provisioning_is_resumed(mlops, fake: FakeArm):
    assert mlops("apply", "--env", "dev", "--auto-approve").code == 0
    # As if a previous apply was killed while Azure was still provisioning.
    fake.deployments[("churn-score", "main")]["properties"]["provisioningState"] = "Updating"
    r = mlops("plan", "--env", "dev", "--detailed-exitcode")
    assert r.code == 2
    assert "provisioning state is Updating" in r.out
    assert mlops("apply", "--env", "dev", "--auto-approve").code == 0
    assert fake.deployments[("churn-score", "main")]["properties"]["provisioningState"] == "Succeeded"


def test_prune_deletes_only_owned_resources(mlops, fake: FakeArm, envs: Path):
    assert mlops("apply", "--env", "dev", "--auto-approve").code == 0
    # Hand-made endpoint in the same workspace, no ownership tags.
    fake.endpoints["handmade"] = {
        **fake.endpoints["churn-score"],
        "name": "handmade",
        "tags": {"owner": "alice"},
    }
    # Owned by another environment sharing the workspace (tagged the way earlier versions did).
    fake.endpoints["other-env"] = {
        **fake.endpoints["churn-score"],
        "name": "other-env",
        "tags": {"managed-by": MANAGED_BY_VALUE, "environment": "test"},
    }
    import shutil

    shutil.rmtree(envs / "dev" / "endpoints" / "churn-score")
    dep_file(envs, "credit-default", "green").unlink()
    edit(ep_file(envs, "credit-default"), traffic={"blue": 100})

    r = mlops("plan", "--env", "dev")
    assert "delete_endpoint" in r.out
    assert "endpoint/churn-score" in r.out
    assert "delete_deployment" in r.out
    assert "deployment/credit-default/green" in r.out
    assert "handmade" not in r.out
    assert "other-env" not in r.out
    assert mlops("apply", "--env", "dev", "--auto-approve").code == 0
    assert set(fake.endpoints) == {"credit-default", "handmade", "other-env"}
    assert ("credit-default", "green") not in fake.deployments
    assert fake.traffic("credit-default") == {"blue": 100}


def test_prune_off_keeps_removed_resources(mlops, fake: FakeArm, envs: Path):
    assert mlops("apply", "--env", "dev", "--auto-approve").code == 0
    edit(envs / "dev" / "environment.yaml", prune=False)
    (envs / "dev" / "monitors" / "credit-default-blue.yml").unlink()
    r = mlops("plan", "--env", "dev", "--detailed-exitcode")
    assert r.code == 0
    assert "kept because prune is off" in r.out
    assert mlops("apply", "--env", "dev", "--auto-approve").code == 0
    assert "credit-default-blue-monitor" in fake.schedules


def test_refuses_to_delete_every_endpoint_without_allow_empty(mlops, fake: FakeArm, envs: Path):
    import shutil

    assert mlops("apply", "--env", "dev", "--auto-approve").code == 0
    shutil.rmtree(envs / "dev" / "endpoints")
    (envs / "dev" / "monitors" / "credit-default-blue.yml").unlink()
    r = mlops("apply", "--env", "dev", "--auto-approve")
    assert r.code == 1
    assert "--allow-empty" in r.err
    assert set(fake.endpoints) == {"credit-default", "churn-score"}
    assert mlops("apply", "--env", "dev", "--auto-approve", "--allow-empty").code == 0
    assert fake.endpoints == {}


def test_concurrent_applies_are_serialised_by_the_lock(mlops, fake: FakeArm, envs: Path, capsys):
    fake.latency = 0.05
    argv = ["apply", "--env", "dev", "--auto-approve", "--environments", str(envs)]
    first: dict[str, int] = {}
    t = threading.Thread(target=lambda: first.setdefault("code", main(argv)))
    t.start()
    deadline = time.time() + 30
    while not fake.log and time.time() < deadline:
        time.sleep(0.01)
    second = main(argv)  # same environment while the first apply holds the lock
    t.join(120)
    assert second == 1
    assert "is being applied by another run" in capsys.readouterr().err
    assert first["code"] == 0
    assert mlops("plan", "--env", "dev", "--detailed-exitcode").code == 0


def test_endpoint_update_keeps_traffic_until_new_deployment_is_healthy(mlops, fake: FakeArm, envs: Path):
    green = dep_file(envs, "credit-default", "green")
    saved_green = green.read_text()
    green.unlink()
    edit(ep_file(envs, "credit-default"), traffic={"blue": 100})
    assert mlops("apply", "--env", "dev", "--auto-approve").code == 0

    green.write_text(saved_green)
    edit(ep_file(envs, "credit-default"), traffic={"blue": 50, "green": 50}, description="now with green")
    mark = len(fake.log)
    assert mlops("apply", "--env", "dev", "--auto-approve").code == 0
    writes = [
        (w.method, w.path.split("/onlineEndpoints/")[-1], w.body)
        for w in fake.writes(mark)
        if "onlineEndpoints" in w.path
    ]
    assert [(m, p) for m, p, _ in writes] == [
        ("PUT", "credit-default"),  # description; traffic unchanged
        ("PUT", "credit-default/deployments/green"),
        ("PUT", "credit-default"),  # traffic, only once green is healthy
    ]
    assert writes[0][2]["properties"]["traffic"] == {"blue": 100}
    assert writes[0][2]["properties"]["description"] == "now with green"
    assert writes[2][2]["properties"]["traffic"] == {"blue": 50, "green": 50}


def test_mirror_to_live_promotion(mlops, fake: FakeArm, envs: Path):
    assert mlops("apply", "--env", "prod", "--auto-approve").code == 0
    assert fake.endpoints["credit-default"]["properties"]["mirrorTraffic"] == {"green": 10}
    # `mirror_traffic: {}` stops mirroring; removing the key would leave the mirror unmanaged.
    edit(ep_file(envs, "credit-default", "prod"), traffic={"blue": 90, "green": 10}, mirror_traffic={})
    # prod's environment.yaml makes this a canary rollout with gates on Azure Monitor metrics...
    r = mlops("plan", "--env", "prod")
    assert "progressive rollout of green" in r.out, r.out
    assert "1. mirror 10%" in r.out, r.out
    assert "for 15m" in r.out, r.out
    # ...and with rollouts switched off for the endpoint it is one plain traffic step.
    (ep_file(envs, "credit-default", "prod").parent / "rollout.yml").write_text("enabled: false\n")
    r = mlops("plan", "--env", "prod")
    assert "set_traffic" in r.out
    assert 'mirror_traffic: {"green": 10} -> {}' in r.out
    assert mlops("apply", "--env", "prod", "--auto-approve").code == 0
    assert fake.traffic("credit-default") == {"blue": 90, "green": 10}
    assert fake.endpoints["credit-default"]["properties"]["mirrorTraffic"] == {}
    assert mlops("plan", "--env", "prod", "--detailed-exitcode").code == 0
