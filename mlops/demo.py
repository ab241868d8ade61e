"""`mlops demo`: the whole journey on this machine, no Azure subscription needed.

It lives in the app, not in gitops, because it drives both halves: the reconciler on the local
target and the platform program (``mlplatform``), rendered offline.

Train the sample model (two versions), register them in the local model registry, validate,
plan and apply ``environments/local`` on the local target, send a few hundred scored requests,
compare the observed split with the declared one, show status, and tell the user how to call
the endpoint and how to stop it.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from gitops.errors import GitopsError

ENV = "local"
MODEL = "wine-classifier"


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "demo", help="train, register, apply environments/local locally and send traffic"
    )
    p.add_argument("--environments", default="environments")
    p.add_argument("--requests", type=int, default=300, help="scored requests to send (default %(default)s)")
    p.set_defaults(func=cmd_demo)


def _step(title: str) -> None:
    print(f"\n==> {title}", flush=True)


def cmd_demo(args: argparse.Namespace) -> int:
    from gitops.manifest import load_manifest
    from gitops.targets.local.registry import ModelRegistry
    from gitops.targets.local.settings import engine_for, local_paths, repo_root

    manifest = load_manifest(Path(args.environments) / ENV)
    root = repo_root(manifest)
    _, registry_root = local_paths(manifest)
    _train_and_register(root, ModelRegistry(registry_root))

    common = ["--env", ENV, "--environments", args.environments]
    code = _validate_plan_apply(common)
    if code:
        return code

    engine = engine_for(manifest)
    state = engine.read_state()
    if not state:
        raise GitopsError("nothing is running after apply")
    body = (root / "samples" / MODEL / "sample-request.json").read_bytes()
    for ep in state:
        _send_traffic(engine, ep, body, args.requests)

    _step("status")
    run_mlops(["status", *common])

    code = _monitor_demo(args, root) or _rollout_demo(args, root, registry_root, body)
    if code:
        return code
    _render_platform()
    _how_to_call(engine, state)
    return 0


def run_mlops(argv: list[str]) -> int:
    """One `mlops` command, in this process (the demo is a script of them)."""
    from mlops.cli import main

    return main(argv)


def _train_and_register(root: Path, registry: Any) -> None:
    _step("train the sample wine classifier, v1 and v2 (scikit-learn's bundled data, fixed seed)")
    out = root / "build" / "wine-models"
    subprocess.run(
        [sys.executable, str(root / "samples" / MODEL / "train.py"), "--out", str(out)], check=True
    )

    _step(f"register both versions in the local model registry ({registry.root})")
    have = registry.versions(MODEL)
    for i, v in enumerate(("v1", "v2"), start=1):
        if str(i) in have:
            print(f"azureml:{MODEL}:{i} already registered")
        else:
            print(f"registered azureml:{MODEL}:{registry.register(MODEL, out / v / 'model').version}")


def _validate_plan_apply(common: list[str]) -> int:
    for title, argv in (
        ("validate", ["validate", *common]),
        ("plan", ["plan", *common]),
        (
            "apply on the local target (one inference server per deployment, a router per endpoint)",
            ["apply", *common, "--auto-approve"],
        ),
    ):
        _step(title)
        code = run_mlops(argv)
        if code not in (0, 2):
            print(
                f"`mlops {' '.join(argv)}` failed (exit {code}); stop with: mlops down --env {ENV}",
                file=sys.stderr,
            )
            return code
    return 0


def _send_traffic(engine: Any, ep: dict[str, Any], body: bytes, requests: int) -> None:
    """Score ``requests`` times and compare the split the router made with the declared one."""
    name = ep["name"]
    key = engine.keys(name)[0] if ep["auth_mode"] == "key" else engine.token(name)[0]
    _step(f"send {requests} scored requests to {ep['scoring_uri']}")
    counts: dict[str, int] = {}
    errors = 0
    for _ in range(requests):
        req = urllib.request.Request(
            ep["scoring_uri"],
            data=body,
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {key}"},
        )
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                dep = resp.headers.get("azureml-model-deployment", "?")
                counts[dep] = counts.get(dep, 0) + 1
        except urllib.error.HTTPError:
            errors += 1
    total = sum(counts.values()) or 1
    print(f"{'deployment':<12} {'declared':>9} {'observed':>9} {'requests':>9}")
    for dep in sorted(set(ep["traffic"]) | set(counts)):
        print(
            f"{dep:<12} {ep['traffic'].get(dep, 0):>8}% {100 * counts.get(dep, 0) / total:>8.1f}% {counts.get(dep, 0):>9}"
        )
    if errors:
        print(f"{errors} request(s) failed")
    last = json.loads(_score(ep["scoring_uri"], key, body))
    print(f"a sample answer: {json.dumps(last)}")


def _render_platform() -> None:
    _step("the platform each Azure environment runs on: both Pulumi stacks rendered offline")
    from mlplatform import render

    for stack in ("dev", "prod"):
        capture = render.render(stack)
        print(render.format_summary(capture).splitlines()[0])
    print("  (mlops render --stack prod --out build/render/prod.json lists every resource and setting)")


def _how_to_call(engine: Any, state: list[dict[str, Any]]) -> None:
    _step("call it yourself")
    for ep in state:
        print(f"  mlops get-credentials --env {ENV} --endpoint {ep['name']}")
        key = engine.keys(ep["name"])[0] if ep["auth_mode"] == "key" else "<token>"
        print(
            f"  curl -s -X POST {ep['scoring_uri']} -H 'Authorization: Bearer {key}' "
            f"-H 'Content-Type: application/json' -d @samples/{MODEL}/sample-request.json"
        )
        print("  (add -H 'azureml-model-deployment: green' to reach one deployment)")
    print(f"\nstop everything with: mlops down --env {ENV}")


def _score(uri: str, key: str, body: bytes) -> bytes:
    req = urllib.request.Request(
        uri, data=body, headers={"Content-Type": "application/json", "Authorization": f"Bearer {key}"}
    )
    with urllib.request.urlopen(req, timeout=30) as resp:
        data: bytes = resp.read()
    return data


CANARY_ENV = "local-canary"
CANARY_EP = "wine-canary"


def _deployment_yaml(
    name: str, version: int, code: Path, script: str = "score.py", env_vars: str = ""
) -> str:
    return (
        f"name: {name}\nendpoint_name: {CANARY_EP}\nmodel: azureml:{MODEL}:{version}\n"
        f"code_configuration:\n  code: {code}\n  scoring_script: {script}\n"
        "environment: azureml:wine-sklearn:1\ninstance_type: Standard_DS3_v2\ninstance_count: 1\n"
        "readiness_probe:\n  initial_delay: 1\n  period: 1\n  timeout: 2\n  failure_threshold: 60\n"
        + env_vars
    )


def _monitor_demo(args: argparse.Namespace, root: Path) -> int:
    """The monitor in environments/local/monitors on in-distribution, then shifted, traffic."""
    import importlib.util

    _step("model monitor: evaluate its drift and quality signals on the data the router collected")
    path = root / "samples" / MODEL / "monitoring" / "demo.py"
    spec = importlib.util.spec_from_file_location("wine_monitor_demo", path)
    if spec is None or spec.loader is None:
        raise GitopsError(f"{path}: cannot load the monitoring demo")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    baseline, shifted = module.run_drift_demo(Path(args.environments), ENV, out=root / "build" / "monitors")
    if baseline.breached or not shifted.breached:
        print("unexpected monitor result: in-distribution traffic must pass, shifted traffic must breach")
        return 1
    return 0


def _rollout_demo(args: argparse.Namespace, root: Path, registry_root: Path, body: bytes) -> int:
    """A second, throw-away environment: one canary that passes its gates, one that is rolled back."""
    from gitops.rollout.loadgen import LoadGenerator
    from gitops.targets.local.engine import LocalEngine

    envs = root / "build" / "demo-rollouts" / "environments"
    env_dir = envs / CANARY_ENV
    ep_dir = env_dir / "endpoints" / CANARY_EP
    state_dir = root / ".state"
    (ep_dir / "deployments").mkdir(parents=True, exist_ok=True)
    (env_dir / "environment.yaml").write_text(
        f"target: local\nprune: true\nlocal:\n  state_dir: {state_dir}\n  model_registry: {registry_root}\n"
    )
    code = root / "samples" / MODEL / "code"
    (ep_dir / "smoke-request.json").write_bytes(body)
    (ep_dir / "rollout.yml").write_text(
        "# mirror first, then 10 % and 50 % of live traffic, gates every second against the serving deployment\n"
        "steps:\n  - {mirror: 20, duration: 3s}\n  - {weight: 10, duration: 3s}\n  - {weight: 50, duration: 3s}\n"
        "smoke_test:\n  request: smoke-request.json\n  expect_status: 200\n  expect_keys: [predictions, labels]\n"
        "analysis:\n  interval: 1s\n  min_requests: 10\n  failure_limit: 2\n"
        "  error_ratio: {max: 0.05, max_increase: 0.02}\n  latency_p95_ms: {max: 250, max_ratio: 5}\n"
    )
    for f in (ep_dir / "deployments").glob("*.yml"):
        f.unlink()
    (ep_dir / "deployments" / "blue.yml").write_text(_deployment_yaml("blue", 1, code))
    (ep_dir / "endpoint.yml").write_text(f"name: {CANARY_EP}\nauth_mode: key\ntraffic:\n  blue: 100\n")
    common = ["--env", CANARY_ENV, "--environments", str(envs)]
    engine = LocalEngine(state_dir, CANARY_ENV, model_registry=registry_root)
    engine.down()

    _step(f"progressive rollouts: {env_dir.relative_to(root)} starts with blue (v1) at 100 %")
    if run_mlops(["apply", *common, "--auto-approve"]) != 0:
        return 1
    url, key = engine.scoring_uri(CANARY_EP), engine.keys(CANARY_EP)[0]

    _step(
        "canary 1: green (v2) to 100 % through smoke test, mirror 20 %, 10 %, 50 % (the plan shows the steps)"
    )
    (ep_dir / "deployments" / "green.yml").write_text(_deployment_yaml("green", 2, code))
    (ep_dir / "endpoint.yml").write_text(f"name: {CANARY_EP}\nauth_mode: key\ntraffic:\n  green: 100\n")
    run_mlops(["plan", *common])
    with LoadGenerator(url, key, body, max_requests=8000) as load:
        first = run_mlops(["apply", *common, "--auto-approve"])
    print(f"background load: {load.sent} requests, answers {load.statuses}; apply exit code {first}")

    _step("canary 2: faulty-v3 (score_v3_faulty.py fails 30 % of requests) must be rolled back by itself")
    (ep_dir / "deployments" / "faulty-v3.yml").write_text(
        _deployment_yaml(
            "faulty-v3",
            2,
            code,
            "score_v3_faulty.py",
            "environment_variables:\n  WINE_FAULT_ERROR_RATE: '0.3'\n  WINE_FAULT_SEED: '5'\n",
        )
    )
    (ep_dir / "endpoint.yml").write_text(f"name: {CANARY_EP}\nauth_mode: key\ntraffic:\n  faulty-v3: 100\n")
    with LoadGenerator(url, key, body, max_requests=8000) as load:
        second = run_mlops(["apply", *common, "--auto-approve"])
    print(
        f"background load: {load.sent} requests, answers {load.statuses}; apply exit code {second} (1 = rolled back)"
    )
    row = engine.store.endpoint(CANARY_EP)
    print(f"live traffic now: {row.traffic if row else '?'}")

    _step("the next plan reports the divergence instead of retrying the same bad revision")
    run_mlops(["plan", *common])
    _step("status")
    run_mlops(["status", *common])
    stopped = engine.down()
    print(f"stopped the rollout demo environment ({len(stopped)} process(es))")
    return 0 if first == 0 and second == 1 else 1
