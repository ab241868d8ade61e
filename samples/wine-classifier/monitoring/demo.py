"""Drift demo on a running local endpoint: one monitor run on in-distribution traffic (no breach),
one on shifted traffic (breach).

    mlops demo                                             # or `mlops apply --env local`
    python samples/wine-classifier/monitoring/demo.py      # then this

Each run evaluates only the traffic sent for it (``since`` = the moment before sending), so the
two results do not mix. Reports go to ``build/monitors/<env>/<monitor>-{baseline,shifted}/``.
From Python: ``run_drift_demo()`` returns both :class:`MonitorResult` objects.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
MONITOR_YAML = HERE.parents[2] / "environments" / "local" / "monitors" / "wine-classifier-blue.yml"
# The local data collector writes on a background thread; give it a moment to flush.
COLLECTOR_FLUSH_S = 1.0


def _traffic() -> Any:
    spec = importlib.util.spec_from_file_location("wine_traffic", HERE / "traffic.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def run_drift_demo(
    environments: Path = Path("environments"),
    env: str = "local",
    rows: int = 400,
    out: Path = Path("build/monitors"),
) -> tuple[Any, Any]:
    from gitops.manifest import load_manifest
    from gitops.monitoring.run import run_monitor
    from gitops.monitoring.spec import load_monitor
    from gitops.targets.local.settings import collected_data_dir

    traffic = _traffic()
    spec = load_monitor(MONITOR_YAML)
    data_root = collected_data_dir(load_manifest(environments / env))
    url, key = traffic.credentials(env, spec.endpoint, str(environments))
    results = []
    for label, shifted in (("baseline", False), ("shifted", True)):
        since = datetime.now(UTC)
        traffic.send(url, key, traffic.make_rows(rows, shifted, seed=int(shifted)), 20, spec.deployment)
        time.sleep(COLLECTOR_FLUSH_S)
        result = run_monitor(spec, data_root, out / env / f"{spec.name}-{label}", env=env, since=since)
        results.append(result)
        drifted = sorted({f.feature for s in result.breached_signals() for f in s.features if f.breaches})
        state = f"BREACHED ({', '.join(drifted)})" if result.breached else "no threshold breached"
        print(f"{label}: {rows} {'shifted' if shifted else 'in-distribution'} rows -> {state}")
        print(f"  report: {result.report_dir}/report.html")
    return results[0], results[1]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--environments", type=Path, default=Path("environments"))
    ap.add_argument("--env", default="local")
    ap.add_argument("--rows", type=int, default=400)
    args = ap.parse_args()
    baseline, shifted = run_drift_demo(args.environments, args.env, args.rows)
    return 0 if (not baseline.breached and shifted.breached) else 1


if __name__ == "__main__":
    sys.exit(main())
