"""Reconciler benchmark against the fake ARM (tests/gitops/fake_arm.py) with per-operation latency.

(a) plan on a converged environment of N endpoints x 2 deployments: requests by method, wall time.
(b) apply of R endpoints each rolling a new deployment (create blue-v2 at 0 %, move traffic to it,
    delete blue) at the environment's concurrency, next to a sequential baseline doing the same
    operations one at a time with the SDK, the way a script of `az ml` commands would.

Run: .venv/bin/python benchmarks/reconcile.py [--n 100] [--rollout 20] [--concurrency 10]
Targets (issue 3): (a) 0 writes and <= N + 2 reads; (b) >= 8x faster than the baseline at concurrency 10.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import sys
import tempfile
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "gitops"))

from fake_arm import FakeArm, client_options  # noqa: E402

from gitops import commands  # noqa: E402
from mlops.cli import main  # noqa: E402

SUB = "00000000-0000-0000-0000-000000000000"


def write_env(root: Path, n: int, concurrency: int) -> Path:
    env = root / "bench"
    (env / "endpoints").mkdir(parents=True)
    manifest = {
        "target": "azureml",
        "subscription_id": SUB,
        "resource_group": "rg-bench",
        "workspace": "ws-bench",
        "prune": True,
        "apply": {"concurrency": concurrency, "backoff_seconds": 0.1},
    }
    (env / "environment.yaml").write_text(yaml.safe_dump(manifest))
    for i in range(n):
        name = f"ep-{i:03d}"
        folder = env / "endpoints" / name
        (folder / "deployments").mkdir(parents=True)
        (folder / "endpoint.yml").write_text(
            yaml.safe_dump({"name": name, "auth_mode": "key", "traffic": {"blue": 100}})
        )
        for dep, version in (("blue", 1), ("green", 2)):
            (folder / "deployments" / f"{dep}.yml").write_text(yaml.safe_dump(deployment(name, dep, version)))
    return env


def deployment(ep: str, name: str, version: int) -> dict[str, object]:
    return {
        "name": name,
        "endpoint_name": ep,
        "model": f"azureml:bench-model:{version}",
        "environment": "azureml:bench-env:1",
        "code_configuration": {"code": "azureml:bench-code:1", "scoring_script": "score.py"},
        "instance_type": "Standard_DS3_v2",
        "instance_count": 1,
    }


def run(argv: list[str]) -> int:
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        return main(argv)


def counts(fake: FakeArm, mark: int) -> dict[str, int]:
    c = fake.counts(mark)
    return dict(sorted(c.items()))


def main_bench() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--n", type=int, default=100)
    p.add_argument("--rollout", type=int, default=20)
    p.add_argument("--concurrency", type=int, default=10)
    p.add_argument("--latency-ms", type=float, default=20.0, help="added to every HTTP request")
    p.add_argument(
        "--deploy-seconds",
        type=float,
        default=5.0,
        help="time a deployment create takes (real ones: minutes)",
    )
    p.add_argument("--op-seconds", type=float, default=0.5, help="time other long-running operations take")
    a = p.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="mlops-bench-"))
    os.environ["MLOPS_LOCK_DIR"] = str(tmp / "locks")
    env = write_env(tmp / "environments", a.n, a.concurrency)
    roots = ["--environments", str(tmp / "environments")]
    fake = FakeArm(poll_ms=100)
    opts = client_options(fake)
    commands.TARGET_OPTIONS.update(opts)

    t = time.perf_counter()
    code = run(["apply", "--env", "bench", "--auto-approve", *roots])
    print(
        f"setup: apply {a.n} endpoints x 2 deployments from empty (no latency): exit {code}, {time.perf_counter() - t:.1f}s"
    )

    fake.latency = a.latency_ms / 1000
    fake.op_seconds = a.op_seconds
    fake.deployment_op_seconds = a.deploy_seconds

    mark = len(fake.log)
    t = time.perf_counter()
    code = run(["plan", "--env", "bench", "--detailed-exitcode", *roots])
    wall = time.perf_counter() - t
    c = counts(fake, mark)
    writes = sum(v for k, v in c.items() if k != "GET")
    print(
        f"(a) converged plan, N={a.n}: exit {code} (0 = no changes), requests {c}, reads {c.get('GET', 0)} (target <= {a.n + 2}), writes {writes} (target 0), {wall:.2f}s"
    )

    # (b) roll a new deployment on endpoints [0, R) with mlops, and on [R, 2R) with the baseline.
    for i in range(a.rollout):
        folder = env / "endpoints" / f"ep-{i:03d}"
        (folder / "deployments" / "blue.yml").unlink()
        (folder / "deployments" / "blue-v2.yml").write_text(
            yaml.safe_dump(deployment(f"ep-{i:03d}", "blue-v2", 3))
        )
        (folder / "endpoint.yml").write_text(
            yaml.safe_dump({"name": f"ep-{i:03d}", "auth_mode": "key", "traffic": {"blue-v2": 100}})
        )
    mark = len(fake.log)
    t = time.perf_counter()
    code = run(["apply", "--env", "bench", "--auto-approve", *roots])
    apply_wall = time.perf_counter() - t
    print(
        f"(b) mlops apply, {a.rollout} endpoints rolling a new deployment at concurrency {a.concurrency}: exit {code}, {apply_wall:.1f}s, requests {counts(fake, mark)}"
    )

    from azure.ai.ml import MLClient
    from azure.ai.ml.entities import CodeConfiguration, ManagedOnlineDeployment

    ml = MLClient(opts["credential"], SUB, "rg-bench", "ws-bench", **opts["client_kwargs"])
    mark = len(fake.log)
    t = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()):
        for i in range(a.rollout, 2 * a.rollout):
            name = f"ep-{i:03d}"
            d = deployment(name, "blue-v2", 3)
            d["code_configuration"] = CodeConfiguration(
                code="azureml:bench-code:1", scoring_script="score.py"
            )
            ml.online_deployments.begin_create_or_update(ManagedOnlineDeployment(**d)).result()  # type: ignore[arg-type]
            ep = ml.online_endpoints.get(name)
            ep.traffic = {"blue-v2": 100}
            ml.online_endpoints.begin_create_or_update(ep).result()
            ml.online_deployments.begin_delete("blue", name).result()
    base_wall = time.perf_counter() - t
    print(
        f"    sequential baseline (SDK, one operation at a time), {a.rollout} endpoints: {base_wall:.1f}s, requests {counts(fake, mark)}"
    )
    print(f"    speed-up: {base_wall / apply_wall:.1f}x (target >= 8x at concurrency 10)")
    fake.close()


if __name__ == "__main__":
    main_bench()
