"""Benchmark the local target's router against calling the inference server directly.

    .venv/bin/python benchmarks/local_router.py [--requests 1000] [--seconds 10] [--concurrency 4]

Starts one endpoint with one deployment of the sample wine classifier in a temporary state
directory, then measures with the same payload in the same run:
- sequential latency (p50/p95/p99) direct vs. through the router, alternating blocks so that
  machine noise hits both sides alike;
- throughput (requests/s) with N client threads, direct vs. through the router;
- start-up time to ready and resident memory of the deployment's process group.
Targets (issue 4): the router adds <= 1 ms at p50 and keeps >= 90 % of direct throughput.
Everything is stopped at the end, also on errors.
"""

from __future__ import annotations

import argparse
import http.client
import json
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from gitops.targets.local import LocalEngine, ModelRegistry  # noqa: E402
from gitops.targets.local import process as proc  # noqa: E402

EP = "bench"


def post(port: int, body: bytes, headers: dict[str, str]) -> float:
    t0 = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("POST", "/score", body=body, headers=headers)
        resp = conn.getresponse()
        resp.read()
        if resp.status != 200:
            raise RuntimeError(f"HTTP {resp.status} from port {port}")
    finally:
        conn.close()
    return (time.perf_counter() - t0) * 1000


def percentiles(samples: list[float]) -> dict[str, float]:
    qs = statistics.quantiles(samples, n=100, method="inclusive")
    return {
        "p50": statistics.median(samples),
        "p95": qs[94],
        "p99": qs[98],
        "mean": statistics.fmean(samples),
    }


def latency(
    direct: tuple[int, dict[str, str]], routed: tuple[int, dict[str, str]], body: bytes, n: int
) -> dict[str, Any]:
    d: list[float] = []
    r: list[float] = []
    block = 50
    for i in range(0, n, block):
        for _ in range(min(block, n - i)):
            d.append(post(direct[0], body, direct[1]))
        for _ in range(min(block, n - i)):
            r.append(post(routed[0], body, routed[1]))
    return {"direct": percentiles(d), "router": percentiles(r)}


def throughput(port: int, headers: dict[str, str], body: bytes, seconds: float, concurrency: int) -> float:
    stop = time.monotonic() + seconds
    counts = [0] * concurrency
    errors: list[str] = []

    def worker(i: int) -> None:
        while time.monotonic() < stop:
            try:
                post(port, body, headers)
            except (OSError, RuntimeError, http.client.HTTPException) as exc:
                errors.append(str(exc))
                return
            counts[i] += 1

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(concurrency)]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise RuntimeError(f"{len(errors)} errors, first: {errors[0]}")
    return sum(counts) / (time.monotonic() - t0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--requests", type=int, default=1000, help="sequential requests per side (default 1000)")
    ap.add_argument("--seconds", type=float, default=10.0, help="throughput run per side (default 10 s)")
    ap.add_argument("--concurrency", type=int, default=4)
    ap.add_argument("--workers", type=int, default=1, help="instance_count of the deployment")
    ap.add_argument("--collect", action="store_true", help="enable data collection of inputs/outputs")
    ap.add_argument("--json", type=Path, help="also write the results here")
    args = ap.parse_args()

    from azure.ai.ml.entities import CodeConfiguration, ManagedOnlineDeployment, ManagedOnlineEndpoint

    with tempfile.TemporaryDirectory(prefix="mlops-bench-") as tmp:
        tmpd = Path(tmp)
        subprocess.run(
            [sys.executable, str(REPO / "samples/wine-classifier/train.py"), "--out", str(tmpd / "m")],
            check=True,
            capture_output=True,
        )
        reg = ModelRegistry(tmpd / "registry")
        reg.register("wine-classifier", tmpd / "m" / "v1" / "model")
        engine = LocalEngine(tmpd / "state", "bench", model_registry=reg.root)
        try:
            engine.ensure_endpoint(ManagedOnlineEndpoint(name=EP, auth_mode="key"))
            dep: dict[str, Any] = {
                "name": "blue",
                "endpoint_name": EP,
                "model": "azureml:wine-classifier:1",
                "code_configuration": CodeConfiguration(
                    code=str(REPO / "samples/wine-classifier/code"), scoring_script="score.py"
                ),
                "instance_count": args.workers,
            }
            if args.collect:
                from azure.ai.ml.entities import DataCollector, DeploymentCollection

                dep["data_collector"] = DataCollector(
                    collections={
                        "model_inputs": DeploymentCollection(enabled="true"),
                        "model_outputs": DeploymentCollection(enabled="true"),
                    }
                )
            t0 = time.monotonic()
            (res,) = engine.ensure_deployments([ManagedOnlineDeployment(**dep)])
            startup = time.monotonic() - t0
            engine.set_traffic(EP, {"blue": 100})
            state = engine.read_state()[0]
            d = state["deployments"][0]
            router_port, dep_port = state["port"], d["port"]
            body = (REPO / "samples/wine-classifier/sample-request.json").read_bytes()
            direct = (dep_port, {"Content-Type": "application/json"})
            routed = (
                router_port,
                {"Content-Type": "application/json", "Authorization": f"Bearer {engine.keys(EP)[0]}"},
            )
            for _ in range(50):  # warm-up both paths
                post(*direct[:1], body, direct[1])
                post(*routed[:1], body, routed[1])
            lat = latency(direct, routed, body, args.requests)
            rps_direct = throughput(dep_port, direct[1], body, args.seconds, args.concurrency)
            rps_router = throughput(router_port, routed[1], body, args.seconds, args.concurrency)
            rss_dep = proc.rss_kib(int(d["pid"])) / 1024
            rss_router = proc.rss_kib(int(state["router_pid"])) / 1024
        finally:
            engine.down()

    results = {
        "requests_per_side": args.requests,
        "workers": args.workers,
        "data_collection": args.collect,
        "latency_ms": lat,
        "router_overhead_ms_p50": lat["router"]["p50"] - lat["direct"]["p50"],
        "router_overhead_ms_p95": lat["router"]["p95"] - lat["direct"]["p95"],
        "throughput_rps": {
            "direct": rps_direct,
            "router": rps_router,
            "ratio": rps_router / rps_direct,
            "concurrency": args.concurrency,
        },
        "startup_to_ready_s": {"engine_measured": res.ready_seconds, "wall": startup},
        "rss_mib": {"deployment_process_group": rss_dep, "router": rss_router},
    }
    L = lat
    print(f"latency, {args.requests} sequential requests per side (ms):")
    print(f"  {'':8} {'p50':>7} {'p95':>7} {'p99':>7} {'mean':>7}")
    for side in ("direct", "router"):
        v = L[side]
        print(f"  {side:8} {v['p50']:7.2f} {v['p95']:7.2f} {v['p99']:7.2f} {v['mean']:7.2f}")
    print(
        f"  router overhead: p50 {results['router_overhead_ms_p50']:+.2f} ms, p95 {results['router_overhead_ms_p95']:+.2f} ms  (target <= 1 ms at p50)"
    )
    print(f"throughput, {args.concurrency} client threads, {args.seconds:g} s per side:")
    print(
        f"  direct {rps_direct:7.1f} req/s   router {rps_router:7.1f} req/s   ratio {rps_router / rps_direct:.1%}  (target >= 90 %)"
    )
    print(f"start-up to ready: {res.ready_seconds:.2f} s (deployment of {args.workers} worker(s))")
    print(
        f"resident memory: deployment {rss_dep:.0f} MiB ({args.workers} worker(s) + gunicorn master), router {rss_router:.0f} MiB"
    )
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
