"""Send wine-classifier requests to a local endpoint: in-distribution or shifted.

    python samples/wine-classifier/monitoring/traffic.py --env local --rows 500            # like training
    python samples/wine-classifier/monitoring/traffic.py --env local --rows 500 --shift    # drifted

Rows are drawn from the reference (training) rows with a little jitter; ``--shift`` moves
alcohol, color intensity and proline up by 1.5 reference standard deviations, which also moves
the model's predictions. Only loopback URLs are accepted and the row count is bounded, so this
cannot be pointed at a real service by mistake.
"""

from __future__ import annotations

import argparse
import csv
import json
import subprocess
import sys
import urllib.request
from pathlib import Path
from urllib.parse import urlparse

import numpy as np

HERE = Path(__file__).parent
REFERENCE = HERE / "reference.csv"
SHIFTED_FEATURES = ("alcohol", "color_intensity", "proline")
SHIFT_STDS = 1.5
JITTER_STDS = 0.02
MAX_ROWS = 100_000
LOOPBACK = ("127.0.0.1", "localhost", "::1")


def reference_features(path: Path = REFERENCE) -> tuple[list[str], np.ndarray]:
    with open(path, newline="") as fh:
        rows = list(csv.reader(fh))
    header = rows[0]
    keep = [i for i, n in enumerate(header) if n != "prediction"]
    matrix = np.array([[float(r[i]) for i in keep] for r in rows[1:]])
    return [header[i] for i in keep], matrix


def make_rows(n: int, shifted: bool = False, seed: int = 0, reference: Path = REFERENCE) -> list[list[float]]:
    if not 0 < n <= MAX_ROWS:
        raise ValueError(f"rows must be 1..{MAX_ROWS}")
    names, ref = reference_features(reference)
    rng = np.random.default_rng(seed)
    std = ref.std(axis=0)
    rows = ref[rng.integers(0, ref.shape[0], n)] + rng.normal(0.0, JITTER_STDS, (n, ref.shape[1])) * std
    if shifted:
        for f in SHIFTED_FEATURES:
            j = names.index(f)
            rows[:, j] += SHIFT_STDS * std[j]
    # Features are physical quantities; jitter must not make them negative.
    rows = np.maximum(rows, 0.0)
    return [[round(float(v), 4) for v in r] for r in rows]


def send(url: str, key: str, rows: list[list[float]], batch: int = 20, deployment: str | None = None) -> int:
    """POST rows in batches; returns the number of requests answered 200."""
    host = urlparse(url).hostname
    if host not in LOOPBACK:
        raise ValueError(f"refusing to send traffic to {host}: only loopback endpoints")
    ok = 0
    for start in range(0, len(rows), batch):
        body = json.dumps({"data": rows[start : start + batch]}).encode()
        headers = {"Content-Type": "application/json", "Authorization": f"Bearer {key}"}
        if deployment:
            headers["azureml-model-deployment"] = deployment
        req = urllib.request.Request(url, data=body, headers=headers, method="POST")
        with urllib.request.urlopen(req, timeout=30) as resp:  # noqa: S310 - loopback only, checked above
            ok += resp.status == 200
    return ok


def credentials(env: str, endpoint: str, environments: str = "environments") -> tuple[str, str]:
    cmd = [
        "get-credentials",
        "--env",
        env,
        "--environments",
        environments,
        "--endpoint",
        endpoint,
        "-o",
        "json",
    ]
    out = subprocess.run(
        [sys.executable, "-m", "mlops.cli", *cmd], check=True, capture_output=True, text=True
    )
    data = json.loads(out.stdout)
    return data["scoringUri"], data.get("primaryKey") or data["accessToken"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--env", default="local")
    ap.add_argument("--environments", default="environments")
    ap.add_argument("--endpoint", default="wine-classifier")
    ap.add_argument("--deployment", help="send to this deployment only (header azureml-model-deployment)")
    ap.add_argument("--rows", type=int, default=500)
    ap.add_argument("--batch", type=int, default=20)
    ap.add_argument("--shift", action="store_true", help="send drifted rows")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    url, key = credentials(args.env, args.endpoint, args.environments)
    rows = make_rows(args.rows, args.shift, args.seed)
    ok = send(url, key, rows, args.batch, args.deployment)
    kind = "shifted" if args.shift else "in-distribution"
    print(f"sent {len(rows)} {kind} rows in {ok} successful requests to {url}")


if __name__ == "__main__":
    main()
