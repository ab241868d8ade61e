"""Run `mlops` in this process with a StepClock, for tests that kill an apply mid-step.

    python tests/apply_with_step_clock.py --hold-after 1 [--canary STATE_DIR ENV ENDPOINT DEPLOYMENT N]
        [--fake-arm URL CA_PATH PORT [--metrics URL CA_PATH]] -- apply --auto-approve --env ...

The rollout runner's first ``--hold-after`` waits pass (each once ``--canary``'s router counted N more
requests for the deployment, when given); the next one never returns, so the process sits inside a
step, its progress written, until the test kills it. ``--fake-arm`` points the azureml target at a
test's fake ARM server and ``--metrics`` at its fake Azure Monitor metrics API (what
``commands.TARGET_OPTIONS`` does in process).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE / "gitops"))

from stepclock import StepClock, more_requests, router_requests  # noqa: E402

from gitops import commands  # noqa: E402
from mlops.cli import main  # noqa: E402


def _condition(canary: list[str] | None) -> Any:
    if not canary:
        return None
    from gitops.targets.local import LocalEngine

    state, env, endpoint, deployment, n = canary
    engine = LocalEngine(Path(state), env)
    return more_requests(router_requests(engine, endpoint, deployment), int(n))


def run(argv: list[str]) -> int:
    if "--" not in argv:
        raise SystemExit("usage: apply_with_step_clock.py [options] -- <mlops arguments>")
    split = argv.index("--")
    p = argparse.ArgumentParser()
    p.add_argument("--hold-after", type=int, required=True)
    p.add_argument("--canary", nargs=5, metavar=("STATE", "ENV", "ENDPOINT", "DEPLOYMENT", "N"))
    p.add_argument("--fake-arm", nargs=3, metavar=("URL", "CA", "PORT"))
    p.add_argument("--metrics", nargs=2, metavar=("URL", "CA"))
    p.add_argument("--start", type=float, help="the clock's starting value (default: now)")
    args = p.parse_args(argv[:split])
    clock = StepClock(_condition(args.canary), start=args.start, patience_s=600)
    clock.hold_after = args.hold_after
    commands.RUNNER_OPTIONS.update(clock.options())
    if args.fake_arm:
        from fake_arm import client_options

        url, ca, port = args.fake_arm
        # Inherited from the test process, it names the test's own fake cloud, unknown here.
        os.environ["AZUREML_CURRENT_CLOUD"] = "AzureCloud"

        class _Endpoint:  # what client_options reads of a FakeArm
            def __init__(self) -> None:
                self.url, self.ca_path, self.port = url, Path(ca), int(port)

        commands.TARGET_OPTIONS.update(client_options(_Endpoint()))  # type: ignore[arg-type]
    if args.metrics:
        commands.TARGET_OPTIONS["metrics_options"] = {
            "metrics_endpoint": args.metrics[0],
            "connection_verify": args.metrics[1],
        }
    return main(argv[split + 1 :])


if __name__ == "__main__":
    sys.exit(run(sys.argv[1:]))
