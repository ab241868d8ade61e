"""Benchmark `mlops monitor run` on 1,000,000 collected rows x 30 features.

    .venv/bin/python benchmarks/monitor_run.py [--rows 1000000] [--features 30] [--rows-per-record 100]

Writes collected data in the local data collector's format (model_inputs + model_outputs JSON lines),
a 50,000-row reference CSV and a monitor YAML with data drift (all four numerical metrics on every
feature), prediction drift and data quality, then runs the real CLI in a child process and reports
its wall time and peak RSS (ru_maxrss of the child: counts Arrow's and numpy's native allocations,
which tracemalloc would miss). Production data is shifted on 3 features, so the run exits 3.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
MONITOR = """$schema: http://azureml/sdk-2-0/Schedule.json
name: bench-monitor
trigger: {{type: recurrence, frequency: day, interval: 1}}
create_monitor:
  compute: {{instance_type: standard_e4s_v3, runtime_version: "3.4"}}
  monitoring_target: {{ml_task: classification, endpoint_deployment_id: "azureml:bench:blue"}}
  monitoring_signals:
    drift:
      type: data_drift
      reference_data:
        input_data: {{path: ./reference.csv, type: uri_file}}
        data_context: training
        data_column_names: {{prediction: prediction}}
      metric_thresholds:
        numerical: {{jensen_shannon_distance: 0.1, normalized_wasserstein_distance: 0.1,
          population_stability_index: 0.2, two_sample_kolmogorov_smirnov_test: 0.01}}
      alert_enabled: true
    predictions:
      type: prediction_drift
      reference_data:
        input_data: {{path: ./reference.csv, type: uri_file}}
        data_context: training
        data_column_names: {{prediction: prediction}}
      metric_thresholds:
        categorical: {{jensen_shannon_distance: 0.1, pearsons_chi_squared_test: 0.01}}
    quality:
      type: data_quality
      reference_data:
        input_data: {{path: ./reference.csv, type: uri_file}}
        data_context: training
        data_column_names: {{prediction: prediction}}
      metric_thresholds:
        numerical: {{null_value_rate: 0.01, out_of_bounds_rate: 0.01}}
"""
ATTRIBUTION = """    attribution:
      type: feature_attribution_drift
      production_data:
        - input_data: {path: "azureml:bench-blue-model_inputs:1", type: uri_folder}
          data_context: model_inputs
      reference_data:
        input_data: {path: ./reference.csv, type: uri_file}
        data_context: training
        data_column_names: {target_column: prediction}
      metric_thresholds:
        normalized_discounted_cumulative_gain: 0.9
"""


def generate(
    root: Path, rows: int, features: int, per_record: int, attribution: bool = False, seed: int = 0
) -> float:
    t0 = time.perf_counter()
    rng = np.random.default_rng(seed)
    names = [f"f{i:02d}" for i in range(features)]
    ref = rng.normal(0.0, 1.0, (50_000, features))
    ref_pred = rng.integers(0, 3, ref.shape[0])
    header = ",".join([*names, "prediction"])
    np.savetxt(
        root / "reference.csv",
        np.column_stack((ref, ref_pred)),
        delimiter=",",
        header=header,
        comments="",
        fmt=["%.5f"] * features + ["%d"],
    )
    (root / "monitor.yml").write_text(MONITOR.format() + (ATTRIBUTION if attribution else ""))
    day = "2026/01/02"
    inputs = root / "data" / "bench" / "blue" / "model_inputs" / day
    outputs = root / "data" / "bench" / "blue" / "model_outputs" / day
    inputs.mkdir(parents=True)
    outputs.mkdir(parents=True)
    with open(inputs / "data.jsonl", "w") as fin, open(outputs / "data.jsonl", "w") as fout:
        done = 0
        chunk = 100_000
        while done < rows:
            n = min(chunk, rows - done)
            block = rng.normal(0.0, 1.0, (n, features)).round(5)
            block[:, :3] += 0.5  # three drifted features
            preds = rng.integers(0, 3, n)
            for start in range(0, n, per_record):
                i = done + start
                body = block[start : start + per_record].tolist()
                envelope = (
                    f'{{"id":"{i}","time":"2026-01-02T03:04:05.000Z","correlationid":"c{i}",'
                    f'"endpoint":"bench","deployment":"blue","collection":"%s",'
                    f'"datacontenttype":"application/json","data":'
                )
                fin.write(
                    envelope % "model_inputs" + json.dumps({"data": body}, separators=(",", ":")) + "}\n"
                )
                out = {"predictions": preds[start : start + per_record].tolist()}
                fout.write(envelope % "model_outputs" + json.dumps(out, separators=(",", ":")) + "}\n")
            done += n
    return time.perf_counter() - t0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--features", type=int, default=30)
    ap.add_argument("--rows-per-record", type=int, default=100, help="rows per request (JSON line)")
    ap.add_argument("--workdir", type=Path, default=REPO / "build" / "bench-monitor")
    ap.add_argument("--keep", action="store_true", help="keep the generated data")
    ap.add_argument("--attribution", action="store_true", help="also run a feature attribution drift signal")
    args = ap.parse_args()
    if args.workdir.exists():
        shutil.rmtree(args.workdir)
    args.workdir.mkdir(parents=True)
    gen = generate(args.workdir, args.rows, args.features, args.rows_per_record, args.attribution)
    size = sum(f.stat().st_size for f in (args.workdir / "data").rglob("*.jsonl"))
    print(
        f"generated {args.rows:,} rows x {args.features} features, {args.rows_per_record} rows/record "
        f"({size / 1e6:.0f} MB of JSON lines) in {gen:.1f} s"
    )
    cmd = [
        sys.executable, "-m", "mlops.cli", "monitor", "run", "--env", "local",
        "--environments", str(REPO / "environments"),
        "--file", str(args.workdir / "monitor.yml"),
        "--data-dir", str(args.workdir / "data"),
        "--out", str(args.workdir / "out"), "--no-actions",
    ]  # fmt: skip
    # Byte-code caching on (into build/), as for any installed CLI: with PYTHONDONTWRITEBYTECODE
    # every run would recompile azure-ai-ml and scipy (~6 s here), which is not monitor work.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(REPO / "build" / "pycache")
    warm = [
        sys.executable,
        "-c",
        "import gitops.monitoring.cli, gitops.monitoring.evaluate, gitops.monitoring.spec",
    ]
    subprocess.run(warm, check=True, env=env, cwd=REPO)
    t0 = time.perf_counter()
    subprocess.run(
        [*warm[:2], warm[2] + "; gitops.monitoring.spec._load_schedule"], check=True, env=env, cwd=REPO
    )
    startup = time.perf_counter() - t0
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO, env=env)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    # ru_maxrss of RUSAGE_CHILDREN is the largest child; the warm-up child is far smaller.
    peak_mb = after.ru_maxrss / 1024
    if proc.returncode not in (0, 3):
        print(proc.stdout, proc.stderr, sep="\n")
        print(f"mlops monitor run failed with exit code {proc.returncode}")
        return 1
    report = json.loads((args.workdir / "out" / "local" / "bench-monitor" / "report.json").read_text())
    drifted = sorted(
        f["feature"]
        for s in report["signals"]
        if s["name"] == "drift"
        for f in s["features"]
        if f["breaches"]
    )
    print(f"exit code {proc.returncode}; drifted features: {', '.join(drifted)}")
    print(
        f"wall time {wall:.2f} s (of which ~{startup:.1f} s interpreter + imports)  |  "
        f"peak RSS {peak_mb:.0f} MB  |  {args.rows / wall:,.0f} rows/s"
    )
    load = os.getloadavg()[0]
    print(f"CPU time {cpu:.2f} s on {os.cpu_count()} cores (1-min load average at the end {load:.1f})")
    if not args.keep:
        shutil.rmtree(args.workdir)
    return 0


if __name__ == "__main__":
    sys.exit(main())
