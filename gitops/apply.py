"""Execute a plan safely.

Per endpoint, actions run one at a time in phase order (endpoint, deployments at 0 % traffic
waited on until healthy, traffic, monitors, deletions); endpoints run in parallel up to the
configured concurrency. A failure stops the rest of *that* endpoint's actions (so a failed
deployment never receives traffic and nothing is deleted behind it) while other endpoints go on.
"""

from __future__ import annotations

import copy
import io
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gitops.desired import ROLLOUT_TAG_PREFIX, TAG_REVISION, TAG_SPEC_HASH, DesiredState
from gitops.plan import Action, Plan, ownership_tags
from gitops.targets.base import ActualState, Target


@dataclass
class ActionResult:
    action: Action
    status: str  # ok | failed | skipped
    message: str = ""
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.action.kind,
            "resource": self.action.resource,
            "status": self.status,
            "message": self.message,
            "seconds": round(self.seconds, 3),
        }


def git_revision(path: Path) -> str:
    try:
        out = subprocess.run(
            ["git", "-C", str(path), "rev-parse", "--short=12", "HEAD"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    rev = out.stdout.strip()
    if not rev:
        return "unknown"
    dirty = subprocess.run(
        ["git", "-C", str(path), "status", "--porcelain", "--", "."],
        capture_output=True,
        text=True,
        timeout=10,
        check=False,
    )
    return rev + ("-dirty" if dirty.stdout.strip() else "")


class _Discard(io.TextIOBase):
    def write(self, s: str) -> int:
        return len(s)


@contextmanager
def sdk_stdout_silenced() -> Iterator[None]:
    """azure-ai-ml's pollers print progress dots to stdout from worker threads; keep stdout clean
    for `--output json` by swallowing them while the SDK runs."""
    saved = sys.stdout
    sys.stdout = _Discard()
    try:
        yield
    finally:
        sys.stdout = saved


class Executor:
    def __init__(
        self,
        plan: Plan,
        desired: DesiredState,
        actual: ActualState,
        target: Target,
        revision: str,
        on_event: Callable[[str, Action, ActionResult | None], None] | None = None,
        skip_analysis: bool = False,
        log: Callable[[str], None] | None = None,
        runner_options: dict[str, Any] | None = None,
    ):
        self.plan = plan
        self.desired = desired
        self.actual = actual
        self.target = target
        self.revision = revision
        self.on_event = on_event or (lambda *_: None)
        self.settings = desired.manifest.apply
        self._lock = threading.Lock()
        self.results: list[ActionResult] = []
        self.skip_analysis = skip_analysis
        self.log = log or (lambda msg: print(msg, file=sys.__stderr__, flush=True))
        self._messages: dict[int, str] = {}
        self.runner_options = dict(runner_options or {})  # sleep/clock for the rollout runner

    def _tags(self, user: dict[str, str] | None, spec: str | None = None) -> dict[str, str]:
        tags = {**(user or {}), **ownership_tags(self.desired), TAG_REVISION: self.revision}
        if spec:
            tags[TAG_SPEC_HASH] = spec
        return tags

    def run(self) -> list[ActionResult]:
        groups: dict[str, list[Action]] = {}
        for i, a in enumerate(self.plan.actions):
            groups.setdefault(a.endpoint or f"\0{i}", []).append(a)
        for acts in groups.values():
            acts.sort(key=lambda a: a.phase)
        workers = max(1, min(self.settings.concurrency, len(groups)))
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="mlops-apply") as pool:
            list(pool.map(self._run_group, groups.values()))
        order = {id(a): i for i, a in enumerate(self.plan.actions)}
        self.results.sort(key=lambda r: order[id(r.action)])
        return self.results

    def _record(self, result: ActionResult) -> None:
        with self._lock:
            self.results.append(result)
        self.on_event("done", result.action, result)

    def _healthy_before(self, endpoint: str) -> set[str]:
        have = self.actual.endpoints.get(endpoint)
        if have is None:
            return set()
        return {n.lower() for n, d in have.deployments.items() if d.provisioning_state.lower() == "succeeded"}

    def _run_group(self, actions: list[Action]) -> None:
        failed_deployments: list[str] = []
        # Deployments known to be healthy on this endpoint: traffic may only go to these.
        healthy = self._healthy_before(actions[0].endpoint) if actions[0].endpoint else set()
        stop_reason = ""
        for action in actions:
            if not stop_reason and failed_deployments and action.phase >= 3:
                stop_reason = (
                    f"skipped: deployment {', '.join(failed_deployments)} failed, traffic left unchanged"
                )
            if stop_reason:
                self._record(ActionResult(action, "skipped", stop_reason))
                continue
            self.on_event("start", action, None)
            started = time.monotonic()
            try:
                if action.phase == 2:
                    healthy.discard((action.name or "").lower())
                if action.kind in ("set_traffic", "set_mirror", "rollout"):
                    self._check_traffic_targets(action, healthy)
                self._execute(action)
            except Exception as exc:  # noqa: BLE001 - a failed action is reported and isolates its endpoint only
                text = str(exc).strip()
                msg = text.splitlines()[0] if text else type(exc).__name__
                self._record(ActionResult(action, "failed", msg, time.monotonic() - started))
                if action.phase == 2:
                    # Sibling deployments still roll out; traffic and deletions for this endpoint wait.
                    failed_deployments.append(action.name or action.resource)
                else:
                    stop_reason = f"skipped: {action.kind} {action.resource} failed"
                continue
            if action.phase == 2:
                healthy.add((action.name or "").lower())
            self._record(
                ActionResult(action, "ok", self._messages.get(id(action), ""), time.monotonic() - started)
            )

    def _check_traffic_targets(self, action: Action, healthy: set[str]) -> None:
        ep = self.desired.endpoints[action.name or ""]
        wanted = {k.lower() for k, v in {**ep.traffic, **ep.mirror_traffic}.items() if v}
        unhealthy = sorted(wanted - healthy)
        if unhealthy:
            raise RuntimeError(
                f"refusing to send traffic to {', '.join(unhealthy)}: not healthy on {ep.name}; traffic left unchanged"
            )

    def _execute(self, action: Action) -> None:
        kind = action.kind
        d = self.desired
        t = self.target
        if kind in ("create_endpoint", "update_endpoint"):
            want = d.endpoints[action.name or ""]
            entity = copy.deepcopy(want.entity)
            entity.tags = self._tags(want.entity.tags)
            have = self.actual.endpoints.get(want.name)
            # Traffic changes only in the traffic phase, after new deployments are healthy.
            entity.traffic = dict(have.traffic) if have else {}
            entity.mirror_traffic = dict(have.mirror_traffic) if have else {}
            if have:
                # The rollout progress record lives in these tags (azureml); an endpoint update keeps it.
                entity.tags.update({k: v for k, v in have.tags.items() if k.startswith(ROLLOUT_TAG_PREFIX)})
            t.create_or_update_endpoint(entity)
        elif kind in ("create_deployment", "update_deployment", "replace_deployment"):
            ep = d.endpoints[action.endpoint or ""]
            want_dep = ep.deployments[action.name or ""]
            entity = copy.deepcopy(want_dep.entity)
            entity.tags = self._tags(want_dep.entity.tags, want_dep.spec_hash)
            if kind == "replace_deployment":
                t.delete_deployment(ep.name, want_dep.name)
            t.create_or_update_deployment(entity, self.settings.deployment_timeout_minutes * 60.0)
        elif kind in ("set_traffic", "set_mirror"):
            ep = d.endpoints[action.name or ""]
            traffic = {k.lower(): v for k, v in ep.traffic.items() if v}
            mirror = {k.lower(): v for k, v in ep.mirror_traffic.items() if v}
            t.set_traffic(ep.name, traffic, mirror)
        elif kind == "rollout":
            self._messages[id(action)] = self._rollout(action)
        elif kind in ("create_monitor", "update_monitor", "enable_monitor"):
            mon = d.monitors[action.name or ""]
            entity = copy.deepcopy(mon.entity)
            entity.tags = self._tags(mon.entity.tags, mon.spec_hash)
            t.create_or_update_monitor(entity)
        elif kind == "delete_monitor":
            t.delete_monitor(action.name or "")
        elif kind == "delete_deployment":
            t.delete_deployment(action.endpoint or "", action.name or "")
        elif kind == "delete_endpoint":
            t.delete_endpoint(action.name or "")
        else:
            raise NotImplementedError(f"action kind {kind!r} is not implemented")

    def _rollout(self, action: Action) -> str:
        from gitops.rollout.runner import RolloutRunner
        from gitops.rollout.spec import RolloutPlan

        if action.rollout is None:
            raise RuntimeError(f"rollout action for {action.resource} carries no steps; re-run `mlops plan`")
        plan = RolloutPlan.from_dict(action.rollout)
        provider = None
        if not self.skip_analysis and any(s.analysed and s.duration_s > 0 for s in plan.steps):
            provider = self.target.metrics_provider(plan.analysis.provider)  # type: ignore[attr-defined]
        runner = RolloutRunner(
            self.target,
            action.name or "",
            plan,
            provider,
            self.revision,
            self.log,
            self.skip_analysis,
            **self.runner_options,
        )
        return runner.run()
