"""`mlops demo`: the whole journey on this machine, no Azure subscription needed.

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
    from gitops.cli import main as mlops
    from gitops.local.registry import ModelRegistry
    from gitops.local.target import engine_for, local_paths, repo_root
    from gitops.manifest import load_manifest

    manifest = load_manifest(Path(args.environments) / ENV)
    root = repo_root(manifest)
    _, registry_root = local_paths(manifest)
    registry = ModelRegistry(registry_root)

    _step("train the sample wine classifier, v1 and v2 (scikit-learn's bundled data, fixed seed)")
    out = root / "build" / "wine-models"
    subprocess.run(
        [sys.executable, str(root / "samples" / MODEL / "train.py"), "--out", str(out)], check=True
    )

    _step(f"register both versions in the local model registry ({registry_root})")
    have = registry.versions(MODEL)
    for i, v in enumerate(("v1", "v2"), start=1):
        if str(i) in have:
            print(f"azureml:{MODEL}:{i} already registered")
        else:
            print(f"registered azureml:{MODEL}:{registry.register(MODEL, out / v / 'model').version}")

    common = ["--env", ENV, "--environments", args.environments]
    for title, argv in (
        ("validate", ["validate", *common]),
        ("plan", ["plan", *common]),
        (
            "apply on the local target (one inference server per deployment, a router per endpoint)",
            ["apply", *common, "--auto-approve"],
        ),
    ):
        _step(title)
        code = mlops(argv)
        if code not in (0, 2):
            print(
                f"`mlops {' '.join(argv)}` failed (exit {code}); stop with: mlops down --env {ENV}",
                file=sys.stderr,
            )
            return code

    engine = engine_for(manifest)
    state = engine.read_state()
    if not state:
        raise GitopsError("nothing is running after apply")
    body = (root / "samples" / MODEL / "sample-request.json").read_bytes()
    for ep in state:
        name = ep["name"]
        key = engine.keys(name)[0] if ep["auth_mode"] == "key" else engine.token(name)[0]
        _step(f"send {args.requests} scored requests to {ep['scoring_uri']}")
        counts: dict[str, int] = {}
        errors = 0
        for _ in range(args.requests):
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

    _step("status")
    mlops(["status", *common])

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
    return 0


def _score(uri: str, key: str, body: bytes) -> bytes:
    req = urllib.request.Request(
        uri, data=body, headers={"Content-Type": "application/json", "Authorization": f"Bearer {key}"}
    )
    with urllib.request.urlopen(req, timeout=30) as resp:
        data: bytes = resp.read()
    return data
