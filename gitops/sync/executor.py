"""Execute a plan safely.

Per endpoint, actions run one at a time in phase order (:class:`gitops.model.vocab.Phase`:
endpoint, deployments at 0 % traffic waited on until healthy, traffic, monitors, deletions);
endpoints run in parallel up to ``apply.concurrency``. A failure stops the rest of *that*
endpoint's actions (a failed deployment never receives traffic and nothing is deleted behind
it) while other endpoints go on. What each action does is in :mod:`gitops.sync.handlers`.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Protocol

from gitops.desired import DesiredState
from gitops.model.traffic import wanted as traffic_wanted
from gitops.model.vocab import Health, Phase
from gitops.plan import Action, Plan
from gitops.sync.context import SyncContext, SyncOptions
from gitops.sync.handlers import handler_for
from gitops.sync.result import ActionResult, ResultStatus
from gitops.targets.base import ActualState, Target


class SyncObserver(Protocol):
    """Progress hooks (the apply views implement them). Called from worker threads."""

    def action_started(self, action: Action) -> None: ...

    def action_finished(self, result: ActionResult) -> None: ...


class _Silent:
    def action_started(self, action: Action) -> None:
        return None

    def action_finished(self, result: ActionResult) -> None:
        return None


def _phase(action: Action) -> Phase:
    return action.kind.phase


def _first_line(exc: Exception) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


@dataclass
class _EndpointRun:
    """The state one endpoint's sequence carries from action to action."""

    # Deployments known to be healthy on this endpoint: traffic may only go to these.
    healthy: set[str]
    failed_deployments: list[str] = field(default_factory=list)
    stop_reason: str = ""

    def skip_reason(self, action: Action) -> str:
        if not self.stop_reason and self.failed_deployments and _phase(action) >= Phase.TRAFFIC:
            failed = ", ".join(self.failed_deployments)
            self.stop_reason = f"skipped: deployment {failed} failed, traffic left unchanged"
        return self.stop_reason

    def failed(self, action: Action) -> None:
        if _phase(action) is Phase.DEPLOYMENTS:
            # Sibling deployments still roll out; traffic and deletions for this endpoint wait.
            self.failed_deployments.append(action.name or action.resource)
        else:
            self.stop_reason = f"skipped: {action.kind} {action.resource} failed"


class Executor:
    def __init__(
        self,
        plan: Plan,
        desired: DesiredState,
        actual: ActualState,
        target: Target,
        *,
        options: SyncOptions | None = None,
        observer: SyncObserver | None = None,
    ) -> None:
        self.plan = plan
        self.context = SyncContext(desired, actual, target, options or SyncOptions())
        self.observer: SyncObserver = observer or _Silent()
        self.results: list[ActionResult] = []
        self._lock = threading.Lock()

    def run(self) -> list[ActionResult]:
        """Every action's result, in plan order."""
        if not self._run_assets():
            return self._sorted()
        groups: dict[str, list[Action]] = {}
        for i, a in enumerate(self.plan.actions):
            if _phase(a) is not Phase.ASSETS:
                groups.setdefault(a.endpoint or f"\0{i}", []).append(a)
        for acts in groups.values():
            acts.sort(key=_phase)
        workers = max(1, min(self.context.settings.concurrency, len(groups)))
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="mlops-apply") as pool:
            list(pool.map(self._run_group, groups.values()))
        return self._sorted()

    def _run_assets(self) -> bool:
        """Models and environments, one at a time, before any endpoint group: deployments in
        every group may reference them. A failure skips everything else (a deployment would
        otherwise be sent to a version that does not exist)."""
        assets = [a for a in self.plan.actions if _phase(a) is Phase.ASSETS]
        run = _EndpointRun(healthy=set())
        for action in assets:
            self._run_action(action, run)
        if not run.stop_reason:
            return True
        for action in self.plan.actions:
            if _phase(action) is not Phase.ASSETS:
                self._record(ActionResult(action, ResultStatus.SKIPPED, run.stop_reason))
        return False

    def _sorted(self) -> list[ActionResult]:
        order = {id(a): i for i, a in enumerate(self.plan.actions)}
        self.results.sort(key=lambda r: order[id(r.action)])
        return self.results

    def _record(self, result: ActionResult) -> None:
        with self._lock:
            self.results.append(result)
        self.observer.action_finished(result)

    def _healthy_before(self, endpoint: str | None) -> set[str]:
        have = self.context.actual.endpoints.get(endpoint or "")
        if have is None:
            return set()
        return {n.lower() for n, d in have.deployments.items() if d.health is Health.HEALTHY}

    def _run_group(self, actions: list[Action]) -> None:
        run = _EndpointRun(healthy=self._healthy_before(actions[0].endpoint))
        for action in actions:
            reason = run.skip_reason(action)
            if reason:
                self._record(ActionResult(action, ResultStatus.SKIPPED, reason))
            else:
                self._run_action(action, run)

    def _run_action(self, action: Action, run: _EndpointRun) -> None:
        self.observer.action_started(action)
        started = time.monotonic()
        deployment = _phase(action) is Phase.DEPLOYMENTS
        name = (action.name or "").lower()
        try:
            if deployment:
                run.healthy.discard(name)
            if action.kind.changes_traffic:
                self._check_traffic_targets(action, run.healthy)
            message = handler_for(action.kind)(self.context, action)
        except Exception as exc:  # noqa: BLE001 - a failed action is reported and isolates its endpoint only
            self._record(
                ActionResult(action, ResultStatus.FAILED, _first_line(exc), time.monotonic() - started)
            )
            run.failed(action)
            return
        if deployment:
            run.healthy.add(name)
        self._record(ActionResult(action, ResultStatus.OK, message, time.monotonic() - started))

    def _check_traffic_targets(self, action: Action, healthy: set[str]) -> None:
        ep = self.context.endpoint(action.name)
        have = self.context.actual.endpoints.get(ep.name)
        live = traffic_wanted(ep.traffic, have.traffic if have else None)
        mirror = traffic_wanted(ep.mirror_traffic, have.mirror_traffic if have else None)
        wanted = {k for k, v in {**live, **mirror}.items() if v}
        unhealthy = sorted(wanted - healthy)
        if unhealthy:
            raise RuntimeError(
                f"refusing to send traffic to {', '.join(unhealthy)}: not healthy on {ep.name}; "
                "traffic left unchanged"
            )
